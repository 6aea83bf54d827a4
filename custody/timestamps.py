"""RFC 3161 time-stamps of checkpoints in the installation: asking the configured TSAs in order, storing the
token with the TSA's chain, stamping late what an outage left unstamped, checking stored tokens, and the alarm
for a checkpoint left without a time-stamp for longer than EVIDENCEMEDIA_TSA_ALARM_AFTER.

A time-stamp is not a ledger event: the token is its own proof (signed by the TSA over the checkpoint), and an
event would call for a new checkpoint, which would call for a new time-stamp, for ever.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509 as asn1_x509
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.tasks import async_task

from cases.models import Organisation

from .chain import Problem, ProblemKind
from .checkpoints import checkpoint_fields
from .models import Checkpoint, CheckpointTimestamp
from .timestamp_tokens import (
    TimestampError,
    TokenCheck,
    certificate_pem,
    certificates_from_pem,
    checkpoint_timestamp_digest,
    timestamp_document,
    token_check,
    token_request,
)

logger = logging.getLogger(__name__)

TIMESTAMP_TASK = "custody.timestamps.checkpoint_timestamp_task"
# Checkpoints a late run stamps at most, oldest first; the schedule comes back every few minutes.
LATE_BATCH = 200


def tsa_configured() -> bool:
    return bool(settings.EVIDENCEMEDIA_TSA_URLS)


def tsa_trusted_roots() -> list[asn1_x509.Certificate]:
    """The TSA roots the installation trusts (EVIDENCEMEDIA_TSA_ROOTS); [] when none is configured."""
    path = settings.EVIDENCEMEDIA_TSA_ROOTS
    return certificates_from_pem(path.read_bytes()) if path else []


def checkpoint_timestamp_digest_of(checkpoint: Checkpoint) -> bytes:
    return checkpoint_timestamp_digest(checkpoint_fields(checkpoint, checkpoint.organisation))


def checkpoint_timestamp_after_commit(checkpoint: Checkpoint) -> None:
    """Queue the time-stamping of a new checkpoint once it is committed (nothing when no TSA is configured)."""
    if tsa_configured():
        transaction.on_commit(lambda: async_task(TIMESTAMP_TASK, checkpoint.pk, group="timestamps"))


def checkpoint_timestamp_task(checkpoint_id: int) -> str:
    """django-q2 task: time-stamp one checkpoint; safe to run twice (a stamped checkpoint is left as it is)."""
    checkpoint = Checkpoint.objects.select_related("organisation").get(pk=checkpoint_id)
    stamp = checkpoint_timestamp_obtain(checkpoint=checkpoint)
    return "time-stamped" if stamp else "no TSA answered; the schedule tries again"


def checkpoint_timestamp_obtain(*, checkpoint: Checkpoint) -> CheckpointTimestamp | None:
    """The checkpoint's time-stamp: the stored one, else a new one from the first configured TSA that gives a
    token that verifies. None, never an exception, when no TSA is configured or none answers usefully."""
    existing = CheckpointTimestamp.objects.filter(checkpoint=checkpoint).first()
    if existing is not None or not tsa_configured():
        return existing
    digest = checkpoint_timestamp_digest_of(checkpoint)
    roots = tsa_trusted_roots()
    for url in settings.EVIDENCEMEDIA_TSA_URLS:
        try:
            token, check = token_request(
                url, digest, trusted_roots=roots, timeout=settings.EVIDENCEMEDIA_TSA_TIMEOUT_SECONDS
            )
        except TimestampError as error:
            logger.warning("Time-stamping checkpoint %s failed: %s", checkpoint.pk, error)
            continue
        return _store(checkpoint, url, token, check)
    return None


def _store(checkpoint: Checkpoint, url: str, token: bytes, check: TokenCheck) -> CheckpointTimestamp:
    try:
        with transaction.atomic():
            return CheckpointTimestamp.objects.create(
                checkpoint=checkpoint,
                tsa_url=url,
                token=token,
                chain_pem="".join(check.chain_pem),
                gen_time=check.gen_time,
                stored_at=timezone.now(),
            )
    except IntegrityError:  # another worker stamped it meanwhile: keep the first token
        return CheckpointTimestamp.objects.get(checkpoint=checkpoint)


def checkpoint_timestamp_document(checkpoint: Checkpoint) -> dict | None:
    """The checkpoint's time-stamp as a bundle carries it, obtained now if it has none yet; None without one."""
    stamp = checkpoint_timestamp_obtain(checkpoint=checkpoint)
    if stamp is None:
        return None
    return timestamp_document(
        tsa_url=stamp.tsa_url,
        token=bytes(stamp.token),
        chain_pem=[certificate_pem(c) for c in certificates_from_pem(stamp.chain_pem)],
        gen_time=stamp.gen_time,
    )


