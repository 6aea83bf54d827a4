"""The ledger head kept outside the database: a signed high-water mark per organisation, raised after each
commit and never lowered. Deleting the newest entries behind the triggers fails verification against it, and
the next entry does not reuse a removed sequence number."""

import io
import json
import random
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from custody.chain import ProblemKind
from custody.high_water import high_water_path, high_water_raise, high_water_read
from custody.ledger import custody_event_record
from custody.models import Action, CustodyEvent
from custody.verification import custody_verify
from tests.conftest import PASSWORD
from tests.custody.conftest import raw_delete

REMOVED = 3


def _note(tenant, number: int) -> CustodyEvent:
    return custody_event_record(
        organisation=tenant.organisation,
        action=Action.NOTE_ADDED,
        actor=tenant.investigator,
        case=tenant.case,
        details={"number": number},
    )


def _newest(tenant, count: int) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(organisation=tenant.organisation).order_by("-sequence")[:count])


@pytest.fixture
def committed(alpha, django_capture_on_commit_callbacks):
    """alpha with eight more notes, each committed (its on-commit work run), so that the mark has followed."""
    with django_capture_on_commit_callbacks(execute=True):
        for number in range(8):
            _note(alpha, number)
    return alpha


def test_the_mark_follows_each_committed_entry_and_may_lag_the_database(committed):
    [head] = _newest(committed, 1)

    mark = high_water_read(committed.organisation.public_id)

    assert (mark.sequence, mark.entry_hash) == (head.sequence, head.entry_hash)
    assert json.loads(high_water_path(committed.organisation.public_id).read_text())["signature"] == mark.signature
    assert not [p for p in high_water_path(committed.organisation.public_id).parent.iterdir() if ".tmp" in p.name]
    # An entry whose commit has not reached the file yet (the mark lags) is not a problem
    _note(committed, 99)
    assert custody_verify(committed.organisation).ok


def test_an_entry_rolled_back_never_raises_the_mark(committed, django_capture_on_commit_callbacks):
    before = high_water_read(committed.organisation.public_id)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        _note(committed, 100)
        raise RuntimeError("the action failed after its event was recorded")

    assert high_water_read(committed.organisation.public_id) == before


def test_deleting_the_newest_entries_fails_verification_naming_the_high_water_mark(committed, triggers_dropped):
    # Given an attacker who lifts the triggers and deletes the newest entries, leaving a chain intact on its own
    newest = _newest(committed, REMOVED)
    head = newest[0].sequence
    raw_delete(*newest)

    # When the ledger is verified
    verification = custody_verify(committed.organisation)

    # Then it fails at the first removed entry, naming where the database ends and where the mark is
    assert not verification.ok
    [problem] = verification.report.problems
    assert (problem.kind, problem.sequence) == (ProblemKind.ROLLBACK, head - REMOVED + 1)
    assert verification.summary() == (
        f"alpha: BROKEN at sequence {head - REMOVED + 1}: rolled back — the database's ledger ends at sequence "
        f"{head - REMOVED}, but the high-water mark kept outside the database records sequence {head} "
        f"(entry hash {newest[0].entry_hash}) as committed: entries {head - REMOVED + 1}..{head} removed"
    )


def _command_output(client, tenant) -> str:
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify_custody", "--org", "alpha", stdout=out)
    assert failed.value.returncode == 1
    return out.getvalue()


def _api_summary(client, tenant) -> str:
    client.login(username=tenant.auditor.username, password=PASSWORD)
    body = client.post("/api/v1/custody/verify/").json()
    assert body["ok"] is False
    return body["summary"]


def _page(client, tenant) -> str:
    client.login(username=tenant.supervisor.username, password=PASSWORD)
    return client.post("/custody/verify/", follow=True).content.decode()


@pytest.mark.parametrize("surface", [_command_output, _api_summary, _page])
def test_command_api_and_page_report_the_removed_tail(client, committed, triggers_dropped, surface):
    newest = _newest(committed, REMOVED)
    raw_delete(*newest)

    shown = surface(client, committed)

    assert f"ends at sequence {newest[-1].sequence - 1}, but the high-water mark" in shown
    assert f"records sequence {newest[0].sequence}" in shown


def test_the_next_entry_after_a_removed_tail_does_not_reuse_its_sequence_numbers(committed, triggers_dropped):
    newest = _newest(committed, REMOVED)
    raw_delete(*newest)

    event = _note(committed, 200)

    # The chain goes on after the mark: the removed numbers stay missing for every later verification
    assert (event.sequence, event.prev_hash) == (newest[0].sequence + 1, newest[0].entry_hash)
    problems = custody_verify(committed.organisation).report.problems
    assert [(p.kind, p.sequence) for p in problems] == [(ProblemKind.MISSING, newest[-1].sequence)]


def test_a_replaced_newest_entry_fails_verification(committed, triggers_dropped):
    # Given the newest entry deleted, and another appended in its place while the mark file was out of reach
    [newest] = _newest(committed, 1)
    raw_delete(newest)
    path = high_water_path(committed.organisation.public_id)
    mark = path.read_bytes()
    path.unlink()
    replacement = _note(committed, 300)
    path.write_bytes(mark)

    problems = custody_verify(committed.organisation).report.problems

    assert replacement.sequence == newest.sequence
    assert [(p.kind, p.sequence) for p in problems] == [(ProblemKind.CHECKPOINT_MISMATCH, newest.sequence)]
    assert "not the one the high-water mark recorded" in problems[0].detail


def test_a_forged_or_foreign_mark_fails_verification(committed, beta, django_capture_on_commit_callbacks):
    path = high_water_path(committed.organisation.public_id)
    forged = json.loads(path.read_text()) | {"sequence": 10_000}
    path.write_text(json.dumps(forged))
    assert "has no valid signature" in custody_verify(committed.organisation).summary()

    with django_capture_on_commit_callbacks(execute=True):
        _note(beta, 1)
    path.write_bytes(high_water_path(beta.organisation.public_id).read_bytes())
    assert (
        f"is the mark of organisation '{beta.organisation.public_id}'"
        in custody_verify(committed.organisation).summary()
    )


def test_the_mark_is_never_lowered_even_by_racing_writers(committed):
    organisation_id = committed.organisation.public_id
    top = high_water_read(organisation_id)
    high_water_raise(organisation_id=organisation_id, sequence=top.sequence - 1, entry_hash="1" * 64)
    assert high_water_read(organisation_id) == top

    # Writers of heads top+1..top+20 in random order (as commits of several processes finish) end at the top
    heads = list(range(top.sequence + 1, top.sequence + 21))
    random.Random(7).shuffle(heads)
    threads = [
        threading.Thread(
            target=high_water_raise,
            kwargs={"organisation_id": organisation_id, "sequence": n, "entry_hash": f"{n:064x}"},
        )
        for n in heads
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert high_water_read(organisation_id).sequence == top.sequence + 20
