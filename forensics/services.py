"""Writes for analyses: queueing, starting, completing, failing and re-queueing a run, each with its custody event.

These are the only functions that change an evidence item's analysis status and verdict.
"""

import hashlib
import json

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from cases.exceptions import Refused
from cases.models import AnalysisStatus, EvidenceItem, Organisation
from cases.tallies import item_state, tally_key, tally_move
from cases.task_runs import Claim, exhausted_message, lease_length, run_claim, run_requeue, run_still_claimed
from custody.ledger import custody_event_record
from custody.models import Action

from .assessment import assessment_make
from .models import Analysis
from .rules import ruleset_version


class MediaNotHeld(Refused):
    status_code = 409


SYSTEM_ACTOR = "analysis"
ANALYSE_TASK = "forensics.tasks.analyse_evidence"
PENDING = (AnalysisStatus.QUEUED, AnalysisStatus.RUNNING)


def reanalysis_useful(analysis: Analysis | None) -> bool:
    """Whether analysing the item again can tell something new: it was never analysed, its latest analysis failed,
    or that analysis was made under another rule set. (The engine is deterministic: the same rule set on the same
    bytes gives the same findings, and a run still queued or running would only be superseded.)"""
    if analysis is None:
        return True
    if analysis.status in PENDING:
        return False
    return analysis.status == AnalysisStatus.FAILED or analysis.ruleset_version != ruleset_version()


@transaction.atomic
def analysis_queue(*, item: EvidenceItem, reason: str, actor=None) -> Analysis:
    """Create a queued analysis and hand it to the task cluster once the surrounding transaction commits.

    An earlier analysis of the item that has not finished is closed as failed, superseded by this one, so that
    no item keeps a run that stays queued or running for ever (one whose task was lost, say)."""
    if not item.media_held:
        raise MediaNotHeld(item.media_deleted_message)
    Organisation.objects.lock(item.case.organisation_id)
    analysis = Analysis.objects.create(
        evidence=item, reason=reason, requested_by=actor, lease_expires_at=timezone.now() + lease_length()
    )
    for earlier in item.analyses.select_for_update().filter(status__in=PENDING).exclude(pk=analysis.pk):
        earlier.evidence = item
        _finish_failed(earlier, f"Superseded by analysis {analysis.public_id}, requested before this one finished.")
    _item_status(item, AnalysisStatus.QUEUED)
    custody_event_record(
        organisation=item.case.organisation,
        action=Action.ANALYSIS_QUEUED,
        actor=actor,
        system="" if actor else SYSTEM_ACTOR,
        evidence=item,
        details={"analysis": str(analysis.public_id), "reason": reason},
    )
    _dispatch_after_commit(analysis)
    return analysis


@transaction.atomic
def analysis_start(*, analysis_id: int) -> Analysis | None:
    """Claim a queued analysis for this worker; None when it is finished or another worker holds it."""
    # The organisation first, as every writer of its rows takes it (see Organisation.objects.lock); then the
    # analysis row alone. Locking the whole join at once let two workers take the rows in opposite orders and
    # deadlock on PostgreSQL, which the Redis-broker suite's two clusters showed.
    _organisation_lock(analysis_id)
    related = Analysis.objects.select_related("evidence__case__organisation")
    analysis = related.select_for_update(of=("self",)).get(pk=analysis_id)
    claim = run_claim(analysis)
    if claim is Claim.EXHAUSTED:
        _finish_failed(analysis, exhausted_message(analysis))
    if claim is not Claim.CLAIMED:
        return None
    _item_status(analysis.evidence, AnalysisStatus.RUNNING)
    _record(analysis, Action.ANALYSIS_STARTED, {"attempt": analysis.attempts})
    return analysis


@transaction.atomic
def analysis_requeue(*, analysis_id: int) -> bool:
    """Queue again an analysis whose worker is gone (its lease lapsed) or whose task was lost; False when a
    worker or the queue holds it after all (another sweep was first, or its worker renewed in time)."""
    _organisation_lock(analysis_id)
    analysis = Analysis.objects.select_related("evidence__case__organisation").select_for_update(of=("self",))
    analysis = analysis.get(pk=analysis_id)
    was_running = analysis.status == AnalysisStatus.RUNNING
    if not run_requeue(analysis):
        return False
    if was_running:
        _item_status(analysis.evidence, AnalysisStatus.QUEUED)
        _record(analysis, Action.ANALYSIS_QUEUED, {"reason": "worker lost", "after_attempt": analysis.attempts})
    _dispatch_after_commit(analysis)
    return True


@transaction.atomic
def analysis_complete(*, analysis: Analysis, result: dict, evaluation: dict) -> Analysis | None:
    """Record the outcome; None (nothing written) when the run was taken over after this worker's lease lapsed."""
    _organisation_lock(analysis.pk)
    if not run_still_claimed(analysis):
        return None
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
    item.assessment = assessment_make(analysis.findings, result)
    _item_status(item, AnalysisStatus.DONE, also=["verdict", "assessment"])
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
def analysis_fail(*, analysis: Analysis, error: str) -> Analysis | None:
    """Record the failure; None (nothing written) when the run was taken over after this worker's lease lapsed."""
    _organisation_lock(analysis.pk)
    if not run_still_claimed(analysis):
        return None
    _finish_failed(analysis, error)
    return analysis


def _finish_failed(analysis: Analysis, error: str) -> None:
    analysis.status, analysis.finished_at, analysis.error = AnalysisStatus.FAILED, timezone.now(), error
    analysis.save(update_fields=["status", "finished_at", "error"])
    _item_status(analysis.evidence, AnalysisStatus.FAILED)
    _record(analysis, Action.ANALYSIS_FAILED, {"error": error[:2000]})


def _dispatch_after_commit(analysis: Analysis) -> None:
    transaction.on_commit(lambda: async_task(ANALYSE_TASK, analysis.pk, group="analysis"))


def _organisation_lock(analysis_id: int) -> None:
    """Lock the analysis's organisation before any of its rows, in the one lock order."""
    organisation_id = Analysis.objects.filter(pk=analysis_id).values_list("evidence__case__organisation_id", flat=True)
    Organisation.objects.lock(organisation_id.get())


def _item_status(item: EvidenceItem, status: AnalysisStatus, also: list[str] | None = None) -> None:
    """Save the item's new status (and the fields named in `also`), moving it to its new dashboard tally."""
    stored = item_state(item.pk)
    item.analysis_status = status
    fields = ["analysis_status", *(also or [])]
    item.save(update_fields=fields)
    tally_move(
        organisation_id=item.case.organisation_id,
        case_id=item.case_id,
        before=tally_key(**stored),
        after=tally_key(**{**stored, **{name: getattr(item, name) for name in fields}}),
    )


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
