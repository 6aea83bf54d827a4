"""The Redis-broker suite: real django-q2 clusters (`manage.py taskcluster` subprocesses, as on separate machines)
taking tasks from Redis and writing to the same live database as the test.

It runs only when asked for (`pytest -m redis`) with EVIDENCEMEDIA_REDIS_URL set, and skips with the reason
otherwise: the rest of the suite empties the cache, which on Redis would also empty a queue under test."""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django_q.brokers import get_broker
from django_q.conf import Conf

REDIS_URL = os.environ.get("EVIDENCEMEDIA_REDIS_URL", "")
MANAGE_PY = Path(__file__).resolve().parents[2] / "manage.py"


@pytest.fixture(autouse=True)
def redis_broker(request) -> str:
    """The Redis URL, once the suite was selected and Redis answers; a skip saying what is missing otherwise."""
    if "redis" not in (request.config.option.markexpr or ""):
        pytest.skip("Redis-broker suite: run it with `pytest -m redis` and EVIDENCEMEDIA_REDIS_URL set")
    if not REDIS_URL:
        pytest.skip("Redis-broker suite: EVIDENCEMEDIA_REDIS_URL is not set")
    try:
        redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis-broker suite: Redis at {REDIS_URL} is not reachable ({error})")
    return REDIS_URL


@pytest.fixture
def live_db(redis_broker, committed_db) -> None:
    """The test database, committed as the test goes so that clusters in other processes see its rows."""


@pytest.fixture
def task_queue(redis_broker, monkeypatch) -> str:
    """A queue of this test's own in Redis, and tasks sent to it instead of run in-process as the suite does."""
    name = f"evidencemedia-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    yield name
    get_broker(name).delete_queue()  # whatever a failed test left queued


def live_database_url() -> str:
    """The test database as a DATABASE_URL, for processes started by the test."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        if "mode=memory" in str(db["NAME"]) or str(db["NAME"]) == ":memory:":
            pytest.skip("Redis-broker suite: the test database is in memory, so no other process can open it")
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class TaskCluster:
    """One `manage.py taskcluster` process: a machine of its own, sharing only Redis, the database and the files.

    It leads a process group of its own, as under systemd, so that a test can signal the cluster's every process."""

    def __init__(self, *, queue: str, data_dir: Path, log: Path, env: dict[str, str]):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "evidencemedia.settings.local",
            "DJANGO_SECRET_KEY": settings.SECRET_KEY,  # task payloads are signed with it
            "DATABASE_URL": live_database_url(),
            "EVIDENCEMEDIA_DATA_DIR": str(data_dir),
            "EVIDENCEMEDIA_REDIS_URL": REDIS_URL,
            "EVIDENCEMEDIA_Q_WORKERS": "2",
            "Q_CLUSTER_NAME": queue,
            **env,
        }
        self.log = log
        self._output = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(MANAGE_PY), "taskcluster"],
            env=env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def running(self) -> bool:
        """Whether the cluster has started its workers, from its own log."""
        return "running." in self.log.read_text(errors="replace")

    def signal_group(self, signum: int) -> None:
        """Send a signal to every process of the cluster at once, as systemd does to a service's processes."""
        os.killpg(self.process.pid, signum)

    def processed(self) -> int:
        """How many tasks this cluster finished, from its own log."""
        return self.log.read_text(errors="replace").count("Processed '")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # qcluster finishes its tasks and stops
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._output.close()


@pytest.fixture
def start_cluster(task_queue, isolated_storage, keys_dir) -> Iterator[Callable[..., TaskCluster]]:
    """Start clusters on this test's queue; the data directory is the test's, so they find the stored evidence."""
    data_dir = isolated_storage
    shutil.copytree(keys_dir, data_dir / "keys", dirs_exist_ok=True)  # the same custody signing key
    clusters: list[TaskCluster] = []

    def start(**env: str) -> TaskCluster:
        """A new cluster; `env` adds to its environment (EVIDENCEMEDIA_TASK_LEASE_SECONDS="5", say)."""
        log = data_dir / f"cluster-{len(clusters)}.log"
        cluster = TaskCluster(queue=task_queue, data_dir=data_dir, log=log, env=env)
        clusters.append(cluster)
        return cluster

    yield start
    for cluster in clusters:
        cluster.stop()


def wait_until(condition: Callable[[], bool], *, timeout: float = 120, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)
