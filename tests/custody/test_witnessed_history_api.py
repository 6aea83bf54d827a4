"""The witnessed-history API: checkpoint notes, consistency proofs, the log's keys and witnesses, cosignatures.
Each is the member's own organisation's, needs custody access to every case (naming a witness: an
administrator), and a second organisation can neither read nor change the first's."""

import base64
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import reverse

from custody import merkle
from custody.checkpoints import checkpoint_make, checkpoint_origin
from custody.keys import public_keys
from custody.ledger import custody_event_record
from custody.models import Action, CheckpointCosignature, CustodyEvent, Witness
from custody.notes import ED25519_COSIGNATURE, NoteKey, cosignature_make, note_split, note_verify, vkey_parse

WITNESS_NAME = "witness.test/w1"


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.fixture
def witnessed(alpha, beta):
    """Two organisations, each with a checkpoint; alpha's has grown since its first one."""
    first = checkpoint_make(organisation=alpha.organisation, reason="test")
    for number in range(6):
        custody_event_record(
            organisation=alpha.organisation, action=Action.NOTE_ADDED, system="t", details={"n": number}
        )
    second = checkpoint_make(organisation=alpha.organisation, reason="test")
    checkpoint_make(organisation=beta.organisation, reason="test")
    return {"first": first, "second": second, "witness_key": Ed25519PrivateKey.generate()}


def _witness_vkey(key: Ed25519PrivateKey) -> str:
    return NoteKey(WITNESS_NAME, ED25519_COSIGNATURE, _raw(key)).vkey()


def _cosigned(note: str, key: Ed25519PrivateKey) -> str:
    text, _ = note_split(note)
    return note + cosignature_make(text, WITNESS_NAME, key, int(time.time())).line()


def test_checkpoint_note_is_the_members_own_organisations_and_verifies_with_its_published_key(
    client, alpha, beta, witnessed
):
    for tenant, checkpoint_of in ((alpha, witnessed["second"]), (beta, None)):
        client.force_login(tenant.auditor)
        response = client.get("/api/v1/custody/checkpoint/")
        log = client.get("/api/v1/custody/log/").json()

        assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
        assert log["origin"] == checkpoint_origin(tenant.organisation)
        [vkey] = [key["vkey"] for key in log["verifier_keys"] if key["active"]]
        head = note_verify(response.content.decode(), vkey_parse(vkey))
        assert head.origin == log["origin"] and str(tenant.organisation.public_id) in head.origin
        if checkpoint_of is not None:
            assert (head.tree_size, head.root.hex()) == (checkpoint_of.tree_size, checkpoint_of.root_hash)
    assert len(public_keys()) == len(log["verifier_keys"])


def test_consistency_proof_links_two_checkpoints_of_the_organisation(client, alpha, witnessed):
    first, second = witnessed["first"], witnessed["second"]
    client.force_login(alpha.supervisor)

    body = client.get(
        "/api/v1/custody/consistency/", {"old_size": first.tree_size, "new_size": second.tree_size}
    ).json()

    proof = [bytes.fromhex(node) for node in body["proof"]]
    assert (body["old_size"], body["new_size"]) == (first.tree_size, second.tree_size)
    assert merkle.verify_consistency(
        first.tree_size, second.tree_size, bytes.fromhex(first.root_hash), bytes.fromhex(second.root_hash), proof
    )


@pytest.mark.parametrize("query", [{"old_size": 0, "new_size": 3}, {"old_size": 5, "new_size": 4}, {"new_size": 3}])
def test_consistency_proof_refuses_sizes_out_of_range(client, alpha, witnessed, query):
    client.force_login(alpha.auditor)
    assert client.get("/api/v1/custody/consistency/", query).status_code == 400


def test_consistency_proof_is_bounded_by_the_members_own_ledger(client, alpha, beta, witnessed):
    # alpha's ledger is longer than beta's: a size only alpha has is out of range for beta's member
    client.force_login(beta.auditor)
    beta_size = CustodyEvent.objects.filter(organisation=beta.organisation).count()
    alpha_size = witnessed["second"].tree_size
    assert alpha_size > beta_size
    assert client.get("/api/v1/custody/consistency/", {"old_size": 1, "new_size": alpha_size}).status_code == 400


@pytest.mark.parametrize(
    "url", ["/api/v1/custody/checkpoint/", "/api/v1/custody/log/", "/api/v1/custody/consistency/?old_size=1&new_size=2"]
)
def test_members_without_custody_access_to_every_case_and_outsiders_cannot_read_the_log(
    client, alpha, outsider, witnessed, url
):
    client.force_login(alpha.investigator)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code in (401, 403)


