"""The case-management domain: organisations (tenants), memberships with roles, cases, evidence items.

Every tenant-owned row reaches its organisation directly or through its case, and every read of a user-supplied
id goes through a `for_member` queryset so that a foreign id is indistinguishable from a missing one.
"""

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .choice_labels import ChoiceLabels
from .media_types import type_mismatches
from .roles import Reach, Role, Scope, scope_reach


class OrganisationQuerySet(models.QuerySet):
    def lock(self, organisation_id: int) -> "Organisation":
        """Lock the organisation row for this transaction. Every write of an organisation takes this lock first
        (custody appends, case numbering and ingest included), so its writers queue in one order and cannot
        deadlock on each other's rows."""
        return self.select_for_update().get(pk=organisation_id)


class OrganisationKind(models.TextChoices):
    LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
    LEGAL_AID = "legal_aid", _("Legal aid")


class RetentionPolicy(models.TextChoices):
    KEEP = "keep", _("Keep media until deleted by hand")
    AFTER_DAYS = "after_days", _("Delete media a set number of days after analysis")
    PRIVACY_FIRST = "privacy_first", _("Privacy first: delete media as soon as analysis and report are done")


# A new organisation starts with the policy its kind needs: police keep evidence for years, while a legal-aid
# organisation should not hold a victim's images a day longer than the analysis and report need them.
DEFAULT_RETENTION = {
    OrganisationKind.LAW_ENFORCEMENT: RetentionPolicy.KEEP,
    OrganisationKind.LEGAL_AID: RetentionPolicy.PRIVACY_FIRST,
}
DEFAULT_RETENTION_DAYS = 90

# Police units handle evidence for prosecutions: their members need a second factor unless an administrator decides
# otherwise; a legal-aid organisation starts without the requirement (its members may still enrol).
DEFAULT_TWO_FACTOR_REQUIRED = {OrganisationKind.LAW_ENFORCEMENT: True, OrganisationKind.LEGAL_AID: False}


class Organisation(ChoiceLabels):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Existing and unspecified organisations are law enforcement: the kind whose default deletes nothing.
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices, default=OrganisationKind.LAW_ENFORCEMENT)
    retention_policy = models.CharField(max_length=20, choices=RetentionPolicy.choices, default=RetentionPolicy.KEEP)
    # Used by the AFTER_DAYS policy only.
    retention_days = models.PositiveIntegerField(default=DEFAULT_RETENTION_DAYS)
    # Members must sign in with a second factor (cases/two_factor.py); set from the kind when created.
    two_factor_required = models.BooleanField(default=True)
    # Last case number handed out; incremented under a row lock so references are unique and gapless.
    case_counter = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def retention_summary(self) -> str:
        if self.retention_policy == RetentionPolicy.AFTER_DAYS:
            return gettext("Delete media %(days)d days after analysis") % {"days": self.retention_days}
        return RetentionPolicy(self.retention_policy).label


class Membership(ChoiceLabels):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")]
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} as {self.role}"

    def reach(self, scope: Scope) -> Reach | None:
        return scope_reach(self.role, scope)

    def has_scope(self, scope: Scope) -> bool:
        return self.reach(scope) is not None

    def can(self, scope: Scope, case: "Case") -> bool:
        """Whether this member holds `scope` on `case` (which must belong to the member's organisation)."""
        if case.organisation_id != self.organisation_id:
            return False
        reach = self.reach(scope)
        if reach is Reach.ALL:
            return True
        return reach is Reach.INVOLVED and case.involves(self.user_id)


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    REVOKED = "revoked", _("Revoked")


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> "InvitationQuerySet":
        return self.filter(status=InvitationStatus.PENDING)

    def for_invitee(self, user) -> "InvitationQuerySet":
        """The pending invitations offered to this account."""
        return self.pending().filter(invitee_id=user.pk)


class Invitation(ChoiceLabels):
    """An administrator's offer of a role to an account, which only its holder can accept or decline.

    Made alike whether the username exists or not, so inviting is no way to learn which accounts exist; `invitee`
    is the active account of that name when the invitation was sent, and an invitation without one is never
    offered to anybody (not even to an account given that name later)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    username = models.CharField(max_length=150)
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="invitations", editable=False
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    status = models.CharField(max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "username"],
                condition=Q(status="pending"),
                name="one_pending_invitation_per_username",
            )
        ]

    def __str__(self) -> str:
        return f"{self.username} invited to {self.organisation} as {self.role} ({self.status})"


class ApiTokenQuerySet(models.QuerySet):
    def for_member(self, membership: Membership) -> "ApiTokenQuerySet":
        """The tokens this member may list and revoke: the organisation's, or only their own there."""
        tokens = self.filter(organisation_id=membership.organisation_id)
        if membership.reach(Scope.TOKEN_REVOKE) is Reach.ALL:
            return tokens
        if membership.reach(Scope.TOKEN_REVOKE) is Reach.INVOLVED:
            return tokens.filter(user_id=membership.user_id)
        return tokens.none()


