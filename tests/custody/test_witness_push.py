"""Checkpoints pushed to the organisation's witnesses (c2sp.org/tlog-witness) against a real witness on the
loopback interface (tests/local_witness.py): the first push from size 0, a later one with a consistency proof the
witness checks, the size-conflict retry, a bad cosignature refused, a witness that is down blocking nothing and
cosigning on the schedule's retry, and a second organisation's witness never sent the first one's checkpoints."""

import ipaddress
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from cases import services
from cases.exceptions import Refused
from custody.checkpoints import checkpoint_make, checkpoint_origin
from custody.keys import active_key_id, public_keys
from custody.models import Action, Checkpoint, CheckpointCosignature, CustodyEvent, Witness
from custody.notes import (
    ED25519_COSIGNATURE,
    NoteKey,
    cosignature_verify,
    note_split,
    signature_line_parse,
    vkey_parse,
)
from custody.witness_submissions import witness_submit_task, witnesses_submit_pending
from custody.witnesses import MAX_WITNESSES, witness_add
from tests.local_witness import LocalWitness


@pytest.fixture
def witness_for():
    """Start a witness trusting one organisation's log and name it there with its URL; stopped afterwards."""
    started = []

    def make(tenant, name: str, *, with_url: bool = True) -> LocalWitness:
        origin = checkpoint_origin(tenant.organisation)
        witness = LocalWitness(name, {origin: public_keys()[active_key_id()]})
        witness.start()
        started.append(witness)
        witness_add(
            organisation=tenant.organisation,
            vkey=witness.vkey(),
            url=witness.url if with_url else "",
            actor=tenant.admin,
        )
        return witness

    yield make
    for witness in started:
        if witness.server is not None:
            witness.stop()


def _checkpoint(tenant, captured, text: str = "something to witness") -> Checkpoint:
    """A new checkpoint of the tenant, its after-commit work (the pushes to witnesses) run as on commit."""
    services.case_note_add(case=tenant.case, text=text, actor=tenant.investigator)
    with captured(execute=True):
        checkpoint = checkpoint_make(organisation=tenant.organisation, reason="test")
    assert checkpoint is not None
    return checkpoint


def _stored_line(checkpoint: Checkpoint, name: str) -> str:
    return CheckpointCosignature.objects.get(checkpoint=checkpoint, witness__name=name).line


def test_first_checkpoint_is_pushed_from_size_zero_and_its_cosignature_verified_and_stored(
    alpha, witness_for, django_capture_on_commit_callbacks
):
    witness = witness_for(alpha, "witness.test/w1")

    checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)

    origin = checkpoint_origin(alpha.organisation)
    assert witness.requests == [(origin, 0, 200)]
    assert witness.state[origin] == (checkpoint.tree_size, bytes.fromhex(checkpoint.root_hash))
    text, _ = note_split(checkpoint.note)
    line = signature_line_parse(_stored_line(checkpoint, "witness.test/w1"))
    assert cosignature_verify(text, line, vkey_parse(witness.vkey())) > 0
    event = CustodyEvent.objects.get(organisation=alpha.organisation, action=Action.CHECKPOINT_COSIGNED)
    assert event.actor_label == "system:witness"
    assert event.details == {
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "witness": "witness.test/w1",
    }
    named = Witness.objects.get(organisation=alpha.organisation)
    assert (named.acknowledged_size, named.failure, named.failing_since) == (checkpoint.tree_size, "", None)


