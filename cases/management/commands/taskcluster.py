"""Run a django-q2 task cluster (as `qcluster` does) that also stops promptly when its whole process group gets
SIGTERM, which is how systemd and container runtimes stop a service.

django-q2's sentinel process keeps SIGTERM's default action, so a signal to the group kills it and its workers at
once, often while it sleeps on the cluster's stop event. qcluster's parent then sets that event, and a
multiprocessing Event's set() waits for every sleeper to acknowledge the wake-up: a dead sleeper never does, so the
parent hung until systemd's SIGKILL. Here the parent first gives the sentinel a moment to go; only a sentinel still
alive (SIGTERM sent to the parent alone, as `kill PID` does) is stopped the graceful way, after its running tasks.

Work a killed worker had claimed is not lost: its lease lapses and the sweep queues it again (cases/task_runs.py).

The cluster first lowers its CPU priority to EVIDENCEMEDIA_Q_NICE (its workers and their tools inherit it), so that
on a machine that also serves pages, analyses and reports take only the CPU the pages leave.
"""

import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.cluster import Cluster
from django_q.conf import logger

# Long enough for a signalled sentinel to be reaped, short enough to keep well inside a service manager's wait.
GROUP_SIGNAL_GRACE_SECONDS = 2.0


class PromptStopCluster(Cluster):
    def stop(self) -> bool:
        deadline = time.monotonic() + GROUP_SIGNAL_GRACE_SECONDS
        while self._sentinel_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._sentinel_alive():
            return super().stop()
        logger.info("Q Cluster %s stopped with its process group.", self.name)
        self.start_event = self.stop_event = None
        return True

    def _sentinel_alive(self) -> bool:
        if self.sentinel is None or not self.sentinel.is_alive():
            return False
        # The signal can interrupt the main thread just after its own wait reaped the sentinel and before it noted
        # so; is_alive() then still says True, and only the vanished process id tells.
        try:
            os.kill(self.sentinel.pid, 0)
        except ProcessLookupError:
            return False
        return True


def priority_lower(niceness: int) -> int:
    """Make this process at least as nice as `niceness` (never less nice than it was started); its niceness."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness > current:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    return os.getpriority(os.PRIO_PROCESS, 0)


class Command(BaseCommand):
    help = "Start a django-q2 task cluster that stops within seconds of a SIGTERM to its process group."

    def handle(self, *args, **options):
        settings.SECRET_KEY  # noqa: B018 - as qcluster: refuse to start without the key that signs every task
        priority_lower(settings.EVIDENCEMEDIA_Q_NICE)
        PromptStopCluster().start()
