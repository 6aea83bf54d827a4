"""The pages that list items run a fixed number of queries however many items there are: no query per row, in
the page itself or in the template tags it uses (report links, analysis panel, digests)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import services
from cases.models import AnalysisStatus, Case, DigestAlgorithm, EvidenceDigest, EvidenceItem, Verdict
from cases.roles import Role
from cases.views import CaseDetailView
from forensics.models import Analysis
from reports.models import Report, ReportKind, ReportStatus
from tests.conftest import PASSWORD

# Pinned so that a new query on these pages is a decision, not an accident. Logged in as the investigator who
# created the case; an assigned investigator's pages read the case's assignees once more, however many
# permissions they check (cases.models.Case.assignee_ids). Each page includes the one query of the user's
# memberships (cases/middleware.py), which also answers the two-factor gate (cases/two_factor.py: has an
# authenticator? does an organisation require one?) and fills the organisation switcher.
CASE_LIST_QUERIES = 7
# A search asks for its matches' first page and their number in one query (cases/pagination.py); on PostgreSQL,
# after asking for the case ids of the items it matches (cases/search.py).
SEARCHED_CASE_LIST_QUERIES = 7 if connection.vendor == "postgresql" else 6
# With the evidence table's page count; and, for a member who may generate a case report, whether an item of the
# case is still being analysed (the button is then not offered: the request would be refused).
CASE_DETAIL_QUERIES = 12
# The evidence page records media.viewed: its ledger append also stores the entry's Merkle subtree nodes (one
# query to find the completed subtrees, one bulk insert), so checkpoints and proofs read O(log n) rows. Its latest
# analysis is read with the number of earlier ones, its custody timeline and its latest integrity alarm in a query
# each.
EVIDENCE_DETAIL_QUERIES = 16


def _items(case: Case, count: int, actor) -> list[EvidenceItem]:
    """`count` analysed items with digests, an analysis and a ready report each, written in bulk (the pages only
    read them; the ingest path is tested elsewhere)."""
    start = EvidenceItem.objects.count()
    items = EvidenceItem.objects.bulk_create(
        EvidenceItem(
            case=case,
            original_filename=f"photo-{start + n}.jpg",
            declared_mime_type="image/jpeg",
            detected_mime_type="image/jpeg",
            size=1000 + n,
            storage_key=f"bulk/{start + n}",
            received_by=actor,
            analysis_status=AnalysisStatus.DONE,
            verdict=[Verdict.OK, Verdict.ATTENTION][n % 2],
        )
        for n in range(count)
    )
    EvidenceDigest.objects.bulk_create(
        EvidenceDigest(item=item, algorithm=algorithm, value=f"{item.pk:0{length}x}")
        for item in items
        for algorithm, length in ((DigestAlgorithm.SHA256, 64), (DigestAlgorithm.SHA1, 40), (DigestAlgorithm.MD5, 32))
    )
    Analysis.objects.bulk_create(
        Analysis(evidence=item, status=AnalysisStatus.DONE, reason="upload", verdict=item.verdict) for item in items
    )
    Report.objects.bulk_create(
        Report(
            kind=ReportKind.EVIDENCE,
            case=case,
            evidence=item,
            status=ReportStatus.DONE,
            requested_by=actor,
            generated_at=timezone.now(),
            sha256="ab" * 32,
        )
        for item in items
    )
    return items


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def investigator_client(client, alpha):
    client.login(username=alpha.investigator.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("count", [5, 200])
def test_case_detail_queries_do_not_grow_with_items(investigator_client, alpha, count):
    _items(alpha.case, count, alpha.investigator)

    page = investigator_client.get(f"/cases/{alpha.case.public_id}/").content.decode()

    assert page.count('href="/reports/') == min(count, CaseDetailView.items_per_page)  # every row: its report link
    assert _queries(investigator_client, f"/cases/{alpha.case.public_id}/") == CASE_DETAIL_QUERIES


@pytest.mark.parametrize("count", [5, 200])
def test_evidence_detail_queries_do_not_grow_with_items(investigator_client, alpha, count):
    item = _items(alpha.case, count, alpha.investigator)[0]

    assert _queries(investigator_client, f"/evidence/{item.public_id}/") == EVIDENCE_DETAIL_QUERIES


def test_an_assigned_investigator_s_pages_read_the_assignees_once(client, alpha):
    # Given an investigator who did not create the case but is assigned to it, and an item of it
    colleague = _colleague("colleague")
    services.membership_set(organisation=alpha.organisation, user=colleague, role=Role.INVESTIGATOR)
    services.case_assign(case=alpha.case, investigators=[colleague], actor=alpha.admin)
    item = _items(alpha.case, 5, alpha.investigator)[0]
    client.login(username="colleague", password=PASSWORD)

    # When they open the case and the item, each page checking several permissions on the case
    # Then each page costs one query more than the creator's: the assignees, read once
    assert _queries(client, f"/cases/{alpha.case.public_id}/") == CASE_DETAIL_QUERIES + 1
    assert _queries(client, f"/evidence/{item.public_id}/") == EVIDENCE_DETAIL_QUERIES + 1


def test_assigning_through_a_case_changes_what_it_answers_about_involvement(alpha):
    # Given a case that has already answered that a colleague is not involved
    colleague = _colleague("colleague")
    services.membership_set(organisation=alpha.organisation, user=colleague, role=Role.INVESTIGATOR)
    assert not alpha.case.involves(colleague.pk)

    # When the colleague is assigned through the same instance, then unassigned
    services.case_assign(case=alpha.case, investigators=[colleague], actor=alpha.admin)
    assigned = alpha.case.involves(colleague.pk)
    services.case_assign(case=alpha.case, investigators=[], actor=alpha.admin)

    # Then the instance answers from the assignees as they are now
    assert assigned and not alpha.case.involves(colleague.pk)


def _colleague(username: str):
    return get_user_model().objects.create_user(username, password=PASSWORD)


@pytest.mark.parametrize("count", [5, 200])
def test_case_list_queries_do_not_grow_with_cases_or_items(investigator_client, alpha, count):
    for n in range(count):
        case = services.case_create(organisation=alpha.organisation, title=f"case {n}", actor=alpha.investigator)
        if n < 3:
            _items(case, 4, alpha.investigator)

    page = investigator_client.get("/cases/").content.decode()

    assert page.count('href="/cases/') >= min(count, 25)
    assert _queries(investigator_client, "/cases/") == CASE_LIST_QUERIES
    assert _queries(investigator_client, "/cases/?verdict=ok&status=open") == CASE_LIST_QUERIES
    assert _queries(investigator_client, "/cases/?q=photo&verdict=ok&status=open") == SEARCHED_CASE_LIST_QUERIES


def test_case_page_lists_its_evidence_a_page_at_a_time(investigator_client, alpha):
    items = _items(alpha.case, CaseDetailView.items_per_page + 3, alpha.investigator)
    first = investigator_client.get(f"/cases/{alpha.case.public_id}/").content.decode()
    last = investigator_client.get(f"/cases/{alpha.case.public_id}/", {"page": 2}).content.decode()

    assert str(items[0].public_id) in first and str(items[-1].public_id) not in first
    assert str(items[-1].public_id) in last and str(items[0].public_id) not in last
    assert f"of {len(items)}" in first and 'rel="next"' in first
