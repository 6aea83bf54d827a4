"""The custody bundle of an evidence item and the standalone verifier: a genuine bundle is intact, offline and
without Django; an edited event, a dropped event, a forged proof and a wrong public key are each rejected."""

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path

import _cffi_backend
import cryptography
import pytest

from cases import services
from custody.bundles import custody_bundle_build
from custody.canonical import entry_hash
from custody.checkpoints import checkpoint_make
from custody.models import Checkpoint, CustodyEvent
from custody.signing import keyring_generate, keyring_public_keys, public_key_b64, public_key_pem
from custody.verify import bundle_verify
from tests.conftest import PASSWORD

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def bundle(alpha, alpha_item, client):
    """The exported bundle of an item viewed, downloaded and noted on, as JSON text turned back into data."""
    client.login(username=alpha.investigator.username, password=PASSWORD)
    client.get(f"/evidence/{alpha_item.public_id}/")
    b"".join(client.get(f"/evidence/{alpha_item.public_id}/download/").streaming_content)
    services.case_note_add(case=alpha.case, text="unrelated note in between", actor=alpha.investigator)
    client.get(f"/api/v1/evidence/{alpha_item.public_id}/")
    response = client.get(f"/api/v1/custody/evidence/{alpha_item.public_id}/bundle/")
    assert response.status_code == 200
    return json.loads(response.content)


def _failures(document, **kwargs) -> str:
    report = bundle_verify(document, **kwargs)
    assert not report.ok
    return "\n".join(report.failures)


def test_genuine_bundle_is_intact(bundle, alpha_item):
    report = bundle_verify(bundle)

    assert report.ok, report.failures
    actions = [e["entry"]["action"] for e in bundle["events"]]
    assert actions[0] == "evidence.received"
    assert actions.count("evidence.viewed") == 2 and "media.downloaded" in actions
    assert all(e["entry"]["evidence"] == str(alpha_item.public_id) for e in bundle["events"])
    # the note between the download and the API view is not the item's, so those two are not linked but proven
    assert any("inclusion in the checkpoint" in line for line in report.verified)


def test_export_makes_a_checkpoint_covering_the_items_events(bundle, alpha):
    checkpoint = Checkpoint.objects.get(organisation=alpha.organisation)
    assert bundle["checkpoint"]["tree_size"] == checkpoint.tree_size
    assert bundle["checkpoint"]["root_hash"] == checkpoint.root_hash
    assert max(e["entry"]["sequence"] for e in bundle["events"]) <= checkpoint.tree_size
    assert CustodyEvent.objects.filter(organisation=alpha.organisation, action="checkpoint.made").count() == 1


def test_export_reuses_a_checkpoint_that_already_covers_the_item(alpha, alpha_item):
    checkpoint_make(organisation=alpha.organisation, reason="schedule")
    services.case_note_add(case=alpha.case, text="later", actor=alpha.investigator)

    document = custody_bundle_build(item=alpha_item)

    assert Checkpoint.objects.filter(organisation=alpha.organisation).count() == 1
    assert bundle_verify(json.loads(json.dumps(document))).ok


def test_edited_event_is_rejected(bundle):
    edited = copy.deepcopy(bundle)
    edited["events"][1]["entry"]["actor"] = "alpha-auditor"
    sequence = edited["events"][1]["entry"]["sequence"]

    assert f"event {sequence}: its fields do not hash to its entry_hash" in _failures(edited)


def test_edited_event_with_its_hash_recomputed_is_rejected(bundle):
    edited = copy.deepcopy(bundle)
    entry = edited["events"][0]["entry"]
    entry["details"]["size"] += 1
    entry["entry_hash"] = entry_hash(entry)

    failures = _failures(edited)
    assert "the signature is not valid" in failures
    assert "inclusion proof does not lead to the checkpoint root" in failures


def test_dropped_event_is_rejected(bundle):
    dropped = copy.deepcopy(bundle)
    removed = dropped["events"].pop(2)["entry"]["sequence"]

    assert f"event {removed} is in the signed list of events but not in the bundle: dropped" in _failures(dropped)


