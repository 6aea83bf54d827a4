"""Stored analyses: one row per run of the engine on an evidence item, kept when the item is re-analysed."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.choice_labels import ChoiceLabels
from cases.models import AnalysisStatus, EvidenceItem, Verdict

from .rules import VERDICTS


class Analysis(ChoiceLabels):
    evidence = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="analyses")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=AnalysisStatus.choices, default=AnalysisStatus.QUEUED)
    reason = models.CharField(max_length=40)  # "upload", "reanalysis"
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Until when the queue (queued) or the claiming worker (running) holds the run; see cases/task_runs.py.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Everything needed to reproduce the verdict: the rule set and every tool's version.
    ruleset_version = models.CharField(max_length=20, blank=True)
    engine_version = models.CharField(max_length=40, blank=True)
    tool_versions = models.JSONField(default=dict)
    result = models.JSONField(default=dict)
    findings = models.JSONField(default=list)
    verdict = models.CharField(max_length=12, choices=Verdict.choices, blank=True)
    result_sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["evidence", "-queued_at", "-id"]
        get_latest_by = "queued_at"
        verbose_name_plural = _("analyses")
        indexes = [models.Index(fields=["status", "lease_expires_at"], name="analysis_status_lease")]

    def __str__(self) -> str:
        return f"Analysis {self.public_id} of {self.evidence_id}: {self.status}"

    @property
    def verdict_sentence(self) -> str:
        """The verdict in the words of the engine that reached it (forensics.rules): part of the result, as
        exports and the API carry it, in English whatever the reader's language; pages show Verdict's labels."""
        return VERDICTS[self.verdict] if self.verdict else ""