def test_later_checkpoint_is_pushed_with_a_consistency_proof_the_witness_checks(
    alpha, witness_for, django_capture_on_commit_callbacks
):
    witness = witness_for(alpha, "witness.test/w1")
    first = _checkpoint(alpha, django_capture_on_commit_callbacks)
    for number in range(5):
        services.case_note_add(case=alpha.case, text=f"note {number}", actor=alpha.investigator)

    second = _checkpoint(alpha, django_capture_on_commit_callbacks)

    origin = checkpoint_origin(alpha.organisation)
    assert witness.requests == [(origin, 0, 200), (origin, first.tree_size, 200)]
    assert witness.state[origin] == (second.tree_size, bytes.fromhex(second.root_hash))
    assert CheckpointCosignature.objects.filter(witness__name="witness.test/w1").count() == 2
    assert Witness.objects.get(organisation=alpha.organisation).acknowledged_size == second.tree_size
    # Running the task again sends nothing: the newest checkpoint is already cosigned.
    assert witness_submit_task(Witness.objects.get(organisation=alpha.organisation).pk) == "nothing to submit"
    assert len(witness.requests) == 2


def test_size_conflict_is_retried_from_the_size_the_witness_holds(
    alpha, witness_for, django_capture_on_commit_callbacks
):
    # Given a witness that already cosigned the log's first checkpoint another way (it pulled it), unknown here
    origin = checkpoint_origin(alpha.organisation)
    first = checkpoint_make(organisation=alpha.organisation, reason="test")
    witness = witness_for(alpha, "witness.test/w1")
    witness.state[origin] = (first.tree_size, bytes.fromhex(first.root_hash))

    # When the next checkpoint is pushed from size 0
    second = _checkpoint(alpha, django_capture_on_commit_callbacks)

    # Then the witness answers 409 with its size, and the retry from that size with a proof is cosigned
    assert witness.requests == [(origin, 0, 409), (origin, first.tree_size, 200)]
    assert CheckpointCosignature.objects.filter(checkpoint=second, witness__name="witness.test/w1").exists()
    assert Witness.objects.get(organisation=alpha.organisation).acknowledged_size == second.tree_size


def test_witness_holding_a_larger_tree_than_the_log_shows_is_an_alarm_and_nothing_is_stored(
    alpha, witness_for, django_capture_on_commit_callbacks, client
):
    # Given a witness that cosigned a tree of the log larger than any it now shows (the log was rolled back)
    witness = witness_for(alpha, "witness.test/w1")
    witness.state[checkpoint_origin(alpha.organisation)] = (1000, b"\x01" * 32)

    checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)

    named = Witness.objects.get(organisation=alpha.organisation)
    assert named.acknowledged_size == 1000
    assert "holds a checkpoint of 1000 entries, more than the" in named.failure
    assert not CheckpointCosignature.objects.filter(checkpoint=checkpoint).exists()
    client.force_login(alpha.auditor)
    assert b'data-witness-alarm="witness.test/w1"' in client.get(reverse("custody:audit")).content


def test_bad_cosignature_is_refused_not_stored_and_shown_as_an_alarm(
    alpha, beta, witness_for, django_capture_on_commit_callbacks, client
):
    witness = witness_for(alpha, "witness.test/w1")
    witness.misbehave = "bad cosignature"

    checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)

    assert witness.requests == [(checkpoint_origin(alpha.organisation), 0, 200)]
    assert not CheckpointCosignature.objects.filter(checkpoint=checkpoint).exists()
    assert not CustodyEvent.objects.filter(action=Action.CHECKPOINT_COSIGNED).exists()
    named = Witness.objects.get(organisation=alpha.organisation)
    assert named.failure.startswith("Misbehaving: its cosignature does not verify with its key")
    assert named.failing_since is not None
    client.force_login(alpha.auditor)
    page = client.get(reverse("custody:audit")).content.decode()
    assert 'data-witness-alarm="witness.test/w1"' in page and "does not verify" in page
    # The other organisation sees nothing of it
    client.force_login(beta.auditor)
    checkpoint_make(organisation=beta.organisation, reason="test")
    assert "witness.test/w1" not in client.get(reverse("custody:audit")).content.decode()


