"""The custody ledger as stored: append-only events chained by hash and signed, and signed checkpoints.

Rows can only be inserted. The model and its queryset refuse updates and deletes, the admin is read-only, and
database triggers (migration 0002) reject UPDATE and DELETE from any client on SQLite and PostgreSQL.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cases.choice_labels import ChoiceLabels


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove a ledger row through the ORM."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Custody records are append-only; they cannot be updated.")

    def delete(self):
        raise AppendOnlyError("Custody records are append-only; they cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Custody records are append-only; they cannot be updated.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are append-only; they cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only; they cannot be deleted.")


class Action(models.TextChoices):
    CASE_CREATED = "case.created", _("Case created")
    CASE_UPDATED = "case.updated", _("Case updated")
    CASE_ASSIGNED = "case.assigned", _("Investigators assigned")
    CASE_STATUS_CHANGED = "case.status_changed", _("Case status changed")
    CASE_CLOSED = "case.closed", _("Case closed")
    NOTE_ADDED = "note.added", _("Note added")
    EVIDENCE_RECEIVED = "evidence.received", _("Evidence received")
    EVIDENCE_VIEWED = "evidence.viewed", _("Evidence metadata viewed")
    MEDIA_VIEWED = "media.viewed", _("Media viewed")
    MEDIA_DOWNLOADED = "media.downloaded", _("Media downloaded")
    INTEGRITY_ALARM = "integrity.alarm", _("Integrity alarm")
    EVIDENCE_TRANSFERRED = "evidence.transferred", _("Evidence transferred to another case")
    MEDIA_DELETED = "media.deleted", _("Media deleted")
    ANALYSIS_QUEUED = "analysis.queued", _("Analysis queued")
    ANALYSIS_STARTED = "analysis.started", _("Analysis started")
    ANALYSIS_COMPLETED = "analysis.completed", _("Analysis completed")
    ANALYSIS_FAILED = "analysis.failed", _("Analysis failed")
    REPORT_GENERATED = "report.generated", _("Report generated")
    REPORT_DOWNLOADED = "report.downloaded", _("Report downloaded")
    CHECKPOINT_MADE = "checkpoint.made", _("Checkpoint made")
    CHECKPOINT_COSIGNED = "checkpoint.cosigned", _("Checkpoint cosigned by a witness")
    WITNESS_ADDED = "witness.added", _("Witness named")
    CUSTODY_VERIFIED = "custody.verified", _("Custody verified")
    REVIEW_SIGNED_OFF = "review.signed_off", _("Supervisor review signed off")
    MEMBER_CHANGED = "member.changed", _("Membership changed")
    RETENTION_CHANGED = "retention.changed", _("Retention policy changed")
    LEGAL_HOLD_SET = "legal_hold.set", _("Legal hold placed")
    LEGAL_HOLD_RELEASED = "legal_hold.released", _("Legal hold lifted")
    FIXITY_CHECKED = "fixity.checked", _("Stored file re-hashed (fixity check)")
    EXPORT_CREATED = "export.created", _("Sealed export created")
    ORGANISATION_CREATED = "organisation.created", _("Organisation created")
    ORGANISATION_KIND_CHANGED = "organisation.kind_changed", _("Organisation kind corrected")
    INVITATION_SENT = "invitation.sent", _("Invitation sent")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")
    INVITATION_DECLINED = "invitation.declined", _("Invitation declined")
    INVITATION_REVOKED = "invitation.revoked", _("Invitation revoked")
    ACCOUNT_CREATED = "account.created", _("Account created")
    API_TOKEN_CREATED = "api_token.created", _("API token created")
    API_TOKEN_ACTIVATED = "api_token.activated", _("API token switched to this organisation")
    API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
    API_TOKEN_RENAMED = "api_token.renamed", _("API token renamed")
    # A person's own account, recorded in each organisation they belong to (cases/accounts.py).
    ACCOUNT_SIGNED_IN = "account.signed_in", _("Signed in")
    ACCOUNT_SIGN_IN_FAILED = "account.sign_in_failed", _("Sign-in refused: wrong password")
    ACCOUNT_DEACTIVATED = "account.deactivated", _("Account deactivated")
    ACCOUNT_REACTIVATED = "account.reactivated", _("Account reactivated")
    PASSWORD_CHANGED = "account.password_changed", _("Password changed")
    PASSWORD_RESET_SENT = "account.password_reset_sent", _("Password reset e-mail sent")
    TWO_FACTOR_ENABLED = "two_factor.enabled", _("Two-factor authentication turned on")
    TWO_FACTOR_DISABLED = "two_factor.disabled", _("Two-factor authentication turned off")
    TWO_FACTOR_CODES_RENEWED = "two_factor.codes_renewed", _("Two-factor recovery codes renewed")
    TWO_FACTOR_FAILED = "two_factor.failed", _("Two-factor code refused")
    TWO_FACTOR_RECOVERY_USED = "two_factor.recovery_used", _("Signed in with a recovery code")
    TWO_FACTOR_POLICY_CHANGED = "two_factor.policy_changed", _("Two-factor requirement changed")
    REPORT_CERTIFICATE_IMPORTED = "report_certificate.imported", _("Report-signing certificate imported")


class CustodyEvent(ChoiceLabels, AppendOnlyModel):
    organisation = models.ForeignKey("cases.Organisation", on_delete=models.PROTECT, related_name="+")
    sequence = models.PositiveBigIntegerField()
    recorded_at = models.DateTimeField()
    # The actor as recorded (username, or "system:<task>"); the hash covers this text, not a mutable user row.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=40, choices=Action.choices)
    case = models.ForeignKey("cases.Case", null=True, on_delete=models.PROTECT, related_name="custody_events")
    evidence = models.ForeignKey(
        "cases.EvidenceItem", null=True, on_delete=models.PROTECT, related_name="custody_events"
    )
    details = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)

    class Meta:
        ordering = ["organisation", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "sequence"], name="custody_sequence_unique"),
            # Two entries naming the same predecessor would be a fork.
            models.UniqueConstraint(fields=["organisation", "prev_hash"], name="custody_no_fork"),
        ]
        indexes = [
            models.Index(fields=["evidence", "sequence"]),
            models.Index(fields=["case", "sequence"]),
            # Alarms and recent activity are looked up by action within an organisation.
            models.Index(fields=["organisation", "action", "sequence"]),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"


class Checkpoint(AppendOnlyModel):
    """A signed Merkle tree head over the organisation's first `tree_size` entry hashes."""

    organisation = models.ForeignKey("cases.Organisation", on_delete=models.PROTECT, related_name="+")
    tree_size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64)
    made_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=100)
    # The same tree head as a C2SP signed note (custody.notes), signed with the same key when the checkpoint was
    # made; null on checkpoints made before notes were published. Nullable rather than "" so that SQLite adds the
    # column in place instead of rebuilding the table, which would drop its append-only triggers.
    note = models.TextField(null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["organisation", "tree_size", "made_at"]
        get_latest_by = "tree_size"

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size} {self.root_hash[:12]}"


