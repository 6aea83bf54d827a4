"""The dashboard, the case list's filters and the live-status JSON show only what the member may see."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services
from cases.models import EvidenceItem, Verdict
from custody.access import integrity_alarm_record
from forensics.services import analysis_complete, analysis_start
from tests.conftest import PASSWORD, jpeg_bytes, received


def _item(tenant, case=None, colour=(10, 20, 30), name="photo.jpg", verdict=None) -> EvidenceItem:
    """An item received into the case; with a verdict, its analysis recorded as done with that verdict, through
    the services the analysis task records its outcome with."""
    receipt = services.evidence_receive(
        case=case or tenant.case, received=received(jpeg_bytes(colour=colour), name), actor=tenant.investigator
    )
    if verdict is not None:
        analysis = analysis_start(analysis_id=receipt.item.analyses.get().pk)
        evaluation = {"findings": [], "verdict_code": verdict, "ruleset_version": "test"}
        analysis_complete(analysis=analysis, result={}, evaluation=evaluation)
    return EvidenceItem.objects.get(pk=receipt.item.pk)


def test_home_after_login_is_the_dashboard(client, alpha):
    response = client.post(reverse("login"), {"username": alpha.investigator.username, "password": PASSWORD})
    assert response["Location"] == "/dashboard/"
    assert client.get("/")["Location"] == "/dashboard/"


def test_dashboard_counts_chart_and_review_cover_only_visible_cases(client, alpha, beta):
    # Given an item of the investigator's case, one of a case they are not involved in, and one in beta
    _item(alpha, verdict=Verdict.ATTENTION)
    other = services.case_create(organisation=alpha.organisation, title="supervisor only", actor=alpha.supervisor)
    _item(alpha, case=other, colour=(1, 1, 1), verdict=Verdict.COMPROMISED)
    services.case_status_change(case=other, status="under_review", actor=alpha.supervisor)
    _item(beta, verdict=Verdict.COMPROMISED)

    client.login(username=alpha.investigator.username, password=PASSWORD)
    investigator = client.get("/dashboard/")
    client.login(username=alpha.supervisor.username, password=PASSWORD)
    supervisor = client.get("/dashboard/")

    # Then the investigator counts one item, sees no other case in review or activity; the supervisor sees both
    mine = {label: n for label, _, n in investigator.context["by_verdict"]}
    assert mine == {Verdict.OK.label: 0, Verdict.ATTENTION.label: 1, Verdict.COMPROMISED.label: 0}
    assert "1 item received" in investigator.context["chart"].summary
    assert list(investigator.context["review_cases"]) == []
    assert {e.case_id for e in investigator.context["activity"]} == {alpha.case.pk}
    assert other.reference not in investigator.content.decode()
    everything = {label: n for label, _, n in supervisor.context["by_verdict"]}
    assert everything[Verdict.COMPROMISED.label] == 1
    assert [c.pk for c in supervisor.context["review_cases"]] == [other.pk]
    assert {e.case_id for e in supervisor.context["activity"]} >= {alpha.case.pk, other.pk}
    assert str(beta.case.public_id) not in str(supervisor.context["activity"]) + supervisor.content.decode()


def test_integrity_alarm_banner_shows_on_the_dashboard_of_those_who_can_see_it(client, alpha):
    # Given an alarm on an item of a case the investigator is not involved in
    other = services.case_create(organisation=alpha.organisation, title="elsewhere", actor=alpha.supervisor)
    item = _item(alpha, case=other)
    client.login(username=alpha.investigator.username, password=PASSWORD)
    before = client.get("/dashboard/").content.decode()
    integrity_alarm_record(item=item, actor=alpha.admin, finding="the stored file is missing", found={})

    client.login(username=alpha.auditor.username, password=PASSWORD)
    auditor = client.get("/dashboard/").content.decode()
    client.login(username=alpha.investigator.username, password=PASSWORD)
    investigator = client.get("/dashboard/").content.decode()

    # Then the auditor (custody of every case) sees the banner; the uninvolved investigator sees nothing of it
    assert 'id="integrity-alarms"' not in before
    assert 'id="integrity-alarms"' in auditor and "the stored file is missing" in auditor
    assert 'id="integrity-alarms"' not in investigator

    # And when an item of their own case raises an alarm, and then the other case's item another one
    mine = _item(alpha, colour=(90, 90, 90))
    integrity_alarm_record(item=mine, actor=alpha.admin, finding="the stored file changed", found={})
    integrity_alarm_record(item=item, actor=alpha.admin, finding="the stored file is missing", found={})
    page = client.get("/dashboard/")

    # Then the investigator counts their case's alarm only, and it is the latest they are shown
    assert page.context["alarm_count"] == 1
    assert page.context["latest_alarm"].evidence_id == mine.pk


def test_live_status_reports_visible_items_only(client, alpha, beta):
    mine = _item(alpha)
    theirs = _item(beta)
    client.login(username=alpha.investigator.username, password=PASSWORD)

    body = client.get("/live/status/", {"items": f"{mine.public_id},{theirs.public_id},not-a-uuid"}).json()

    assert set(body["items"]) == {str(mine.public_id)}
    assert body["items"][str(mine.public_id)]["status"] == "queued"
    assert [entry["id"] for entry in body["in_progress"]] == [str(mine.public_id)]


def test_case_list_filters_by_verdict_assignee_and_hash_prefix(client, alpha):
    flagged = services.case_create(organisation=alpha.organisation, title="flagged", actor=alpha.supervisor)
    item = _item(alpha, case=flagged, name="IMG_4242.jpg", verdict=Verdict.COMPROMISED)
    quiet = services.case_create(organisation=alpha.organisation, title="quiet", actor=alpha.supervisor)
    services.case_assign(case=quiet, investigators=[alpha.investigator], actor=alpha.supervisor)
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    def listed(**params) -> list[str]:
        return [case.title for case in client.get("/cases/", params).context["rows"]]

    assert listed(verdict="compromised") == ["flagged"]
    assert listed(assignee=alpha.investigator.username) == ["quiet"]
    assert listed(q=item.sha256[:8]) == ["flagged"]
    assert listed(q=item.sha256[:5]) == []  # too short to be read as a hash prefix
    assert listed(q="img_4242") == ["flagged"]
    assert listed(q="nothing like this") == []
    assert "No case matches these filters" in client.get("/cases/", {"q": "nothing like this"}).content.decode()


@pytest.mark.parametrize("page", ["1", "2"])
def test_case_list_pages_keep_the_filters(client, alpha, page):
    for n in range(30):
        services.case_create(organisation=alpha.organisation, title=f"burglary {n}", actor=alpha.supervisor)
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    response = client.get("/cases/", {"q": "burglary", "status": "open", "page": page})

    assert response.context["page"].paginator.count == 30
    assert len(response.context["rows"]) == (25 if page == "1" else 5)
    assert "q=burglary&amp;status=open&amp;page=" in response.content.decode()


def test_case_list_finds_the_cases_of_a_verdict_from_the_verdict_index(client, alpha):
    # Given cases with items of several verdicts
    for n, verdict in enumerate([Verdict.OK, Verdict.COMPROMISED, Verdict.ATTENTION]):
        case = services.case_create(organisation=alpha.organisation, title=f"case {n}", actor=alpha.supervisor)
        _item(alpha, case=case, colour=(n, 0, 0), verdict=verdict)
    client.login(username=alpha.supervisor.username, password=PASSWORD)

    # When the case list is filtered by a verdict
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/cases/", {"verdict": "compromised"})

    # Then it lists the one case, and counts the cases from the index of items by verdict and case rather than by
    # reading every item of the organisation
    assert [case.title for case in page.context["rows"]] == ["case 1"]
    (count,) = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SELECT COUNT(*)")]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + count)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("RESET enable_seqscan")
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + count)
            plan = "\n".join(row[3] for row in cursor.fetchall())
    assert "evidence_verdict_case" in plan, plan