def api_token_hash(secret: str) -> str:
    """What is stored of a token, and looked up when one is presented."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    """An API token; only its SHA-256 is stored, the secret is shown once when created. Revoking deletes it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The organisation requests with this token act in: the one it was created for, until its holder switches it.
    # A later membership never moves it; the membership is re-checked on every request. None: it acts nowhere.
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    UNDER_REVIEW = "under_review", _("Under review")
    # Signed off by a supervisor (custody.reviews.review_sign_off): out of every review queue.
    REVIEWED = "reviewed", _("Reviewed")
    CLOSED = "closed", _("Closed")


class CaseQuerySet(models.QuerySet):
    def for_member(self, membership: Membership) -> "CaseQuerySet":
        """The cases this member may see: all of the organisation's, or only those they are involved in."""
        cases = self.filter(organisation_id=membership.organisation_id)
        if membership.reach(Scope.CASE_READ) is Reach.ALL:
            return cases
        if membership.reach(Scope.CASE_READ) is Reach.INVOLVED:
            return cases.involving(membership.user_id)
        return cases.none()

    def involving(self, user_id: int) -> "CaseQuerySet":
        """These cases where the user is the creator or an assignee."""
        # The user's assignments, read by their user index; joined to the assignees instead, the condition read
        # every case of every organisation with its assignees.
        assigned = self.model.assignees.through.objects.filter(user_id=user_id).values("case_id")
        return self.filter(Q(created_by_id=user_id) | Q(pk__in=assigned))


class Case(ChoiceLabels):
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="cases")
    public_id = models.UUIDField("Case ID", default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=40, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="assigned_cases")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A legal hold suspends every deletion of the case's media, by policy or by hand, until it is lifted.
    legal_hold = models.BooleanField(default=False)
    legal_hold_reason = models.TextField(blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "reference"], name="case_reference_unique_in_org")
        ]
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["organisation", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def involves(self, user_id: int) -> bool:
        """Whether the user created the case or is assigned to it."""
        return self.created_by_id == user_id or user_id in self.assignee_ids

    @cached_property
    def assignee_ids(self) -> frozenset[int]:
        """The ids of the case's assignees, read once for this instance: a page checks several permissions on its
        case, and each asks who is involved. Whoever changes the assignees forgets them (services.case_assign)."""
        return frozenset(self.assignees.values_list("pk", flat=True))

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.CLOSED


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Note by {self.author} on {self.case}"


class AnalysisStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Verdict(models.TextChoices):
    OK = "ok", _("No obvious signs of tampering detected")
    ATTENTION = "attention", _("Potential integrity anomalies detected")
    COMPROMISED = "compromised", _("Integrity compromised")


class EvidenceItemQuerySet(models.QuerySet):
    def for_member(self, membership: Membership) -> "EvidenceItemQuerySet":
        return self.filter(case__in=Case.objects.for_member(membership))

    def in_organisation(self, organisation: Organisation) -> "EvidenceItemQuerySet":
        return self.filter(case__organisation=organisation)

    def media_held(self) -> "EvidenceItemQuerySet":
        return self.filter(media_deleted_at__isnull=True)


class EvidenceItem(ChoiceLabels):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence")
    public_id = models.UUIDField("Evidence ID", default=uuid.uuid4, unique=True, editable=False)
    # As the client sent it, with control characters made visible; data only, never part of a path.
    original_filename = models.CharField(max_length=1024)
    declared_mime_type = models.CharField(max_length=255, blank=True)
    detected_mime_type = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    storage_key = models.CharField(max_length=255)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acquired_from = models.CharField("found at (URL or platform)", max_length=2000, blank=True)
    acquired_by = models.CharField("collected by", max_length=200, blank=True)
    acquired_at = models.DateTimeField("collected at", null=True, blank=True)
    analysis_status = models.CharField(max_length=10, choices=AnalysisStatus.choices, default=AnalysisStatus.QUEUED)
    verdict = models.CharField(max_length=12, choices=Verdict.choices, blank=True)
    # The latest finished analysis's answers to "AI? edited? signed? metadata?" (forensics.assessment), kept beside
    # the verdict so that lists and counts read them without loading any analysis.
    assessment = models.JSONField(default=dict, blank=True)
    # Set when the stored bytes were deleted (retention or by hand); the item, hashes and findings stay.
    media_deleted_at = models.DateTimeField(null=True, blank=True)
    media_deleted_reason = models.CharField(max_length=500, blank=True)

    objects = EvidenceItemQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            models.Index(fields=["case", "received_at"]),
            # The dashboard's "in progress" list, oldest first: an index of the few queued or running items only,
            # read in its order, so the list stops after its first rows however many items were received.
            models.Index(
                fields=["received_at", "id"],
                condition=Q(analysis_status__in=[AnalysisStatus.QUEUED, AnalysisStatus.RUNNING]),
                name="evidence_in_progress",
            ),
            # The case list's "has an item with verdict" filter: the cases of the items with one verdict, read from
            # the index (SQLite: from it alone) instead of every item of the organisation. 100,000 items: its count
            # from 35 to 5 ms on SQLite, 29 to 12 ms on PostgreSQL (which checks each entry in the table until a
            # vacuum marks its pages all-visible).
            models.Index(fields=["verdict", "case"], name="evidence_verdict_case"),
        ]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.public_id})"

    def digest(self, algorithm: str) -> str:
        """The hex digest for `algorithm`; reads prefetched digests when present."""
        return next(d.value for d in self.digests.all() if d.algorithm == algorithm)

    @property
    def sha256(self) -> str:
        return self.digest(DigestAlgorithm.SHA256)

    @property
    def digest_list(self) -> list[tuple[str, str]]:
        """(algorithm label, hex value) pairs, strongest first, for display and reports."""
        values = {d.algorithm: d.value for d in self.digests.all()}
        return [(alg.label, values[alg.value]) for alg in DigestAlgorithm if alg.value in values]

    @property
    def media_held(self) -> bool:
        return self.media_deleted_at is None

    @property
    def media_deleted_message(self) -> str:
        """What a user sees instead of a download once the media is gone."""
        return gettext(
            "Media deleted on %(when)s UTC (%(reason)s). The item, its hashes, metadata, findings, reports and "
            "custody record are kept."
        ) % {"when": f"{self.media_deleted_at:%Y-%m-%d %H:%M}", "reason": self.media_deleted_reason}

    def duplicate_shown_to(self, membership: Membership) -> "EvidenceItem | None":
        """The earlier item with identical bytes, if the member may open its case; None otherwise (a member who
        sees only their own cases is told that a copy exists, not which file or case holds it)."""
        earlier = self.duplicate_of
        if earlier is None or not Case.objects.for_member(membership).filter(pk=earlier.case_id).exists():
            return None
        return earlier

    def duplicate_message(self, membership: Membership) -> str:
        """The sentence telling the uploader where identical bytes were received before ("" when not a copy)."""
        if self.duplicate_of_id is None:
            return ""
        earlier = self.duplicate_shown_to(membership)
        if earlier is None:
            return gettext("Identical bytes were already received in a case of the organisation that you cannot open.")
        return gettext(
            "Identical bytes were already received as “%(filename)s” in case %(reference)s (%(title)s) on %(date)s."
        ) % {
            "filename": earlier.original_filename,
            "reference": earlier.case.reference,
            "title": earlier.case.title,
            "date": f"{earlier.received_at:%Y-%m-%d}",
        }

    @property
    def type_mismatches(self) -> list[str]:
        return type_mismatches(
            detected=self.detected_mime_type, declared=self.declared_mime_type, filename=self.original_filename
        )