def test_forged_inclusion_proof_is_rejected(bundle):
    forged = copy.deepcopy(bundle)
    proof = forged["events"][0]["inclusion_proof"]
    proof[0] = bytes(b ^ (i == 0) for i, b in enumerate(bytes.fromhex(proof[0]))).hex()

    assert "inclusion proof does not lead to the checkpoint root" in _failures(forged)


@pytest.mark.parametrize("change", ["extra element", "missing element", "wrong leaf index"])
def test_malformed_inclusion_proof_is_rejected(bundle, change):
    forged = copy.deepcopy(bundle)
    event = forged["events"][1]
    if change == "extra element":
        event["inclusion_proof"].append("00" * 32)
    elif change == "missing element":
        event["inclusion_proof"].pop()
    else:
        event["leaf_index"] += 1

    assert f"event {event['entry']['sequence']}" in _failures(forged)


def test_wrong_public_key_in_the_bundle_is_rejected(bundle, tmp_path):
    # Given a bundle whose key is swapped for another, correctly labelled one
    keyring_generate(tmp_path / "other")
    (other_id, other_raw) = next(iter(keyring_public_keys(tmp_path / "other").items()))
    swapped = copy.deepcopy(bundle)
    swapped["public_keys"] = [
        {
            "key_id": other_id,
            "public_key_pem": public_key_pem(other_raw),
            "public_key_base64": public_key_b64(other_raw),
        }
    ]

    failures = _failures(swapped)

    assert "which is not among the trusted public keys" in failures


def test_public_key_that_does_not_match_its_id_is_rejected(bundle, tmp_path):
    keyring_generate(tmp_path / "other")
    other_raw = next(iter(keyring_public_keys(tmp_path / "other").values()))
    relabelled = copy.deepcopy(bundle)
    relabelled["public_keys"][0]["public_key_pem"] = public_key_pem(other_raw)
    relabelled["public_keys"][0]["public_key_base64"] = base64.b64encode(other_raw).decode()

    assert "does not match its id" in _failures(relabelled)


def test_keys_pinned_with_key_replace_the_bundles_own(bundle, tmp_path):
    keyring_generate(tmp_path / "other")
    other = keyring_public_keys(tmp_path / "other")

    assert "not among the trusted public keys" in _failures(bundle, trusted_keys=other)


def _offline(*arguments: str | Path) -> subprocess.CompletedProcess:
    """Run `python -m custody.verify` with no site-packages at all except `cryptography` (and its cffi backend):
    Django cannot even be imported there, so success proves the verifier never needs it."""
    deps = Path(arguments[0]).parent / "deps"
    deps.mkdir(exist_ok=True)
    for module in (Path(cryptography.__file__).parent, Path(_cffi_backend.__file__)):
        if not (deps / module.name).exists():
            (deps / module.name).symlink_to(module)
    runner = (
        f"import sys; sys.path[:0] = [{str(deps)!r}, {str(REPOSITORY)!r}]; "
        "import runpy; runpy.run_module('custody.verify', run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-S", "-I", "-c", runner, *map(str, arguments)], capture_output=True, text=True, timeout=60
    )


def test_offline_verifier_accepts_the_genuine_bundle_without_django(bundle, tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))

    result = _offline(path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("intact: custody bundle of evidence")
    assert "hash, signature" in result.stdout


def test_offline_verifier_rejects_a_tampered_bundle_and_a_wrong_pinned_key(bundle, tmp_path):
    edited = copy.deepcopy(bundle)
    edited["events"][0]["entry"]["details"]["detected_mime_type"] = "image/png"
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    keyring_generate(tmp_path / "other")
    other_pem = next((tmp_path / "other").glob("*.pub"))

    tampered = _offline(tmp_path / "edited.json")
    wrong_key = _offline(tmp_path / "bundle.json", "--key", other_pem)

    assert tampered.returncode == 1 and "FAILED" in tampered.stdout and "the event was edited" in tampered.stdout
    assert wrong_key.returncode == 1 and "not among the trusted public keys" in wrong_key.stdout


def test_verifier_module_imports_nothing_from_django():
    code = "import sys, custody.verify; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPOSITORY, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
