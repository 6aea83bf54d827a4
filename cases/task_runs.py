"""Claiming a background run (an analysis, a report) so a task delivered twice, or retried after a worker died,
does the work once. Runs share the status values queued, running, done and failed."""

import enum
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

MAX_ATTEMPTS = 3


class Claim(enum.Enum):
    CLAIMED = "claimed"  # this worker now runs it
    FINISHED = "finished"  # done or failed already: nothing to do
    HELD = "held"  # a live worker is running it
    EXHAUSTED = "exhausted"  # attempts used up: the caller records the failure


def run_claim(run) -> Claim:
    """Mark a row locked with select_for_update as running for this worker, unless it should not run."""
    if run.status in {"done", "failed"}:
        return Claim.FINISHED
    # A run still marked running past the task timeout belongs to a worker that died; it may be taken over.
    abandoned_before = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"] + 60)
    if run.status == "running" and run.started_at > abandoned_before:
        return Claim.HELD
    if run.attempts >= MAX_ATTEMPTS:
        return Claim.EXHAUSTED
    run.status, run.started_at = "running", timezone.now()
    run.attempts += 1
    run.save(update_fields=["status", "started_at", "attempts"])
    return Claim.CLAIMED


def exhausted_message(run) -> str:
    return f"Gave up after {run.attempts} attempts that did not finish."
