"""Writes for analyses: queueing, starting, completing and failing a run, each with its custody event.

These are the only functions that change an evidence item's analysis status and verdict.
"""

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from cases.models import AnalysisStatus, EvidenceItem
from custody.ledger import custody_event_record
from custody.models import Action

from .models import Analysis

SYSTEM_ACTOR = "analysis"
MAX_ATTEMPTS = 3


@transaction.atomic
def analysis_queue(*, item: EvidenceItem, reason: str, actor=None) -> Analysis:
    """Create a queued analysis and hand it to the task cluster once the surrounding transaction commits."""
    analysis = Analysis.objects.create(evidence=item, reason=reason, requested_by=actor)
    _item_status(item, AnalysisStatus.QUEUED)
    custody_event_record(
        organisation=item.case.organisation,
        action=Action.ANALYSIS_QUEUED,
        actor=actor,
        system="" if actor else SYSTEM_ACTOR,
        evidence=item,
        details={"analysis": str(analysis.public_id), "reason": reason},
    )
    transaction.on_commit(lambda: async_task("forensics.tasks.analyse_evidence", analysis.pk, group="analysis"))
    return analysis


@transaction.atomic
def analysis_start(*, analysis_id: int) -> Analysis | None:
    """Claim a queued analysis for this worker; None when it is finished or another worker holds it."""
    analysis = Analysis.objects.select_for_update().select_related("evidence__case__organisation").get(pk=analysis_id)
    if analysis.status in {AnalysisStatus.DONE, AnalysisStatus.FAILED}:
        return None
    # A run still marked running past the task timeout belongs to a worker that died; it may be taken over.
    abandoned_before = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"] + 60)
    if analysis.status == AnalysisStatus.RUNNING and analysis.started_at > abandoned_before:
        return None
    if analysis.attempts >= MAX_ATTEMPTS:
        _finish_failed(analysis, f"Gave up after {analysis.attempts} attempts that did not finish.")
        return None
    analysis.status, analysis.started_at = AnalysisStatus.RUNNING, timezone.now()
    analysis.attempts += 1
    analysis.save(update_fields=["status", "started_at", "attempts"])
    _item_status(analysis.evidence, AnalysisStatus.RUNNING)
    _record(analysis, Action.ANALYSIS_STARTED, {"attempt": analysis.attempts})
    return analysis


@transaction.atomic
def analysis_complete(*, analysis: Analysis, result: dict, evaluation: dict) -> Analysis:
    analysis.result = result
    analysis.findings = evaluation["findings"]
    analysis.verdict = evaluation["verdict_code"]
    analysis.ruleset_version = evaluation["ruleset_version"]
    analysis.engine_version = result.get("engine_version", "")
    analysis.tool_versions = result.get("tool_versions", {})
    analysis.result_sha256 = _digest({"result": result, "evaluation": evaluation})
    analysis.status, analysis.finished_at = AnalysisStatus.DONE, timezone.now()
    analysis.save()
    item = analysis.evidence
    item.verdict = analysis.verdict
    _item_status(item, AnalysisStatus.DONE, also=["verdict"])
    _record(
        analysis,
        Action.ANALYSIS_COMPLETED,
        {
            "verdict": analysis.verdict,
            "ruleset_version": analysis.ruleset_version,
            "tool_versions": analysis.tool_versions,
            "findings": [f["rule_id"] for f in analysis.findings],
            "result_sha256": analysis.result_sha256,
        },
    )
    return analysis


@transaction.atomic
def analysis_fail(*, analysis: Analysis, error: str) -> Analysis:
    _finish_failed(analysis, error)
    return analysis


def _finish_failed(analysis: Analysis, error: str) -> None:
    analysis.status, analysis.finished_at, analysis.error = AnalysisStatus.FAILED, timezone.now(), error
    analysis.save(update_fields=["status", "finished_at", "error"])
    _item_status(analysis.evidence, AnalysisStatus.FAILED)
    _record(analysis, Action.ANALYSIS_FAILED, {"error": error[:2000]})


def _item_status(item: EvidenceItem, status: AnalysisStatus, also: list[str] | None = None) -> None:
    item.analysis_status = status
    item.save(update_fields=["analysis_status", *(also or [])])


def _record(analysis: Analysis, action: Action, details: dict) -> None:
    item = analysis.evidence
    custody_event_record(
        organisation=item.case.organisation,
        action=action,
        system=SYSTEM_ACTOR,
        evidence=item,
        details={"analysis": str(analysis.public_id), **details},
    )


def _digest(value: dict) -> str:
    """SHA-256 of the stored result, so the custody record pins exactly what the analysis produced."""
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(encoded.encode()).hexdigest()
