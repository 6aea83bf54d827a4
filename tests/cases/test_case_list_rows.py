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
    assert "<td>2026-03-01 13:45 by o&#x27;brien&lt;b&gt;</td>" in page
