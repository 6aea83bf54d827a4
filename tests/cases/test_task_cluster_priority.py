"""`manage.py taskcluster` lowers its CPU priority to EVIDENCEMEDIA_Q_NICE before it starts its workers, so that
analyses and reports take only the CPU the pages leave. Run in child processes: a process cannot take back
the niceness it gave up without privileges, and the test process must keep its own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
NICENESS = (
    "import os, django; django.setup();"
    "from cases.management.commands.taskcluster import priority_lower;"
    "print(*[priority_lower(n) for n in map(int, os.environ['STEPS'].split())])"
)


def _niceness_after(steps: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "evidencemedia.settings.test", "STEPS": steps, **env}
    return subprocess.run(
        [sys.executable, "-c", NICENESS], cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_the_cluster_becomes_as_nice_as_asked_and_never_less_nice_than_it_was():
    started = os.getpriority(os.PRIO_PROCESS, 0)
    result = _niceness_after(f"{started + 5} {started + 2} {started + 7}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(started + 5), str(started + 5), str(started + 7)]


def test_the_niceness_setting_defaults_to_10_and_refuses_more_than_19():
    from django.conf import settings

    assert settings.EVIDENCEMEDIA_Q_NICE == 10  # the test settings inherit the shipped default
    result = _niceness_after("0", EVIDENCEMEDIA_Q_NICE="20")
    assert result.returncode != 0
    assert "EVIDENCEMEDIA_Q_NICE must be a niceness from 0 to 19." in result.stderr


@pytest.mark.parametrize("value", ["-5", "low"])
def test_the_niceness_setting_refuses_what_is_not_a_niceness(value):
    result = _niceness_after("0", EVIDENCEMEDIA_Q_NICE=value)

    assert result.returncode != 0
    assert "EVIDENCEMEDIA_Q_NICE must be a whole number of at least 0" in result.stderr
