"""A row of the case list: the link to the case, its status, its items and their assessments, and when and by whom
it was created, in the viewer's time zone, with the creator's name and the title shown as text."""

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from cases import services
from cases.models import Case, CaseStatus, EvidenceItem
from cases.roles import Role
from tests.conftest import PASSWORD, jpeg_bytes, received


def test_a_row_shows_its_case_in_the_viewers_time_zone_and_names_as_text(client, alpha):
    # given a case under review, created at midnight UTC on 1 March 2026 by a member whose name looks like markup,
    # with two items declared AI-made and one whose signature is broken
    author = get_user_model().objects.create_user("o'brien<b>", password=PASSWORD)
    services.membership_set(organisation=alpha.organisation, user=author, role=Role.SUPERVISOR)
    case = services.case_create(organisation=alpha.organisation, title="<i>night</i> watch", actor=author)
    services.case_status_change(case=case, status=CaseStatus.UNDER_REVIEW, actor=author)
    Case.objects.filter(pk=case.pk).update(created_at=datetime(2026, 3, 1, tzinfo=UTC))
    assessments = [{"synthetic_media": {"state": "declared"}}] * 2 + [{"provenance": {"state": "broken"}}]
    for n, assessment in enumerate(assessments):
        item = services.evidence_receive(case=case, received=received(jpeg_bytes(colour=(n, 0, 0))), actor=author).item
        EvidenceItem.objects.filter(pk=item.pk).update(assessment=assessment)
    client.login(username=alpha.admin.username, password=PASSWORD)

    # when a viewer in the Chatham Islands (UTC+13:45 in March) lists the cases
    with timezone.override("Pacific/Chatham"):
        page = client.get("/cases/", {"q": "night"}).content.decode()

    # then the row links to the case and reads as the case is, escaped where it came from a person
    assert f'<td><a href="/cases/{case.public_id}/">{case.reference}</a></td>' in page
    assert '<td class="wrap">&lt;i&gt;night&lt;/i&gt; watch</td>' in page
    assert '<td><span class="status status-under_review">Under review</span></td>' in page
    badges = '<span class="badge badge-alert">2 AI-declared</span> <span class="badge badge-alert">1 signature broken'
    assert f'<td>3<span class="assessment-counts"> {badges}</span></span>\n</td>' in page
    assert "<td>2026-03-01 13:45 +1345 by o&#x27;brien&lt;b&gt;</td>" in page


def test_a_status_outside_the_choices_shows_as_recorded_and_as_text(client, alpha):
    # given a case whose stored status is no longer one of the choices, and looks like markup
    Case.objects.filter(pk=alpha.case.pk).update(status="<b>archived</b>")
    client.login(username=alpha.admin.username, password=PASSWORD)

    # when the case list is opened
    page = client.get("/cases/").content.decode()

    # then the row shows the value as it was recorded, escaped in the class and in the text
    status = "&lt;b&gt;archived&lt;/b&gt;"
    assert f'<td><span class="status status-{status}">{status}</span></td>' in page


def test_each_page_shows_the_cases_as_they_are_now(client, alpha):
    # given the case list seen once
    client.login(username=alpha.admin.username, password=PASSWORD)
    before = client.get("/cases/").content.decode()

    # when the case's title changes and an item is received into it
    Case.objects.filter(pk=alpha.case.pk).update(title="renamed")
    services.evidence_receive(case=alpha.case, received=received(jpeg_bytes()), actor=alpha.investigator)
    after = client.get("/cases/").content.decode()

    # then the next page shows the new title and item count, not the ones read before
    assert '<td class="wrap">alpha harassment</td>' in before and "<td>0\n</td>" in before
    assert '<td class="wrap">renamed</td>' in after and "<td>1\n</td>" in after


def test_the_filters_offer_the_organisations_members_as_text_and_keep_the_chosen_one(client, alpha, beta):
    # given a member of alpha whose name looks like markup, and the choices a person made in the filters
    member = get_user_model().objects.create_user('o"brien<b>&', password=PASSWORD)
    services.membership_set(organisation=alpha.organisation, user=member, role=Role.INVESTIGATOR)
    client.login(username=alpha.admin.username, password=PASSWORD)
    chosen = {"assignee": member.username, "status": "closed", "verdict": "compromised", "assessment": "edited"}

    # when the case list is filtered so
    page = client.get("/cases/", chosen).content.decode()

    # then the assignee filter lists alpha's members only, by name, escaped, the chosen one selected
    name = "o&quot;brien&lt;b&gt;&amp;"
    assert f'<option value="{name}" selected>{name}</option>' in page
    assert '<option value="alpha-admin">alpha-admin</option>' in page
    assert "beta-admin" not in page
    # and each other filter keeps its choice, and only it
    assert '<option value="closed" selected>Closed</option>' in page
    assert '<option value="compromised" selected>Integrity compromised</option>' in page
    assert '<option value="edited" selected>Edited</option>' in page
    assert page.count(" selected>") == 4 + 1  # and the organisation switcher's own


def test_a_value_outside_the_choices_selects_nothing(client, alpha):
    client.login(username=alpha.admin.username, password=PASSWORD)

    page = client.get("/cases/", {"status": '"><x', "verdict": "nope", "assignee": "nobody"}).content.decode()

    assert page.count(" selected>") == 1  # the organisation switcher's
    assert '"><x' not in page


def test_an_empty_list_says_why(client, alpha):
    # given alpha's administrator, and a new organisation's, which has no case yet
    newcomer = services.organisation_create(name="New unit", slug="new-unit", two_factor_required=False)
    services.membership_set(organisation=newcomer, user=alpha.auditor, role=Role.ADMIN)
    client.login(username=alpha.admin.username, password=PASSWORD)
    unmatched = client.get("/cases/", {"q": "nothing like this"}).content.decode()
    client.login(username=alpha.auditor.username, password=PASSWORD)
    client.post("/organisations/switch/", {"slug": "new-unit"})
    empty = client.get("/cases/").content.decode()

    assert '<tr><td colspan="6">No case matches these filters.' in unmatched
    assert '<a href="/cases/">clear the filters</a>.</td></tr>' in unmatched
    assert '<tr><td colspan="6">No cases yet.</td></tr>' in empty
