"""50 appends at once, each from its own thread with its own database connection, give one contiguous chain
with no fork and no gap."""

import threading

import pytest
from django.db import connection, connections

from custody.ledger import custody_event_record
from custody.models import Action, CustodyEvent
from custody.verification import custody_verify

APPENDS = 50

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite has one writer at a time by design, and the in-memory test database cannot "
    "be opened by other connections; run with DATABASE_URL=postgres://… to exercise the chain-head lock",
)


def test_fifty_concurrent_appends_give_a_contiguous_chain_without_fork(committed_db, alpha):
    # Given an organisation with a ledger and 50 workers released at the same moment
    start = threading.Barrier(APPENDS)
    errors: list[BaseException] = []

    def append(number: int) -> None:
        try:
            start.wait()
            custody_event_record(
                organisation=alpha.organisation,
                action=Action.NOTE_ADDED,
                system=f"worker-{number}",
                case=alpha.case,
                details={"worker": number},
            )
        except BaseException as error:  # reported to the main thread, which asserts there were none
            errors.append(error)
        finally:
            connections.close_all()

    before = CustodyEvent.objects.filter(organisation=alpha.organisation).count()
    threads = [threading.Thread(target=append, args=(n,)) for n in range(APPENDS)]

    # When they all append
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then every append succeeded, numbers run 1..n without a gap, each entry links to the one before
    assert not errors, errors
    sequences = list(
        CustodyEvent.objects.filter(organisation=alpha.organisation)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, before + APPENDS + 1))
    workers = CustodyEvent.objects.filter(organisation=alpha.organisation, actor_label__startswith="system:worker-")
    assert sorted(e.details["worker"] for e in workers) == list(range(APPENDS))
    assert custody_verify(alpha.organisation).ok