class CheckpointTimestamp(AppendOnlyModel):
    """An RFC 3161 time-stamp of one checkpoint (custody.timestamp_tokens says what it covers), as the TSA gave it.

    Stored beside the checkpoint rather than in it: the checkpoint is signed and appended at once, and the token
    may come later (a TSA that is down never holds up a checkpoint). The token is its own proof, signed by the TSA.
    """

    checkpoint = models.OneToOneField(Checkpoint, on_delete=models.PROTECT, related_name="timestamp")
    tsa_url = models.CharField(max_length=500)
    # The TimeStampToken (CMS ContentInfo, DER) and the TSA's certificate chain as PEM, TSA first, root last.
    token = models.BinaryField()
    chain_pem = models.TextField()
    gen_time = models.DateTimeField()
    stored_at = models.DateTimeField()

    class Meta:
        ordering = ["checkpoint"]

    def __str__(self) -> str:
        return f"time-stamp of {self.checkpoint} at {self.gen_time:%Y-%m-%d %H:%M:%S}"


class ReviewSignOff(AppendOnlyModel):
    """A supervisor's "reviewed" sign-off on a case, with the ledger event that records it.

    The event holds the comment's SHA-256, so a comment changed here afterwards no longer matches the ledger.
    """

    organisation = models.ForeignKey("cases.Organisation", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="review_sign_offs")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField()
    signed_at = models.DateTimeField()
    event = models.OneToOneField(CustodyEvent, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["case", "signed_at", "id"]

    def __str__(self) -> str:
        return f"review of {self.case_id} by {self.signed_by_id}"


class FixityStore(models.TextChoices):
    EVIDENCE = "evidence", _("Evidence media")
    REPORTS = "reports", _("Report PDFs")


class FixityState(ChoiceLabels):
    """The latest fixity check of one stored file (a storage key in one store).

    The ledger keeps every check; this row only says when the file was last re-hashed, so that each run takes the
    least recently checked files first, and whether that check failed, so that an open alarm can be shown until a
    later check of the same file passes (for instance once the file was restored from a backup).
    """

    organisation = models.ForeignKey("cases.Organisation", on_delete=models.PROTECT, related_name="+")
    store = models.CharField(max_length=10, choices=FixityStore.choices)
    key = models.CharField(max_length=255)
    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    finding = models.CharField(max_length=500, blank=True)
    event = models.ForeignKey(CustodyEvent, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["store", "key"], name="one_fixity_state_per_file")]
        indexes = [models.Index(fields=["organisation", "ok"])]

    def __str__(self) -> str:
        return f"{self.store}:{self.key} {'ok' if self.ok else 'FAILED'} at {self.checked_at:%Y-%m-%d %H:%M}"


