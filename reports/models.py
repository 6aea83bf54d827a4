"""Stored reports: one row per requested PDF, evidence or case, with the status a user can watch, and once
generated the SHA-256 of the signed PDF, its content-addressed storage key and the checkpoint it is anchored to.

A report belongs to its organisation through its case, so every lookup of a report id goes through `for_member`.
"""

import re
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.choice_labels import ChoiceLabels
from cases.models import Case, EvidenceItem, Membership


class ReportKind(models.TextChoices):
    EVIDENCE = "evidence", _("Evidence report")
    CASE = "case", _("Case report")


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being generated")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ReportQuerySet(models.QuerySet):
    def for_member(self, membership: Membership) -> "ReportQuerySet":
        """The reports of the cases this member may see; anything else is indistinguishable from missing."""
        return self.filter(case__in=Case.objects.for_member(membership))


class Report(ChoiceLabels):
    public_id = models.UUIDField("Report ID", default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=ReportKind.choices)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reports")
    # Set for evidence reports only; a case report covers every item of its case.
    evidence = models.ForeignKey(EvidenceItem, null=True, blank=True, on_delete=models.PROTECT, related_name="reports")
    status = models.CharField(max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Until when the queue (queued) or the claiming worker (running) holds the run; see cases/task_runs.py.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    # Of the final, signed PDF: what the ledger records and what verification looks up.
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    storage_key = models.CharField(max_length=255, blank=True)
    checkpoint = models.ForeignKey(
        "custody.Checkpoint", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error = models.TextField(blank=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["evidence", "-requested_at"]),
            models.Index(fields=["case", "-requested_at"]),
            models.Index(fields=["status", "lease_expires_at"], name="report_status_lease"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind=ReportKind.CASE, evidence__isnull=True)
                | models.Q(kind=ReportKind.EVIDENCE, evidence__isnull=False),
                name="report_evidence_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id} ({self.status})"

    @property
    def is_ready(self) -> bool:
        return self.status == ReportStatus.DONE

    @property
    def filename(self) -> str:
        """`<case reference>-<file name>-report.pdf` (a case report: `<case reference>-case-report.pdf`), with
        every character but letters, digits, dot, hyphen and underscore made an underscore: the client's file name
        is data, and a download name must not carry a path, quotes or control characters to the browser."""
        subject = self.evidence.original_filename if self.evidence_id else "case"
        return f"{download_name_part(self.case.reference)}-{download_name_part(subject)}-report.pdf"


_UNSAFE_IN_NAME = re.compile(r"[^\w.-]+")
DOWNLOAD_NAME_PART_MAX = 80


def download_name_part(text: str) -> str:
    """`text` as part of a download's file name: letters (any script), digits, ".", "-" and "_" only, runs of
    anything else one "_", no leading dot, at most DOWNLOAD_NAME_PART_MAX characters."""
    safe = _UNSAFE_IN_NAME.sub("_", text).strip("._") or "file"
    return safe[:DOWNLOAD_NAME_PART_MAX]