class DigestAlgorithm(models.TextChoices):
    SHA256 = "sha256", _("SHA-256")
    SHA1 = "sha1", _("SHA-1")
    MD5 = "md5", _("MD5")


class Tally(ChoiceLabels):
    """How many evidence items share one state (analysis status, verdict, the four assessment answers) and one UTC
    day of receipt: the dashboard's counts, kept by the services that write those fields, in the same transaction
    (cases.tallies), so that a visit reads a few rows instead of every item."""

    received_on = models.DateField()
    analysis_status = models.CharField(max_length=10, choices=AnalysisStatus.choices)
    verdict = models.CharField(max_length=12, choices=Verdict.choices, blank=True)
    ai_declared = models.BooleanField()
    edited = models.BooleanField()
    signature_broken = models.BooleanField()
    metadata_removed = models.BooleanField()
    count = models.IntegerField(default=0)

    STATE = [
        "received_on",
        "analysis_status",
        "verdict",
        "ai_declared",
        "edited",
        "signature_broken",
        "metadata_removed",
    ]

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.received_on} {self.analysis_status} {self.verdict or '-'}: {self.count}"


class EvidenceTally(Tally):
    """The tallies of all of an organisation's items: what a member who sees every case is shown."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", *Tally.STATE], name="evidence_tally_state")]


class CaseEvidenceTally(Tally):
    """The tallies of one case's items: what a member who sees only some cases is shown, summed over those cases."""

    # Looked up by the constraint's and the index's leading column: no index of its own.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", *Tally.STATE], name="case_evidence_tally_state")]
        # A member's dashboard sums the tallies of hundreds of cases: this index holds all it reads (count too), so
        # the database answers from it alone instead of fetching each tally row from the table.
        indexes = [models.Index(fields=["case", *Tally.STATE, "count"], name="case_evidence_tally_read")]


class EvidenceDigest(ChoiceLabels):
    """One digest of the bytes as received, with the algorithm that produced it stored beside the value."""

    item = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="digests")
    algorithm = models.CharField(max_length=10, choices=DigestAlgorithm.choices)
    value = models.CharField(max_length=128)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "algorithm"], name="one_digest_per_algorithm")]
        indexes = [models.Index(fields=["algorithm", "value"])]
        ordering = ["item", "algorithm"]

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value}"
