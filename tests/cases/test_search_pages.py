"""A searched case list's page and number of matches from one query (cases/pagination.py): the same page Django's
Paginator gives for every page number a request can carry, and never another organisation's cases."""

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import services
from cases.models import Case
from cases.pagination import id_page
from tests.conftest import PASSWORD

PER_PAGE = 4
NUMBERS = [None, "", "1", "2", "3", " 3", "4", "99", "9" * 30, "0", "-1", "x", "1.5", "2.0", "1e3", 2, 2.0, 2.5]


@pytest.fixture
def burglaries(alpha, beta):
    """Ten burglaries in alpha, six in beta, and cases of other titles in both."""
    for organisation, actor, count in ((alpha.organisation, alpha.supervisor, 10), (beta.organisation, beta.admin, 6)):
        for n in range(count):
            services.case_create(organisation=organisation, title=f"burglary {n}", actor=actor)
            services.case_create(organisation=organisation, title=f"fraud {n}", actor=actor)
    return alpha


def _seen(page) -> tuple:
    return page.number, list(page.object_list), page.paginator.count, page.paginator.num_pages


@pytest.mark.parametrize("title", ["burglary", "fraud 3", "nothing like it"])
def test_id_page_is_the_page_paginator_gives_for_any_page_number(burglaries, title):
    matches = Case.objects.filter(organisation=burglaries.organisation, title__contains=title).order_by(
        "-created_at", "-id"
    )

    for number in NUMBERS:
        expected = Paginator(matches.values_list("pk", flat=True), PER_PAGE).get_page(number)
        assert _seen(id_page(matches, PER_PAGE, number)) == _seen(expected), number


@pytest.mark.parametrize("ordering", [("title", "id"), ("-title", "pk"), None])
def test_id_page_keeps_the_querysets_order_ascending_descending_or_the_models(burglaries, ordering):
    # Given the burglaries ordered by title, either way, or by the model's own order (newest first)
    matches = Case.objects.filter(organisation=burglaries.organisation, title__contains="burglary")
    if ordering:
        matches = matches.order_by(*ordering)

    # Then each page holds the ids Paginator gives, in the same order
    for number in ["1", "2", "3"]:
        expected = Paginator(matches.values_list("pk", flat=True), PER_PAGE).get_page(number)
        assert _seen(id_page(matches, PER_PAGE, number)) == _seen(expected), number


def test_id_page_asks_one_query_for_a_page_with_rows_and_counts_only_past_the_end(burglaries):
    matches = Case.objects.filter(organisation=burglaries.organisation, title__startswith="burglary").order_by("-id")

    with CaptureQueriesContext(connection) as within:
        page = id_page(matches, PER_PAGE, "3")
    with CaptureQueriesContext(connection) as past_the_end:
        last = id_page(matches, PER_PAGE, "9")
        last_ids = list(last.object_list)

    assert (page.number, len(page.object_list), page.paginator.count) == (3, 2, 10)
    assert len(within) == 1
    assert (last.number, len(last_ids)) == (3, 2)
    assert len(past_the_end) == 3  # the empty page, the count, the last page


@pytest.mark.parametrize(("number", "shown", "listed"), [("1", 1, 25), ("2", 2, 5), ("3", 2, 5)])
def test_searched_case_list_counts_and_lists_only_the_organisation_s_cases(
    client, burglaries, beta, number, shown, listed
):
    # Given 30 burglaries in alpha (two pages of the list) and six in beta
    for n in range(10, 30):
        services.case_create(organisation=burglaries.organisation, title=f"burglary {n}", actor=burglaries.supervisor)
    client.login(username=burglaries.admin.username, password=PASSWORD)

    # When alpha's administrator searches for them, page by page (page 3 is past the end: the last page)
    response = client.get("/cases/", {"q": "burglary", "page": number})

    # Then the count and the pages hold alpha's cases only
    page, rows, body = response.context["page"], response.context["rows"], response.content.decode()
    assert (page.number, page.paginator.count, len(rows)) == (shown, 30, listed)
    assert {case.organisation_id for case in rows} == {burglaries.organisation.pk}
    assert "30 cases match." in body and f"Page {shown} of 2" in body
    for foreign in Case.objects.filter(organisation=beta.organisation):
        assert str(foreign.public_id) not in body