def test_witness_down_blocks_no_checkpoint_and_cosigns_when_the_schedule_retries(
    alpha, witness_for, django_capture_on_commit_callbacks, client
):
    # Given a named witness that is down
    witness = witness_for(alpha, "witness.test/w1")
    witness.stop()

    # When a checkpoint is made
    checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)

    # Then the checkpoint is made all the same, and the audit page shows the witness as unreachable
    named = Witness.objects.get(organisation=alpha.organisation)
    assert named.failure.startswith("Unreachable:")
    failing_since = named.failing_since
    client.force_login(alpha.auditor)
    assert b'data-witness-alarm="witness.test/w1"' in client.get(reverse("custody:audit")).content
    # A second failed try, queued by the schedule, keeps the time the failures began
    assert witnesses_submit_pending() == "witness pushes queued: 1"
    assert Witness.objects.get(pk=named.pk).failing_since == failing_since
    assert not CheckpointCosignature.objects.filter(checkpoint=checkpoint).exists()

    # When the witness is back and the schedule runs
    witness.start()
    assert witnesses_submit_pending() == "witness pushes queued: 1"

    # Then it cosigned the checkpoint, and the alarm is gone
    assert CheckpointCosignature.objects.filter(checkpoint=checkpoint, witness=named).exists()
    named.refresh_from_db()
    assert (named.failure, named.failing_since, named.acknowledged_size) == ("", None, checkpoint.tree_size)
    assert b"data-witness-alarm" not in client.get(reverse("custody:audit")).content
    assert witnesses_submit_pending() == "witness pushes queued: 0"  # nothing left to push
    assert len(witness.requests) == 1


def test_second_organisations_witness_never_receives_the_first_organisations_checkpoints(
    alpha, beta, witness_for, django_capture_on_commit_callbacks
):
    alpha_witness = witness_for(alpha, "witness.test/alpha")
    beta_witness = witness_for(beta, "witness.test/beta")

    _checkpoint(alpha, django_capture_on_commit_callbacks)
    _checkpoint(alpha, django_capture_on_commit_callbacks, "more")
    witnesses_submit_pending()

    assert beta_witness.requests == []
    assert [origin for origin, _, _ in alpha_witness.requests] == [checkpoint_origin(alpha.organisation)] * 2
    beta_checkpoint = _checkpoint(beta, django_capture_on_commit_callbacks)
    assert beta_witness.requests == [(checkpoint_origin(beta.organisation), 0, 200)]
    assert len(alpha_witness.requests) == 2
    assert not CheckpointCosignature.objects.filter(
        checkpoint__organisation=beta.organisation, witness__organisation=alpha.organisation
    ).exists()
    assert CheckpointCosignature.objects.filter(checkpoint=beta_checkpoint, witness__name="witness.test/beta").exists()


def test_witness_that_only_pulls_is_sent_nothing(alpha, witness_for, django_capture_on_commit_callbacks):
    witness = witness_for(alpha, "witness.test/w1", with_url=False)
    _checkpoint(alpha, django_capture_on_commit_callbacks)
    assert witnesses_submit_pending() == "witness pushes queued: 0"
    assert witness.requests == []


@pytest.mark.parametrize("url", ["ftp://witness.test/", "witness.test/add", "javascript:alert(1)"])
def test_witness_url_must_be_http_or_https(alpha, url):
    witness = LocalWitness("witness.test/w1", {})
    with pytest.raises(Refused, match="http or https"):
        witness_add(organisation=alpha.organisation, vkey=witness.vkey(), url=url, actor=alpha.admin)
    assert not Witness.objects.exists()


@pytest.mark.parametrize(
    ("trusts", "status", "reason"),
    [
        ("nothing", 404, "does not know this log's origin"),
        ("another key", 403, "no signature on the checkpoint verifies with a key the witness trusts"),
    ],
)
def test_witness_refusing_the_log_is_an_alarm_with_the_protocols_reason(
    alpha, django_capture_on_commit_callbacks, trusts, status, reason
):
    origin = checkpoint_origin(alpha.organisation)
    other_key = LocalWitness("unused", {}).vkey()  # any 32-byte Ed25519 key that is not the log's
    witness = LocalWitness("witness.test/w1", {} if trusts == "nothing" else {origin: vkey_parse(other_key).public_key})
    witness.start()
    try:
        witness_add(organisation=alpha.organisation, vkey=witness.vkey(), url=witness.url, actor=alpha.admin)
        checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)
    finally:
        witness.stop()

    assert witness.requests == [(origin, 0, status)]
    named = Witness.objects.get(organisation=alpha.organisation)
    assert reason in named.failure and f"({status}" in named.failure
    assert not CheckpointCosignature.objects.filter(checkpoint=checkpoint).exists()


