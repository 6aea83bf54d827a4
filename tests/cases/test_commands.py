"""Management commands: createorganisation, ingest, seed_demo and create_api_token, run through call_command."""

import base64
import hashlib
import io
import json
import shutil
import stat
import subprocess
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.storage import storages
from django.core.management import call_command
from django.core.management.base import CommandError

from cases import services
from cases.models import ApiToken, Case, EvidenceItem, Membership, Organisation
from cases.roles import Role
from custody.models import Action, CustodyEvent
from encryption.plaintext import plaintext_copy
from tests.conftest import PASSWORD, jpeg_bytes, png_bytes, received
from tests.second_factor import totp_code


@dataclass
class Run:
    stdout: str
    stderr: str
    error: CommandError | None = field(default=None)


def run(*args: str) -> Run:
    """Run a command as manage.py would; a CommandError is kept with the output instead of propagating."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return Run(out.getvalue(), err.getvalue(), error)
    return Run(out.getvalue(), err.getvalue())


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# createorganisation


def test_createorganisation_creates_the_organisation_and_an_admin_who_can_sign_in(db, client):
    # when
    result = run("createorganisation", "North Legal Aid", "--slug", "north", "--admin", "nadia", "--password", PASSWORD)

    # then
    assert result.error is None
    organisation = Organisation.objects.get(slug="north")
    assert organisation.name == "North Legal Aid"
    assert Membership.objects.get(organisation=organisation, user__username="nadia").role == Role.ADMIN
    assert client.login(username="nadia", password=PASSWORD)
    assert PASSWORD not in result.stdout


def test_createorganisation_prints_a_generated_password_that_works(db, client):
    # when
    result = run("createorganisation", "North Legal Aid", "--slug", "north", "--admin", "nadia")

    # then
    line = next(line for line in result.stdout.splitlines() if line.startswith("Generated password for nadia: "))
    password = line.rsplit(" ", 1)[1]
    assert len(password) >= 20
    assert client.login(username="nadia", password=password)


def test_createorganisation_without_admin_creates_only_the_organisation(db):
    # when
    result = run("createorganisation", "North Legal Aid", "--slug", "north")

    # then
    assert result.error is None
    assert not Membership.objects.filter(organisation__slug="north").exists()


def test_createorganisation_refuses_a_duplicate_slug_and_creates_nothing(alpha):
    # given
    users_before = get_user_model().objects.count()

    # when
    result = run("createorganisation", "Another Unit", "--slug", "alpha", "--admin", "newcomer")

    # then
    assert result.error is not None
    assert "slug 'alpha' already exists" in str(result.error)
    assert Organisation.objects.filter(slug="alpha").get().name == "Unit Alpha"
    assert get_user_model().objects.count() == users_before


def test_createorganisation_refuses_a_duplicate_name(alpha):
    # when
    result = run("createorganisation", "unit alpha", "--slug", "alpha-2")

    # then
    assert "named 'unit alpha' already exists" in str(result.error)
    assert not Organisation.objects.filter(slug="alpha-2").exists()


def test_createorganisation_refuses_to_reset_an_existing_users_password(alpha, client):
    # when
    result = run(
        "createorganisation", "North", "--slug", "north", "--admin", "alpha-auditor", "--password", "x" * 8 + PASSWORD
    )

    # then
    assert "already exists" in str(result.error)
    assert not Organisation.objects.filter(slug="north").exists()
    assert client.login(username="alpha-auditor", password=PASSWORD)


def test_createorganisation_makes_an_existing_user_admin_of_the_new_organisation(alpha, client):
    # when
    result = run("createorganisation", "North", "--slug", "north", "--admin", "alpha-auditor")

    # then
    assert result.error is None
    assert "Generated password" not in result.stdout
    assert Membership.objects.get(organisation__slug="north", user=alpha.auditor).role == Role.ADMIN
    assert client.login(username="alpha-auditor", password=PASSWORD)


def test_createorganisation_refuses_a_weak_password(db):
    # when
    result = run("createorganisation", "North", "--slug", "north", "--admin", "nadia", "--password", "password")

    # then
    assert "Password refused" in str(result.error)
    assert not Organisation.objects.filter(slug="north").exists()
    assert not get_user_model().objects.filter(username="nadia").exists()


# ingest


def test_ingest_stores_named_files_and_directory_contents_with_digests_equal_to_hashlib(alpha, tmp_path):
    # given a loose file and a directory tree
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_bytes(colour=(1, 2, 3)))
    tree = tmp_path / "seized"
    (tree / "phone" / "DCIM").mkdir(parents=True)
    (tree / "phone" / "DCIM" / "b.jpg").write_bytes(jpeg_bytes(colour=(4, 5, 6)))
    (tree / "a.png").write_bytes(png_bytes())
    files = [photo, tree / "a.png", tree / "phone" / "DCIM" / "b.jpg"]

    # when
    result = run("ingest", "--org", "alpha", "--case", alpha.case.reference, str(photo), str(tree))

    # then every file is an item, in sorted order, with the digests hashlib computes
    assert result.error is None, result.stderr
    items = list(EvidenceItem.objects.filter(case=alpha.case).order_by("id"))
    assert [item.original_filename for item in items] == ["photo.jpg", "a.png", "b.jpg"]
    for item, path in zip(items, files, strict=True):
        data = path.read_bytes()
        assert item.digest("sha256") == sha256_of(data)
        assert item.digest("sha1") == hashlib.sha1(data).hexdigest()
        assert item.digest("md5") == hashlib.md5(data).hexdigest()
        assert item.size == len(data)
        assert item.received_by == alpha.admin
        assert storages["evidence"].open(item.storage_key).read() == data
        assert f"evidence={item.public_id} sha256={item.sha256} type={item.detected_mime_type}" in result.stdout
    assert [item.detected_mime_type for item in items] == ["image/jpeg", "image/png", "image/jpeg"]


def test_ingest_reports_a_refused_file_exits_1_and_stores_the_others(alpha, tmp_path, isolated_storage):
    # given two images and a text file between them
    (tmp_path / "import").mkdir()
    (tmp_path / "import" / "a.jpg").write_bytes(jpeg_bytes(colour=(10, 10, 10)))
    (tmp_path / "import" / "b-notes.txt").write_text("not media\n")
    (tmp_path / "import" / "c.png").write_bytes(png_bytes())

    # when
    result = run("ingest", "--org", "alpha", "--case", alpha.case.reference, str(tmp_path / "import"))

    # then
    assert result.error is not None and result.error.returncode == 1
    assert "2 stored, 1 refused" in str(result.error)
    refusal = next(line for line in result.stderr.splitlines() if "b-notes.txt" in line)
    assert refusal.startswith("REFUSED ")
    assert "not a supported image or video type" in refusal
    assert sorted(EvidenceItem.objects.filter(case=alpha.case).values_list("original_filename", flat=True)) == [
        "a.jpg",
        "c.png",
    ]
    assert list((isolated_storage / "incoming").iterdir()) == []


def test_ingest_names_the_earlier_item_a_file_duplicates(alpha, tmp_path):
    # given
    first = services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator).item
    copy = tmp_path / "copy.jpg"
    copy.write_bytes(jpeg_bytes())

    # when
    result = run("ingest", "--org", "alpha", "--case", alpha.case.reference, str(copy))

    # then
    assert f"duplicate-of={first.public_id}" in result.stdout
    assert EvidenceItem.objects.get(original_filename="copy.jpg").duplicate_of == first


def test_ingest_records_the_actor_and_acquisition_context(alpha, tmp_path):
    # given
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_bytes())

    # when
    result = run(
        "ingest",
        "--org",
        "alpha",
        "--case",
        alpha.case.reference,
        "--actor",
        "alpha-investigator",
        "--found-at",
        "https://social.example/p/1",
        "--collected-by",
        "Officer Demo",
        "--collected-at",
        "2025-03-14T21:07:00+01:00",
        str(photo),
    )

    # then
    assert result.error is None
    item = EvidenceItem.objects.get(case=alpha.case)
    assert item.received_by == alpha.investigator
    assert (item.acquired_from, item.acquired_by) == ("https://social.example/p/1", "Officer Demo")
    assert item.acquired_at.isoformat() == "2025-03-14T20:07:00+00:00"


@pytest.mark.parametrize("role", ["auditor", "outsider", "uninvolved-investigator"])
def test_ingest_refuses_an_actor_without_upload_scope_on_the_case(alpha, beta, outsider, tmp_path, role):
    # given a case created by the supervisor, so alpha's investigator is not involved in it
    case = services.case_create(organisation=alpha.organisation, title="Supervisor's case", actor=alpha.supervisor)
    actor = {"auditor": "alpha-auditor", "outsider": "outsider", "uninvolved-investigator": "alpha-investigator"}[role]
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_bytes())

    # when
    result = run("ingest", "--org", "alpha", "--case", case.reference, "--actor", actor, str(photo))

    # then
    assert result.error is not None
    assert actor in str(result.error)
    assert not EvidenceItem.objects.exists()


def test_ingest_refuses_a_member_of_another_organisation_as_actor(alpha, beta, tmp_path):
    # given beta's administrator, who is no member of alpha
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_bytes())

    # when
    result = run("ingest", "--org", "alpha", "--case", alpha.case.reference, "--actor", "beta-admin", str(photo))

    # then
    assert "beta-admin is not a member of Unit Alpha" in str(result.error)
    assert not EvidenceItem.objects.exists()


def test_ingest_does_not_follow_symbolic_links(alpha, tmp_path):
    # given an image outside the imported tree, linked from inside it
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(jpeg_bytes())
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "real.png").write_bytes(png_bytes())
    (tree / "link.jpg").symlink_to(outside)
    (tree / "linked-dir").symlink_to(tmp_path)

    # when
    result = run("ingest", "--org", "alpha", "--case", alpha.case.reference, str(tree))

    # then
    assert list(EvidenceItem.objects.values_list("original_filename", flat=True)) == ["real.png"]
    assert "link.jpg: is a symbolic link" in result.stderr
    assert "linked-dir: is a symbolic link" in result.stderr
    assert result.error.returncode == 1


def test_ingest_refuses_a_closed_case_per_file(alpha, tmp_path):
    # given
    services.case_status_change(case=alpha.case, status="closed", actor=alpha.supervisor)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_bytes())

    # when
    result = run("ingest", "--org", "alpha", "--case", alpha.case.reference, str(photo))

    # then
    assert "is closed" in result.stderr
    assert result.error.returncode == 1
    assert not EvidenceItem.objects.exists()


# seed_demo


@pytest.fixture
def demo_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def _counts() -> dict[str, int]:
    """Rows in every table of every installed app, custody events included."""
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


def test_seed_demo_second_run_creates_nothing_new(db, demo_data_dir):
    # given
    first = run("seed_demo")
    counts = _counts()
    password_hashes = dict(get_user_model().objects.values_list("username", "password"))
    logins = (demo_data_dir / "demo-logins.txt").read_text()

    # when
    second = run("seed_demo")

    # then
    assert first.error is None and second.error is None
    seeded = {
        "cases.Organisation": 2,
        "auth.User": 5,
        "cases.Membership": 5,
        "cases.Case": 3,
        "cases.EvidenceItem": 6,
        "cases.EvidenceDigest": 18,
    }
    assert {label: counts[label] for label in seeded} == seeded
    assert _counts() == counts
    assert dict(get_user_model().objects.values_list("username", "password")) == password_hashes
    assert (demo_data_dir / "demo-logins.txt").read_text() == logins
    assert "nothing created" in second.stdout


def test_seed_demo_corrects_an_old_demo_legal_aid_kept_as_law_enforcement_and_records_it(db, demo_data_dir):
    # given a data directory seeded before the demo had two kinds: Demo Legal Aid as law enforcement, its policies
    old = services.organisation_create(name="Demo Legal Aid", slug="demo")
    assert (old.kind, old.retention_policy, old.two_factor_required) == ("law_enforcement", "keep", True)

    # when
    first = run("seed_demo")
    events = CustodyEvent.objects.filter(organisation=old, action=Action.ORGANISATION_KIND_CHANGED)
    recorded = list(events.values_list("details", flat=True))
    second = run("seed_demo")

    # then it is a legal-aid organisation with that kind's policies, the correction is in its ledger, once
    legal_aid = Organisation.objects.get(slug="demo")
    assert (legal_aid.kind, legal_aid.retention_policy, legal_aid.two_factor_required) == (
        "legal_aid",
        "privacy_first",
        False,
    )
    assert recorded == [
        {
            "from": {
                "kind": "law_enforcement",
                "retention": {"policy": "keep", "days": 90},
                "two_factor_required": True,
            },
            "to": {
                "kind": "legal_aid",
                "retention": {"policy": "privacy_first", "days": 90},
                "two_factor_required": False,
            },
        }
    ]
    assert events.get().actor_label == "system:administration"
    assert "Demo Legal Aid corrected to legal aid" in first.stdout
    assert events.count() == 1 and "corrected" not in second.stdout
    # and the policies it reset are also under their own actions, for an audit of retention or two-factor changes
    policies = CustodyEvent.objects.filter(
        organisation=old, action__in=[Action.RETENTION_CHANGED, Action.TWO_FACTOR_POLICY_CHANGED]
    )
    assert sorted((event.action, event.details) for event in policies) == [
        (
            Action.RETENTION_CHANGED,
            {"from": {"policy": "keep", "days": 90}, "to": {"policy": "privacy_first", "days": 90}},
        ),
        (Action.TWO_FACTOR_POLICY_CHANGED, {"required": False}),
    ]
    # and the police unit, created by this run, is left as it was made
    assert not CustodyEvent.objects.filter(action=Action.ORGANISATION_KIND_CHANGED).exclude(organisation=old).exists()


def test_correcting_an_organisation_to_the_kind_it_has_changes_and_records_nothing(db):
    # given a legal-aid organisation whose administrators chose to keep media and require a second factor
    organisation = services.organisation_create(name="Aid", slug="aid", kind="legal_aid", two_factor_required=True)
    admin = get_user_model().objects.create_user(username="aid-admin")
    services.organisation_retention_set(organisation=organisation, policy="keep", actor=admin)
    events = CustodyEvent.objects.filter(organisation=organisation).count()

    # when
    services.organisation_kind_correct(organisation=organisation, kind="legal_aid")

    # then their choices stay, and the ledger has no new entry
    organisation.refresh_from_db()
    assert (organisation.retention_policy, organisation.two_factor_required) == ("keep", True)
    assert CustodyEvent.objects.filter(organisation=organisation).count() == events


def test_seed_demo_prints_the_url_and_logins_kept_in_a_private_file(db, demo_data_dir, client):
    # when
    result = run("seed_demo")

    # then the file is private, and every printed login works
    logins = demo_data_dir / "demo-logins.txt"
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    assert "http://127.0.0.1:8000/" in result.stdout
    for username in ("demo-admin", "demo-supervisor", "demo-investigator", "demo-auditor"):
        printed = next(line.split() for line in result.stdout.splitlines() if line.strip().startswith(username))
        assert printed[1] in logins.read_text()
        assert client.login(username=username, password=printed[1])
        client.logout()


def test_seed_demo_gives_each_demo_user_their_role_and_the_investigator_two_organisations(db, demo_data_dir):
    # when
    run("seed_demo")

    # then
    roles = dict(Membership.objects.filter(organisation__slug="demo").values_list("user__username", "role"))
    assert roles == {
        "demo-admin": Role.ADMIN,
        "demo-supervisor": Role.SUPERVISOR,
        "demo-investigator": Role.INVESTIGATOR,
        "demo-auditor": Role.AUDITOR,
    }
    police = Membership.objects.get(organisation__slug="demo-police")
    assert (police.user.username, police.role) == ("demo-investigator", Role.INVESTIGATOR)
    assert Case.objects.filter(organisation__slug="demo-police").count() == 1
    investigator_case = Case.objects.get(organisation__slug="demo", created_by__username="demo-investigator")
    assert list(investigator_case.assignees.values_list("username", flat=True)) == ["demo-investigator"]
    assert Case.objects.filter(organisation__slug="demo", created_by__username="demo-supervisor").count() == 1


def test_seed_demo_recreates_lost_logins_that_work_for_existing_users(db, demo_data_dir, client):
    # given a seeded demo whose logins file was deleted
    run("seed_demo")
    (demo_data_dir / "demo-logins.txt").unlink()

    # when
    result = run("seed_demo")

    # then
    printed = next(line.split() for line in result.stdout.splitlines() if line.strip().startswith("demo-admin"))
    assert client.login(username="demo-admin", password=printed[1])
    assert stat.S_IMODE((demo_data_dir / "demo-logins.txt").stat().st_mode) == 0o600


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="ExifTool is not installed")
def test_seed_demo_items_are_the_generated_media_types_and_the_edit_names_photoshop(db, demo_data_dir):
    # when
    run("seed_demo")

    # then every item is what was generated, as libmagic sees the stored bytes
    items = {item.original_filename: item for item in EvidenceItem.objects.filter(case__organisation__slug="demo")}
    detected = {name: item.detected_mime_type for name, item in items.items()}
    assert detected == {
        "IMG_0412.JPG": "image/jpeg",
        "IMG_0412-edited.jpg": "image/jpeg",
        "received-via-messenger.jpg": "image/jpeg",
        "00042-1234567890.png": "image/png",
        "VID_20240314_210800.mp4": "video/mp4",
    }
    camera_copies = EvidenceItem.objects.filter(original_filename="IMG_0412.JPG").order_by("id")
    assert camera_copies[1].duplicate_of == camera_copies[0]

    # and ExifTool reads the edit's and the stripped copy's metadata from the stored bytes
    def exif(name: str) -> dict:
        with plaintext_copy(store="evidence", name=items[name].storage_key) as path:
            completed = subprocess.run(["exiftool", "-json", "-G", "-n", path], capture_output=True, check=True)
        return json.loads(completed.stdout)[0]

    edited, camera, stripped = exif("IMG_0412-edited.jpg"), exif("IMG_0412.JPG"), exif("received-via-messenger.jpg")
    assert edited["EXIF:Software"] == "Adobe Photoshop 25.0 (Windows)"
    assert edited["EXIF:ModifyDate"] > edited["EXIF:DateTimeOriginal"]
    assert (edited["File:ImageWidth"], edited["EXIF:ExifImageWidth"]) == (512, 640)
    assert camera["EXIF:Make"] == "Canon" and "EXIF:Software" not in camera
    assert not [key for key in stripped if key.split(":")[0] in {"EXIF", "XMP", "IPTC", "JFIF", "ICC_Profile"}]
    with plaintext_copy(store="evidence", name=items["00042-1234567890.png"].storage_key) as png:
        completed = subprocess.run(["exiftool", "-json", "-PNG:Parameters", png], capture_output=True, check=True)
    assert json.loads(completed.stdout)[0]["Parameters"].startswith("DEMO DATA")


# create_api_token


def test_create_api_token_prints_a_secret_that_authenticates_and_stores_only_its_hash(alpha, beta, client):
    # when
    result = run("create_api_token", "--user", "alpha-investigator", "--org", "alpha", "--name", "laptop script")

    # then the secret works against the API, in alpha only
    secret = next(line for line in result.stdout.splitlines() if line.startswith("em_"))
    assert "cannot be shown again" in result.stdout
    response = client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert response.status_code == 200, response.content
    assert [case["reference"] for case in response.json()["results"]] == [alpha.case.reference]
    assert response.json()["results"][0]["title"] == "alpha harassment"

    # and the database holds a hash of it, never the secret itself
    token = ApiToken.objects.get()
    assert (token.user, token.organisation, token.name) == (alpha.investigator, alpha.organisation, "laptop script")
    assert token.key_hash == sha256_of(secret.encode())
    assert secret not in {str(value) for value in ApiToken.objects.values().get().values()}


def test_create_api_token_refuses_a_user_who_is_not_a_member(alpha, beta):
    # when
    result = run("create_api_token", "--user", "beta-admin", "--org", "alpha", "--name", "sneaky")

    # then
    assert "not a member" in str(result.error)
    assert not ApiToken.objects.exists()


def test_seed_demo_prints_a_staff_login_that_reaches_the_admin_with_its_authenticator(db, demo_data_dir, client):
    # when
    result = run("seed_demo")

    # then the staff login and its authenticator key are printed, and with them the admin opens
    lines = result.stdout.splitlines()
    printed = next(line.split() for line in lines if line.strip().startswith("demo-staff"))
    keys_from = next(n for n, line in enumerate(lines) if "Add these keys" in line)
    key_line = next(line.split(None, 1) for line in lines[keys_from:] if line.strip().startswith("demo-staff"))
    key_hex = base64.b32decode(key_line[1].replace(" ", "")).hex()
    assert client.post("/login/", {"username": "demo-staff", "password": printed[1]}).status_code == 302
    assert client.get("/admin/").status_code == 302  # the code first
    assert client.post("/login/code/", {"code": totp_code(key_hex, 1), "next": "/admin/"}).status_code == 302
    assert client.get("/admin/").status_code == 200
    # and Demo Legal Aid is a legal-aid organisation with its policies, the police unit requires a second factor
    legal_aid, police = Organisation.objects.get(slug="demo"), Organisation.objects.get(slug="demo-police")
    assert (legal_aid.kind, legal_aid.retention_policy, legal_aid.two_factor_required) == (
        "legal_aid",
        "privacy_first",
        False,
    )
    assert police.two_factor_required