def test_only_an_administrator_names_a_witness_and_only_for_their_organisation(client, alpha, beta, witnessed):
    vkey = _witness_vkey(witnessed["witness_key"])
    for member in (alpha.supervisor, alpha.auditor, alpha.investigator):
        client.force_login(member)
        assert (
            client.post("/api/v1/custody/witnesses/", {"vkey": vkey}, content_type="application/json").status_code
            == 403
        )
    assert not Witness.objects.exists()

    client.force_login(beta.admin)
    assert client.post("/api/v1/custody/witnesses/", {"vkey": vkey}, content_type="application/json").status_code == 201

    assert list(Witness.objects.values_list("organisation_id", "name")) == [(beta.organisation.pk, WITNESS_NAME)]
    client.force_login(alpha.auditor)
    assert client.get("/api/v1/custody/log/").json()["witnesses"] == []
    assert not CustodyEvent.objects.filter(organisation=alpha.organisation, action=Action.WITNESS_ADDED).exists()


def test_a_witness_key_of_the_wrong_type_is_refused(client, alpha, witnessed):
    client.force_login(alpha.admin)
    note_key = NoteKey(WITNESS_NAME, 0x01, _raw(witnessed["witness_key"])).vkey()
    mangled = _witness_vkey(witnessed["witness_key"])[:-4] + "AAA="

    for vkey in (note_key, mangled, "not a key"):
        assert (
            client.post("/api/v1/custody/witnesses/", {"vkey": vkey}, content_type="application/json").status_code
            == 400
        )
    assert not Witness.objects.exists()


def test_a_named_witness_cosignature_is_stored_and_shown_with_the_checkpoint(client, alpha, witnessed):
    client.force_login(alpha.admin)
    client.post(
        "/api/v1/custody/witnesses/", {"vkey": _witness_vkey(witnessed["witness_key"])}, content_type="application/json"
    )
    client.force_login(alpha.auditor)
    note = client.get("/api/v1/custody/checkpoint/").content.decode()

    response = client.post(
        "/api/v1/custody/checkpoint/cosignatures/",
        {"note": _cosigned(note, witnessed["witness_key"])},
        content_type="application/json",
    )

    assert response.status_code == 201, response.content
    [stored] = CheckpointCosignature.objects.all()
    assert stored.checkpoint == witnessed["second"]
    assert client.get("/api/v1/custody/checkpoint/").content.decode() == note + stored.line
    [listed, *_] = client.get("/api/v1/custody/checkpoints/").json()["results"]
    assert listed["note"] == witnessed["second"].note
    assert [(c["witness"], c["line"]) for c in listed["cosignatures"]] == [(WITNESS_NAME, stored.line)]
    audit_page = client.get(reverse("custody:audit")).content.decode()
    assert f"{WITNESS_NAME}, cosigned" in audit_page
    assert witnessed["second"].note.splitlines()[0] in audit_page
    again = client.post(
        "/api/v1/custody/checkpoint/cosignatures/",
        {"note": _cosigned(note, witnessed["witness_key"])},
        content_type="application/json",
    )
    assert again.status_code == 400 and CheckpointCosignature.objects.count() == 1


def test_cosignatures_of_another_organisations_checkpoint_or_an_unnamed_witness_are_refused(
    client, alpha, beta, witnessed
):
    # Given alpha's witness and a cosigned note of alpha's checkpoint
    client.force_login(alpha.admin)
    client.post(
        "/api/v1/custody/witnesses/", {"vkey": _witness_vkey(witnessed["witness_key"])}, content_type="application/json"
    )
    client.force_login(alpha.auditor)
    alpha_note = _cosigned(client.get("/api/v1/custody/checkpoint/").content.decode(), witnessed["witness_key"])
    events_before = CustodyEvent.objects.count()

    # When beta's member sends it to beta's endpoint, and alpha's member a note cosigned by an unknown witness
    client.force_login(beta.auditor)
    foreign = client.post(
        "/api/v1/custody/checkpoint/cosignatures/", {"note": alpha_note}, content_type="application/json"
    )
    client.force_login(alpha.auditor)
    unknown = _cosigned(client.get("/api/v1/custody/checkpoint/").content.decode(), Ed25519PrivateKey.generate())
    unnamed = client.post(
        "/api/v1/custody/checkpoint/cosignatures/", {"note": unknown}, content_type="application/json"
    )

    # Then both are refused and nothing was stored or recorded
    assert foreign.status_code == 400 and unnamed.status_code == 400
    assert not CheckpointCosignature.objects.exists()
    assert CustodyEvent.objects.count() == events_before


def test_a_forged_cosignature_of_a_named_witness_is_refused(client, alpha, witnessed):
    client.force_login(alpha.admin)
    client.post(
        "/api/v1/custody/witnesses/", {"vkey": _witness_vkey(witnessed["witness_key"])}, content_type="application/json"
    )
    client.force_login(alpha.auditor)
    cosigned = _cosigned(client.get("/api/v1/custody/checkpoint/").content.decode(), witnessed["witness_key"])
    body, line = cosigned.rsplit("\u2014 ", 1)
    name, signature = line.split(" ")
    raw = bytearray(base64.b64decode(signature))
    raw[-1] ^= 1
    forged = f"{body}\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n"

    response = client.post(
        "/api/v1/custody/checkpoint/cosignatures/", {"note": forged}, content_type="application/json"
    )

    assert response.status_code == 400 and "does not verify" in response.json()["detail"]
    assert not CheckpointCosignature.objects.exists()