def test_administrator_names_a_witness_with_its_url_through_the_api(alpha, beta, client):
    witness = LocalWitness("witness.test/w1", {})
    client.force_login(alpha.admin)

    created = client.post(
        "/api/v1/custody/witnesses/",
        {"vkey": witness.vkey(), "url": "https://witness.test/tlog"},
        content_type="application/json",
    )
    refused = client.post(
        "/api/v1/custody/witnesses/",
        {"vkey": LocalWitness("witness.test/w2", {}).vkey(), "url": "ftp://witness.test/"},
        content_type="application/json",
    )

    assert created.status_code == 201
    assert (created.json()["url"], created.json()["acknowledged_size"], created.json()["failure"]) == (
        "https://witness.test/tlog",
        0,
        "",
    )
    assert refused.status_code == 400 and "http or https" in str(refused.json())
    assert list(Witness.objects.values_list("organisation", "name", "url")) == [
        (alpha.organisation.pk, "witness.test/w1", "https://witness.test/tlog")
    ]
    event = CustodyEvent.objects.get(action=Action.WITNESS_ADDED)
    assert event.organisation == alpha.organisation and event.details["url"] == "https://witness.test/tlog"


@pytest.mark.parametrize(
    "misbehaviour",
    # "trickle": each byte comes well within the timeout, so only a limit on the whole exchange stops the push.
    ["hang", "trickle"],
)
def test_witness_that_does_not_answer_in_time_is_given_up_on(
    alpha, witness_for, django_capture_on_commit_callbacks, settings, misbehaviour
):
    settings.EVIDENCEMEDIA_WITNESS_TIMEOUT_SECONDS = 1
    witness = witness_for(alpha, "witness.test/w1")
    witness.misbehave = misbehaviour

    started = time.monotonic()
    checkpoint = _checkpoint(alpha, django_capture_on_commit_callbacks)

    assert time.monotonic() - started < 2.5
    named = Witness.objects.get(organisation=alpha.organisation)
    assert named.failure.startswith("Unreachable:") and "timed out" in named.failure
    assert not CheckpointCosignature.objects.filter(checkpoint=checkpoint).exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/witness",
        "http://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "http://10.1.2.3/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "https://localhost:8443/",
    ],
)
def test_witness_url_on_a_non_public_address_is_refused_unless_the_operator_allows_it(alpha, settings, url):
    settings.EVIDENCEMEDIA_WITNESS_ALLOW_PRIVATE_ADDRESSES = False
    witness = LocalWitness("witness.test/w1", {})

    with pytest.raises(Refused, match="does not send checkpoints to that address"):
        witness_add(organisation=alpha.organisation, vkey=witness.vkey(), url=url, actor=alpha.admin)

    assert not Witness.objects.exists()
    assert not CustodyEvent.objects.filter(action=Action.WITNESS_ADDED).exists()