class MerkleNode(AppendOnlyModel):
    """The hash of one perfect subtree of an organisation's ledger tree (RFC 6962): the 2**level leaves from
    position * 2**level on; level 0 holds the leaf hashes themselves.

    Written in the transaction of the entry that completes the subtree, and never changed afterwards, since a
    complete subtree of an append-only tree never changes: so checkpoints and proofs read O(log n) rows instead
    of every entry hash. Derived data: `custody_verify` recomputes every node from the entries and reports any
    that differs or is missing; migration 0013 filled in the nodes of the entries made before the store.
    """

    pk = models.CompositePrimaryKey("organisation", "level", "position")
    organisation = models.ForeignKey("cases.Organisation", on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    position = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"node {self.level}/{self.position}"


class Witness(models.Model):
    """An external witness the organisation named: it cosigns the organisation's checkpoints
    (c2sp.org/tlog-cosignature, Ed25519) once it has checked that each extends the one it saw before."""

    organisation = models.ForeignKey("cases.Organisation", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200)
    public_key = models.BinaryField(max_length=32)
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The witness's submission prefix (c2sp.org/tlog-witness): when set, each new checkpoint is pushed to
    # <url>/add-checkpoint (custody.witness_submissions); when empty, the witness pulls checkpoints itself.
    url = models.URLField(max_length=500, blank=True)
    # What the pushes last found out, shown on the audit page; operational state, not evidence (the cosignatures
    # are): the size of the latest checkpoint the witness said it cosigned, and why the last push failed.
    acknowledged_size = models.PositiveBigIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=500, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="one_witness_per_name")]

    def __str__(self) -> str:
        return self.name


class CheckpointCosignature(AppendOnlyModel):
    """A witness's verified cosignature of a checkpoint's signed note: the signature line as the witness sent it."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(help_text=_("The time the witness put in its cosignature."))
    line = models.TextField()

    class Meta:
        ordering = ["checkpoint", "signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint", "witness"], name="one_cosignature_per_witness_and_checkpoint")
        ]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint}"