def checkpoints_timestamp_late() -> str:
    """The schedule: time-stamp the checkpoints an outage left unstamped, oldest first, stopping at the first
    one no TSA would stamp (they are all down: the next run tries again)."""
    if not tsa_configured():
        return "no TSA configured"
    stamped = 0
    for checkpoint in unstamped_checkpoints().select_related("organisation")[:LATE_BATCH]:
        if checkpoint_timestamp_obtain(checkpoint=checkpoint) is None:
            break
        stamped += 1
    return f"{stamped} checkpoints time-stamped late"


def unstamped_checkpoints(organisation: Organisation | None = None):
    checkpoints = Checkpoint.objects.filter(timestamp__isnull=True).order_by("made_at", "id")
    return checkpoints if organisation is None else checkpoints.filter(organisation=organisation)


@dataclass(frozen=True)
class TimestampStatus:
    """What the audit page says about an organisation's time-stamps."""

    configured: bool
    latest: CheckpointTimestamp | None
    overdue: int
    oldest_overdue: datetime | None
    alarm_after_minutes: int

    @property
    def alarm(self) -> bool:
        return self.overdue > 0


def timestamp_status(organisation: Organisation) -> TimestampStatus:
    alarm_after = settings.EVIDENCEMEDIA_TSA_ALARM_AFTER
    overdue = unstamped_checkpoints(organisation).filter(made_at__lt=timezone.now() - alarm_after)
    configured = tsa_configured()
    return TimestampStatus(
        configured=configured,
        latest=CheckpointTimestamp.objects.filter(checkpoint__organisation=organisation)
        .select_related("checkpoint")
        .order_by("-checkpoint__tree_size", "-checkpoint__made_at")
        .first(),
        # Without a TSA nothing is overdue: the page says plainly that there are no time-stamps instead.
        overdue=overdue.count() if configured else 0,
        oldest_overdue=overdue.values_list("made_at", flat=True).first() if configured else None,
        alarm_after_minutes=int(alarm_after.total_seconds() // 60),
    )


def stored_timestamp_check(stamp: CheckpointTimestamp) -> TokenCheck:
    """Check a stored token against its checkpoint, trusting the configured TSA roots, or the root stored with the
    token when none is configured (then only its integrity is shown, not that anyone trusts the TSA)."""
    chain = certificates_from_pem(stamp.chain_pem)
    roots = tsa_trusted_roots() or chain[-1:]
    return token_check(
        bytes(stamp.token), checkpoint_timestamp_digest_of(stamp.checkpoint), trusted_roots=roots, other_certs=chain
    )


def timestamp_problems(checkpoints: list[Checkpoint]) -> list[Problem]:
    """Check the stored time-stamp of each checkpoint; a problem for each token that does not verify."""
    stamps = CheckpointTimestamp.objects.filter(checkpoint__in=checkpoints).select_related("checkpoint__organisation")
    problems = []
    for stamp in stamps:
        checkpoint = stamp.checkpoint
        try:
            stored_timestamp_check(stamp)
        except (TimestampError, ValueError) as error:
            label = f"the time-stamp of checkpoint {checkpoint.tree_size} ({checkpoint.made_at:%Y-%m-%d %H:%M:%S} UTC)"
            problems.append(Problem(ProblemKind.BAD_SIGNATURE, None, None, f"{label} does not verify: {error}"))
    return problems


def timestamp_summary(organisation: Organisation) -> str:
    """One line for `verify_custody`: how many checkpoints carry a time-stamp (each one checked by custody_verify)."""
    total = Checkpoint.objects.filter(organisation=organisation).count()
    stamped = CheckpointTimestamp.objects.filter(checkpoint__organisation=organisation).count()
    if not tsa_configured():
        return f"time-stamps: no time-stamping authority configured; {stamped} of {total} checkpoints carry one"
    status = timestamp_status(organisation)
    overdue = f", {status.overdue} overdue (ALARM)" if status.alarm else ""
    return f"time-stamps: {stamped} of {total} checkpoints carry an RFC 3161 time-stamp{overdue}"
