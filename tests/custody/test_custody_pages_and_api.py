"""Who sees what of the ledger: the audit page, case custody timelines, the custody API and sign-offs, by role
and across organisations; the published keys; the verify_custody command; the checkpoint schedule."""

import base64
import importlib
import io

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils.module_loading import import_string
from django_q.models import Schedule

from cases import services
from custody.canonical import entry_hash
from custody.checkpoints import checkpoint_make
from custody.models import CustodyEvent, ReviewSignOff
from custody.signing import key_id_for, public_key_from_pem
from tests.conftest import PASSWORD, jpeg_bytes, received
from tests.custody.conftest import raw_update

ORGANISATION_WIDE = [("admin", True), ("supervisor", True), ("investigator", False), ("auditor", True)]


def _login(client, user):
    client.login(username=user.username, password=PASSWORD)


@pytest.fixture
def under_review(alpha):
    services.case_status_change(case=alpha.case, status="under_review", actor=alpha.supervisor)
    return alpha.case


def test_public_keys_are_published_without_authentication(client, alpha):
    response = client.get("/api/v1/custody/keys/")

    assert response.status_code == 200
    [key] = response.json()
    raw = base64.b64decode(key["public_key_base64"])
    assert public_key_from_pem(key["public_key_pem"]) == raw
    assert key_id_for(raw) == key["key_id"] and key["active"] and key["algorithm"] == "Ed25519"
    assert CustodyEvent.objects.filter(key_id=key["key_id"]).exists()


@pytest.mark.parametrize("role,allowed", ORGANISATION_WIDE)
def test_who_opens_the_audit_page_and_verifies_the_whole_ledger(client, alpha, role, allowed):
    _login(client, alpha.member(role))

    page = client.get("/custody/")
    verify_page = client.post("/custody/verify/")
    verify_api = client.post("/api/v1/custody/verify/")

    assert page.status_code == (200 if allowed else 403)
    assert verify_page.status_code == (302 if allowed else 403)
    assert verify_api.status_code == (200 if allowed else 403)
    assert CustodyEvent.objects.filter(action="custody.verified").count() == (2 if allowed else 0)
    navigation = client.get("/cases/").content.decode()
    assert ('href="/custody/"' in navigation) is allowed


def test_audit_page_shows_status_checkpoint_root_and_cases_awaiting_review(client, alpha, under_review):
    _login(client, alpha.supervisor)
    client.post("/custody/verify/")
    checkpoint = checkpoint_make(organisation=alpha.organisation, reason="test")

    page = client.get("/custody/").content.decode()

    assert "alpha: intact" in page
    assert checkpoint.root_hash in page
    assert under_review.reference in page and "Sign off" not in page  # the form is on the case's custody page


def test_verify_api_reports_the_first_broken_sequence(client, alpha, triggers_dropped):
    event = CustodyEvent.objects.get(organisation=alpha.organisation, sequence=3)
    raw_update(event, "actor_label", "nobody")
    _login(client, alpha.auditor)

    body = client.post("/api/v1/custody/verify/").json()

    assert body["ok"] is False
    assert body["problems"][0] == {
        "kind": "content_changed",
        "label": "modified",
        "sequence": 3,
        "detail": body["problems"][0]["detail"],
    }
    assert "BROKEN at sequence 3: modified" in body["summary"]
    assert (
        CustodyEvent.objects.get(sequence=body["recorded_as"], organisation=alpha.organisation).details["ok"] is False
    )


@pytest.mark.parametrize(
    "role,allowed", [("admin", True), ("supervisor", True), ("investigator", False), ("auditor", False)]
)
def test_who_signs_off_a_review(client, alpha, under_review, role, allowed):
    _login(client, alpha.member(role))

    response = client.post(f"/custody/cases/{under_review.public_id}/sign-off/", {"comment": "Reviewed."})
    page = client.get(f"/custody/cases/{under_review.public_id}/").content.decode()

    assert response.status_code == (302 if allowed else 403)
    assert ReviewSignOff.objects.filter(case=under_review).count() == (1 if allowed else 0)
    assert (f"Reviewed by {alpha.member(role).username}" in page) is allowed


def test_sign_off_marks_the_case_reviewed_and_takes_it_out_of_every_review_queue(client, alpha, under_review):
    _login(client, alpha.supervisor)
    queued_on_dashboard = client.get("/dashboard/").context["review_cases"]

    client.post(f"/custody/cases/{under_review.public_id}/sign-off/", {"comment": "Hashes checked."})

    under_review.refresh_from_db()
    assert under_review.status == "reviewed"
    event = CustodyEvent.objects.get(case=under_review, action="review.signed_off")
    assert event.details["from"] == "under_review" and event.details["to"] == "reviewed"
    assert under_review in queued_on_dashboard
    assert under_review not in client.get("/dashboard/").context["review_cases"]
    audit = client.get("/custody/")
    assert under_review not in audit.context["awaiting"]
    assert list(client.get("/cases/?status=under_review").context["rows"]) == []
    again = client.post(f"/custody/cases/{under_review.public_id}/sign-off/", {"comment": "Twice."}, follow=True)
    assert ReviewSignOff.objects.filter(case=under_review).count() == 1
    assert "not under review" in again.content.decode()