def test_push_to_a_name_resolving_to_the_loopback_is_not_made_unless_the_operator_allows_it(
    alpha, witness_for, django_capture_on_commit_callbacks, settings
):
    # The machine's own name resolves to the loopback here; a witness URL naming it passes the check when named
    # (a name is not resolved then) and must still not be connected to.
    host = socket.gethostname()
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, 80, 0, socket.SOCK_STREAM)}
    except OSError:
        pytest.skip(f"this machine's name {host} does not resolve")
    if not all(ipaddress.ip_address(address).is_loopback for address in addresses):
        pytest.skip(f"this machine's name {host} does not resolve to the loopback only")
    witness = witness_for(alpha, "witness.test/w1", with_url=False)
    Witness.objects.filter(organisation=alpha.organisation).update(url=f"http://{host}:{witness.port}")
    settings.EVIDENCEMEDIA_WITNESS_ALLOW_PRIVATE_ADDRESSES = False

    refused = _checkpoint(alpha, django_capture_on_commit_callbacks)

    assert witness.requests == []
    named = Witness.objects.get(organisation=alpha.organisation)
    assert named.failure.startswith("Unreachable: not contacted:") and "resolves only to refused" in named.failure
    assert not CheckpointCosignature.objects.filter(checkpoint=refused).exists()

    settings.EVIDENCEMEDIA_WITNESS_ALLOW_PRIVATE_ADDRESSES = True
    assert witnesses_submit_pending() == "witness pushes queued: 1"
    assert CheckpointCosignature.objects.filter(checkpoint=refused).exists()
    assert [status for _, _, status in witness.requests] == [200]


def test_witness_redirect_is_not_followed(alpha, witness_for, django_capture_on_commit_callbacks):
    # A 303 would turn urllib's POST into a GET of wherever it points, and its answer would be read as the witness's.
    target = witness_for(alpha, "witness.test/w1", with_url=False)

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(303)
            self.send_header("Location", f"{target.url}/add-checkpoint")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    redirecting = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=redirecting.serve_forever, daemon=True).start()
    try:
        Witness.objects.filter(organisation=alpha.organisation).update(
            url=f"http://127.0.0.1:{redirecting.server_address[1]}"
        )
        _checkpoint(alpha, django_capture_on_commit_callbacks)
    finally:
        redirecting.shutdown()
        redirecting.server_close()

    assert target.requests == []
    named = Witness.objects.get(organisation=alpha.organisation)
    assert "(303" in named.failure


def test_an_organisation_names_at_most_max_witnesses_and_another_is_not_held_to_its_count(alpha, beta):
    def vkey(name: str) -> str:
        return NoteKey(name, ED25519_COSIGNATURE, os.urandom(32)).vkey()

    for number in range(MAX_WITNESSES):
        witness_add(organisation=alpha.organisation, vkey=vkey(f"witness.test/{number}"), actor=alpha.admin)

    with pytest.raises(Refused, match=f"already names {MAX_WITNESSES} witnesses, the most it can"):
        witness_add(organisation=alpha.organisation, vkey=vkey("witness.test/one-more"), actor=alpha.admin)

    assert Witness.objects.filter(organisation=alpha.organisation).count() == MAX_WITNESSES
    added = CustodyEvent.objects.filter(organisation=alpha.organisation, action=Action.WITNESS_ADDED)
    assert added.count() == MAX_WITNESSES
    witness_add(organisation=beta.organisation, vkey=vkey("witness.test/0"), actor=beta.admin)


def test_the_retry_schedule_reads_each_organisation_once_not_each_witness(
    alpha, beta, witness_for, django_capture_on_commit_callbacks, django_assert_num_queries, monkeypatch
):
    # Given two organisations, each with three witnesses, all down but alpha's first when their checkpoints were made
    for tenant in (alpha, beta):
        for number in range(3):
            witness = witness_for(tenant, f"witness.test/{tenant.organisation.slug}-{number}")
            if witness.name != "witness.test/alpha-0":
                witness.stop()
    for tenant in (alpha, beta):
        _checkpoint(tenant, django_capture_on_commit_callbacks)
    queued = []
    monkeypatch.setattr("custody.witness_submissions.async_task", lambda task, pk, **options: queued.append(pk))

    # When the schedule runs: the witnesses, each organisation's newest checkpoint, the cosignatures, in 4 queries
    with django_assert_num_queries(4):
        outcome = witnesses_submit_pending()

    # Then every witness but the one that cosigned is queued
    assert outcome == "witness pushes queued: 5"
    assert sorted(queued) == sorted(Witness.objects.exclude(name="witness.test/alpha-0").values_list("pk", flat=True))
