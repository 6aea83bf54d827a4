"""Claiming a background run (an analysis, a report) so that a task delivered twice, or sent again after its worker
died, does the work once. Runs share the status values queued, running, done and failed.

A claimed run carries a lease (`lease_expires_at`) that its worker renews while it works (`lease_kept`). A run
whose lease lapsed has no live worker: the next claim takes it over, and the scheduled sweep (`runs_to_requeue`)
queues it again. A queued run carries a lease too, the time its task may take to leave the broker; once that
lapsed and no task for it waits in the broker (the cluster that had taken it was killed), it is sent again.
A task sent twice is harmless: the second finds the run finished or held and leaves it alone.
"""

import enum
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import storages
from django.db import DatabaseError, connections, models, transaction
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM
from django_q.brokers.redis_broker import Redis
from django_q.signing import BadSignature, SignedPackage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# Renewals per lease: a worker may miss three (a long pause, a slow database) before it is presumed gone.
_RENEWALS_PER_LEASE = 4
# What a task returns when its run was taken over while it worked: its outcome was not recorded.
TAKEN_OVER = "discarded: the run was taken over after this worker's lease lapsed"


class Claim(enum.Enum):
    CLAIMED = "claimed"  # this worker now runs it
    FINISHED = "finished"  # done or failed already: nothing to do
    HELD = "held"  # a live worker is running it
    EXHAUSTED = "exhausted"  # attempts used up: the caller records the failure


def lease_length() -> timedelta:
    return timedelta(seconds=settings.TASK_LEASE_SECONDS)


def run_claim(run) -> Claim:
    """Mark a row locked with select_for_update as running for this worker, unless it should not run."""
    if run.status in {"done", "failed"}:
        return Claim.FINISHED
    now = timezone.now()
    if run.status == "running" and run.lease_expires_at is not None and run.lease_expires_at > now:
        return Claim.HELD
    if run.attempts >= MAX_ATTEMPTS:
        return Claim.EXHAUSTED
    run.status, run.started_at, run.lease_expires_at = "running", now, now + lease_length()
    run.attempts += 1
    run.save(update_fields=["status", "started_at", "lease_expires_at", "attempts"])
    return Claim.CLAIMED


def run_still_claimed(run) -> bool:
    """Whether `run` (as this worker claimed it) is still this worker's: not taken over after its lease lapsed.

    Call inside the transaction that records the outcome; the row is locked until it commits."""
    current = type(run).objects.select_for_update(of=("self",)).only("status", "attempts").get(pk=run.pk)
    return current.status == "running" and current.attempts == run.attempts


def run_requeue(run) -> bool:
    """Put a row locked with select_for_update back in the queue when its lease lapsed; False if it is live."""
    now = timezone.now()
    if run.status not in {"queued", "running"} or (run.lease_expires_at and run.lease_expires_at > now):
        return False
    run.status, run.lease_expires_at = "queued", now + lease_length()
    run.save(update_fields=["status", "lease_expires_at"])
    return True


def exhausted_message(run) -> str:
    return f"Gave up after {run.attempts} attempts that did not finish."


def failure_words(failure: BaseException) -> str:
    """How a run's failure is recorded and shown (on the page, in the API and in the PDF reports handed to others):
    the exception's type and message, with the installation's own directories named rather than spelled out. The
    log keeps the whole traceback, paths included."""
    text = f"{type(failure).__name__}: {failure}"
    for root, label in _private_directories():
        text = text.replace(root, label)
    return text


def _private_directories() -> list[tuple[str, str]]:
    """The installation's directories and what to call them, the most specific first (a store inside the data
    directory is named as the store)."""
    named = {
        str(settings.DATA_DIR): "<data directory>",
        str(settings.KEYS_DIR): "<keys directory>",
        str(settings.PLAINTEXT_TEMP_DIR): "<plaintext copies directory>",
        str(settings.FILE_UPLOAD_TEMP_DIR): "<upload spool directory>",
    }
    for alias in ("evidence", "reports", "derived"):
        location = getattr(storages[alias], "location", None)
        if location:
            named[str(location)] = f"<{alias} store>"
    return sorted(named.items(), key=lambda pair: len(pair[0]), reverse=True)


def runs_to_requeue(runs: models.QuerySet, *, func: str) -> list[int]:
    """Ids of the runs whose worker is gone or whose task is lost: running or queued with a lapsed lease, the
    queued ones only when no task of `func` for them waits in the broker."""
    lapsed = runs.filter(models.Q(lease_expires_at__lt=timezone.now()) | models.Q(lease_expires_at__isnull=True))
    abandoned = list(lapsed.filter(status="running").values_list("pk", flat=True))
    waiting_long = list(lapsed.filter(status="queued").values_list("pk", flat=True))
    if waiting_long:
        in_broker = broker_task_arguments(func)
        waiting_long = [pk for pk in waiting_long if pk not in in_broker]
    return abandoned + waiting_long


def broker_task_arguments(func: str) -> set:
    """The first argument of every task of `func` waiting in this cluster's broker queue (Redis or the ORM).

    Tasks already taken by a live cluster are not in the broker any more; sending those again costs a task
    that finds its run held or finished."""
    broker = get_broker()
    if isinstance(broker, Redis):
        payloads = broker.connection.lrange(broker.list_key, 0, -1)
    elif isinstance(broker, ORM):
        payloads = broker.get_connection().filter(key=broker.list_key).values_list("payload", flat=True)
    else:  # another broker cannot be read: treat every lapsed queued run as lost
        return set()
    arguments = set()
    for payload in payloads:
        try:
            task = SignedPackage.loads(payload)
        except (BadSignature, TypeError, ValueError):
            continue
        if task.get("func") == func and task.get("args"):
            arguments.add(task["args"][0])
    return arguments


@contextmanager
def lease_kept(run) -> Iterator[None]:
    """Renew `run`'s lease from a background thread while the block runs, so that a long analysis is not taken
    for abandoned; when the worker dies, the renewals stop with it and the lease lapses."""
    stop = threading.Event()
    renewer = threading.Thread(
        target=_lease_renew, args=(type(run), run.pk, run.attempts, stop), name="lease-renewer", daemon=True
    )
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=30)


def _lease_renew(model, pk: int, attempt: int, stop: threading.Event) -> None:
    interval = settings.TASK_LEASE_SECONDS / _RENEWALS_PER_LEASE
    try:
        while not stop.wait(interval):
            try:
                with transaction.atomic():
                    # SKIP LOCKED: the row is locked only while this worker records its outcome; never wait on it.
                    mine = model.objects.select_for_update(skip_locked=True).filter(
                        pk=pk, status="running", attempts=attempt
                    )
                    model.objects.filter(pk__in=list(mine.values_list("pk", flat=True))).update(
                        lease_expires_at=timezone.now() + lease_length()
                    )
            except DatabaseError:  # a missed renewal is retried; only several in a row give the run away
                logger.warning("Could not renew the lease of %s %s", model.__name__, pk, exc_info=True)
    finally:
        connections.close_all()  # this thread's own connections