def test_auditor_sees_the_timeline_read_only(client, alpha, under_review):
    _login(client, alpha.auditor)
    page = client.get(f"/custody/cases/{under_review.public_id}/").content.decode()
    assert "Case created" in page and "Sign off as reviewed" not in page


def test_supervisor_sees_the_sign_off_form_on_a_case_under_review(client, alpha, under_review):
    _login(client, alpha.supervisor)
    page = client.get(f"/custody/cases/{under_review.public_id}/").content.decode()
    assert "Sign off as reviewed" in page


def test_empty_sign_off_comment_is_refused(client, alpha, under_review):
    _login(client, alpha.supervisor)
    response = client.post(f"/custody/cases/{under_review.public_id}/sign-off/", {"comment": "  "})
    assert response.status_code == 400
    assert not ReviewSignOff.objects.exists()


def test_investigator_sees_only_the_timelines_of_their_cases(client, alpha, alpha_item):
    others = services.case_create(organisation=alpha.organisation, title="not theirs", actor=alpha.supervisor)
    _login(client, alpha.investigator)

    assert client.get(f"/custody/cases/{alpha.case.public_id}/").status_code == 200
    assert client.get(f"/api/v1/custody/cases/{alpha.case.public_id}/events/").status_code == 200
    assert client.get(f"/api/v1/custody/evidence/{alpha_item.public_id}/events/").status_code == 200
    assert client.get(f"/custody/cases/{others.public_id}/").status_code == 404
    assert client.get(f"/api/v1/custody/cases/{others.public_id}/events/").status_code == 404
    assert client.get("/api/v1/custody/checkpoints/").status_code == 200


def test_case_events_are_given_exactly_as_hashed(client, alpha, alpha_item):
    _login(client, alpha.auditor)

    events = client.get(f"/api/v1/custody/cases/{alpha.case.public_id}/events/").json()["results"]

    assert [e["action"] for e in events][:2] == ["case.created", "evidence.received"]
    assert all(entry_hash(e) == e["entry_hash"] for e in events)
    assert [e["sequence"] for e in events] == sorted(e["sequence"] for e in events)


def test_outsider_sees_no_custody_page_or_api(client, alpha, outsider, alpha_item):
    _login(client, outsider)
    assert client.get("/custody/").status_code == 403
    assert client.get(f"/custody/cases/{alpha.case.public_id}/").status_code == 403
    assert client.get(f"/api/v1/custody/evidence/{alpha_item.public_id}/bundle/").status_code == 403
    assert client.get("/api/v1/custody/checkpoints/").status_code == 403
    assert client.post("/api/v1/custody/verify/").status_code == 403


def test_foreign_custody_requests_change_nothing_in_the_other_organisation(client, alpha, beta):
    services.case_status_change(case=beta.case, status="under_review", actor=beta.supervisor)
    item = services.evidence_receive(
        case=beta.case, received=received(jpeg_bytes(colour=(3, 1, 4))), actor=beta.investigator
    ).item
    before = CustodyEvent.objects.filter(organisation=beta.organisation).count()
    _login(client, alpha.admin)

    assert client.get(f"/api/v1/custody/evidence/{item.public_id}/bundle/").status_code == 404
    assert client.post(f"/custody/cases/{beta.case.public_id}/sign-off/", {"comment": "x"}).status_code == 404
    client.post("/api/v1/custody/verify/")

    assert CustodyEvent.objects.filter(organisation=beta.organisation).count() == before
    assert not ReviewSignOff.objects.exists()


def test_verify_custody_command_reports_each_organisation_and_exits_0_when_intact(alpha, beta):
    out = io.StringIO()
    call_command("verify_custody", stdout=out)
    assert "alpha: intact" in out.getvalue() and "beta: intact" in out.getvalue()


def test_verify_custody_command_names_the_first_broken_sequence_and_exits_1(alpha, beta, triggers_dropped):
    raw_update(CustodyEvent.objects.get(organisation=alpha.organisation, sequence=2), "signature", "A" * 88)
    out = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("verify_custody", stdout=out)

    assert failed.value.returncode == 1
    assert "alpha: BROKEN at sequence 2: bad signature" in out.getvalue()
    assert "beta: intact" in out.getvalue()


def test_verify_custody_command_refuses_an_unknown_organisation(alpha):
    with pytest.raises(CommandError, match="No organisation"):
        call_command("verify_custody", "--org", "nowhere", stdout=io.StringIO())


def test_checkpoint_schedule_migration_is_idempotent_and_reversible(db):
    migration = importlib.import_module("custody.migrations.0004_checkpoint_schedule").Migration
    [operation] = migration.operations
    function = "custody.checkpoints.checkpoints_make_all"
    Schedule.objects.filter(func=function).delete()

    operation.code(apps, None)
    operation.code(apps, None)
    [schedule] = Schedule.objects.filter(func=function)
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 10, -1)
    assert import_string(schedule.func)() == 0  # runs, and finds nothing to checkpoint in an empty database

    operation.reverse_code(apps, None)
    assert not Schedule.objects.filter(func=function).exists()
