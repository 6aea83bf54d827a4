"""Case search from indexes (cases/search.py): the same answers as a plain scan, never another organisation's."""

import re

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

import cases.search
from cases import services
from cases.apps import sqlite_text_index_heal
from cases.models import Case, EvidenceDigest, EvidenceItem
from cases.pagination import id_page
from cases.search import SQLITE_TEXT_TABLES, case_search, sqlite_text_index_present
from cases.views import MIN_HASH_PREFIX
from tests.conftest import PASSWORD, jpeg_bytes, received

TITLES = ["Überfall am Hafen", "café robbery", "100% fake_profile", "North district threats", "q"]
FILES = ["IMG_4242.JPG", "Screenshot 2026-03-01 at 10.15.png", "überwachung.mp4", "a%b_c.jpg"]
QUERIES = [
    "north", "NORTH", "ort", "no", "q", "über", "ÜBER", "Über", "café", "CAFÉ", "100%", "%", "_", "fake_p",
    "img_42", "4242.jpg", "screenshot 2026", "a%b", "b_c", "nothing here", "EM-", '"quoted"', "r'",
]  # fmt: skip


def plain_scan(query: str, organisation_id: int, *, min_hash_prefix: int = len("any")) -> Q:
    """The search as one OR over the columns and subqueries, as the case list wrote it before the union."""
    files = EvidenceItem.objects.filter(case__organisation_id=organisation_id, original_filename__icontains=query)
    matching = Q(reference__icontains=query) | Q(title__icontains=query) | Q(pk__in=files.values("case_id"))
    if len(query) >= min_hash_prefix and re.fullmatch("[0-9a-fA-F]+", query):
        digests = EvidenceDigest.objects.filter(item__case__organisation_id=organisation_id)
        matching |= Q(pk__in=digests.filter(value__startswith=query.lower()).values("item__case_id"))
    return matching


@pytest.fixture
def searchable(alpha, beta):
    for title in TITLES:
        services.case_create(organisation=alpha.organisation, title=title, actor=alpha.investigator)
        services.case_create(organisation=beta.organisation, title=title, actor=beta.investigator)
    for shade, name in enumerate(FILES):
        upload = received(jpeg_bytes(colour=(shade * 40, 80, 120)), name=name)
        services.evidence_receive(case=alpha.case, received=upload, actor=alpha.admin)
    services.evidence_receive(case=beta.case, received=received(jpeg_bytes(colour=(1, 2, 3))), actor=beta.admin)
    return alpha


def matched(query: Q, organisation_id: int) -> set[str]:
    return set(Case.objects.filter(organisation_id=organisation_id).filter(query).values_list("title", flat=True))


def test_indexed_search_answers_exactly_what_the_plain_scan_answers(searchable):
    organisation_id = searchable.organisation.pk
    assert _text_index_in_place()

    for query in QUERIES:
        expected = matched(plain_scan(query, organisation_id), organisation_id)
        assert matched(search(query, organisation_id), organisation_id) == expected, query
    assert matched(search("north", organisation_id), organisation_id) == {"North district threats"}
    assert matched(search("4242.jpg", organisation_id), organisation_id) == {searchable.case.title}


def test_case_list_lists_what_the_plain_scan_lists_in_the_same_order(searchable, beta, client):
    # Given alpha's cases and items (beta holds the same titles), and each item's SHA-256, SHA-1 and MD5 prefixes
    organisation_id = searchable.organisation.pk
    digests = EvidenceDigest.objects.filter(item__case=searchable.case).values_list("value", flat=True)
    prefixes = [value[:length] for value in digests for length in (MIN_HASH_PREFIX - 1, MIN_HASH_PREFIX, 12)]
    beta_prefix = EvidenceDigest.objects.filter(item__case__organisation=beta.organisation).first()
    client.login(username=searchable.admin.username, password=PASSWORD)

    for query in [*QUERIES, *prefixes, *(prefix.upper() for prefix in prefixes), "", "EM-2026"]:
        # When the case list is searched
        page = client.get("/cases/", {"q": query})

        # Then it lists the cases the plain scan finds (and a hash prefix only from six hex digits), newest first
        cases = Case.objects.filter(organisation_id=organisation_id).order_by("-created_at", "-id")
        if query:
            cases = cases.filter(plain_scan(query, organisation_id, min_hash_prefix=MIN_HASH_PREFIX))
        assert [case.pk for case in page.context["rows"]] == list(cases.values_list("pk", flat=True)), query
        assert page.context["page"].paginator.count == cases.count(), query
    # And a prefix of one of beta's digests finds nothing in alpha
    beta_page = client.get("/cases/", {"q": beta_prefix.value[:12]})
    assert beta_page.context["page"].paginator.count == 0


def test_api_search_finds_a_hash_prefix_of_any_length(searchable, client):
    organisation_id = searchable.organisation.pk
    value = EvidenceDigest.objects.filter(item__case=searchable.case).first().value
    for query in (value[:1], value[:3], value[:40].upper(), "north", "ÜBER"):
        expected = matched(plain_scan(query, organisation_id, min_hash_prefix=1), organisation_id)
        assert matched(search(query, organisation_id, min_hash_prefix=1), organisation_id) == expected, query
    assert matched(search(value[:3], organisation_id, min_hash_prefix=1), organisation_id) >= {searchable.case.title}


def test_rows_changed_by_any_writer_are_searched_by_their_new_text(searchable):
    organisation_id = searchable.organisation.pk
    Case.objects.filter(title="café robbery").update(title="Bakery robbery")
    EvidenceItem.objects.filter(original_filename="IMG_4242.JPG").update(original_filename="DSC_0001.JPG")

    assert matched(search("café", organisation_id), organisation_id) == set()
    assert matched(search("bakery", organisation_id), organisation_id) == {"Bakery robbery"}
    assert matched(search("img_4242", organisation_id), organisation_id) == set()
    assert matched(search("dsc_0001", organisation_id), organisation_id) == {searchable.case.title}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 tables and their triggers are SQLite's")
def test_search_scans_while_a_trigger_is_missing_and_migrate_puts_the_triggers_back(searchable):
    organisation_id = searchable.organisation.pk
    table = SQLITE_TEXT_TABLES[0][0]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {table}_update")  # what a migration that rebuilds cases_case does
    import cases.search

    cases.search._present.clear()
    Case.objects.filter(title="café robbery").update(title="Bakery robbery")  # not seen by the FTS5 table

    assert not sqlite_text_index_present(connection)
    assert matched(search("bakery", organisation_id), organisation_id) == {"Bakery robbery"}

    sqlite_text_index_heal(using="default")

    assert sqlite_text_index_present(connection)
    assert matched(search("bakery", organisation_id), organisation_id) == {"Bakery robbery"}


@pytest.fixture
def sizeable(searchable):
    """An organisation of some size (on a few rows a scan is cheaper than any index): 3,000 more cases in four
    districts with three items each, analysed."""
    organisation, admin = searchable.organisation, searchable.admin
    cases = Case.objects.bulk_create(
        Case(
            organisation=organisation,
            reference=f"EM-2025-{n:05d}",
            title=f"Report {n} ({['north', 'south', 'east', 'west'][n % 4]} district)",
            created_by=admin,
        )
        for n in range(3000)
    )
    EvidenceItem.objects.bulk_create(
        EvidenceItem(
            case=case,
            original_filename=f"IMG_{n:06d}.jpg",
            detected_mime_type="image/jpeg",
            size=n,
            storage_key=f"test/{n}",
            received_by=admin,
        )
        for n, case in enumerate(cases * 3)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return searchable


def _plan(queryset, *settings: str) -> str:
    with connection.cursor() as cursor:
        for setting in settings:
            cursor.execute(f"SET LOCAL {setting} = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        for setting in settings:
            cursor.execute(f"RESET {setting}")
    return plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm indexes are PostgreSQL's")
def test_postgresql_answers_a_search_with_few_items_from_one_bitmap(sizeable):
    # Given an organisation of 3,000 cases and 9,000 items
    organisation = sizeable.organisation
    # When the case list is searched for a file name that one item has
    with CaptureQueriesContext(connection) as asked:
        condition = search("IMG_000042", organisation.pk)
    listed = Case.objects.filter(condition).order_by("-created_at", "-id")

    # Then the items' case ids were asked first, from the file names' trigram index
    (items,) = asked.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + items["sql"])
        items_plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "evidence_filename_trgm" in items_plan, items_plan
    # And the cases are read once, from one bitmap of the trigram indexes and the primary key: no case's text is
    # tested row by row (a LIKE in a Filter), and no subquery is tested against each case
    plan = _plan(listed, "enable_seqscan", "enable_indexscan")
    for index in ("case_reference_trgm", "case_title_trgm", "cases_case_pkey"):
        assert index in plan, plan
    assert "BitmapOr" in plan, plan
    assert "SubPlan" not in plan, plan
    assert not [line for line in plan.splitlines() if "Filter:" in line and "~~" in line and "Recheck" not in line]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm indexes are PostgreSQL's")
def test_postgresql_joins_the_union_of_the_parts_when_items_match_many_cases(sizeable):
    # Given an organisation of 3,000 cases and 9,000 items, and a search whose file names match a thousand cases
    organisation = sizeable.organisation
    listed = Case.objects.filter(search("IMG_001", organisation.pk)).order_by("-created_at", "-id")

    # When it is planned
    plan = _plan(listed, "enable_seqscan", "enable_indexscan")

    # Then each text part reads its own trigram index (with the case's text tested in the OR beside the subqueries,
    # no index could answer it: the cases of the organisation were read through its index and filtered), and no
    # part reads every item
    for index in ("case_reference_trgm", "case_title_trgm", "evidence_filename_trgm"):
        assert index in plan, plan
    assert "Seq Scan on cases_evidenceitem" not in plan, plan
    # And the parts' ids are joined to the cases they name, not each case of the organisation tested against them
    assert "SubPlan" not in plan, plan
    assert listed.count() == Case.objects.filter(evidence__original_filename__startswith="IMG_001").distinct().count()
    # And the trigram indexes keep no pending list that every search would read in full
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reloptions FROM pg_class WHERE relname LIKE %s", ["%_trgm"])
        options = dict(cursor.fetchall())
    assert options == dict.fromkeys(
        ["case_reference_trgm", "case_title_trgm", "evidence_filename_trgm"], ["fastupdate=off"]
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm indexes are PostgreSQL's")
def test_postgresql_counts_and_pages_a_search_from_the_trigram_bitmap(sizeable):
    # Given an organisation of 3,000 cases, one in four of whose titles hold "north"
    organisation = sizeable.organisation
    matches = Case.objects.filter(search("north", organisation.pk)).order_by("-created_at", "-id")
    captured = []

    def keep(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    # When the case list asks for the count and the first page of its matches
    with connection.execute_wrapper(keep):
        page = id_page(matches, 25, 1)

    # Then the count is exact, and the matches are read from the trigram indexes' bitmap, not found by walking the
    # index of the list's order and testing each case's title (what PostgreSQL does when it plans for the LIMIT)
    assert page.paginator.count == matches.count() == 750 + 1
    ((sql, params),) = captured
    plan = _plan_sql(sql, params)
    assert "BitmapOr" in plan, plan
    assert not [line for line in plan.splitlines() if "Filter:" in line and "~~" in line and "Recheck" not in line]


def _plan_sql(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    return plan


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the two forms of the search are PostgreSQL's")
def test_postgresql_search_answers_alike_with_the_case_ids_listed_or_joined(searchable, monkeypatch):
    # Given alpha's cases and items, and each item's digests' prefixes
    organisation_id = searchable.organisation.pk
    digests = EvidenceDigest.objects.filter(item__case=searchable.case).values_list("value", flat=True)
    prefixes = [value[:length] for value in digests for length in (MIN_HASH_PREFIX, 12)]

    for query in [*QUERIES, *prefixes, "EM-2026"]:
        # When the items' case ids are written into the query as numbers, and when they are joined as a subquery
        listed = matched(search(query, organisation_id), organisation_id)
        with monkeypatch.context() as patch:
            patch.setattr(cases.search, "LISTED_CASE_IDS", 0)
            joined = matched(search(query, organisation_id), organisation_id)

        # Then both find what the plain scan finds
        assert listed == joined == matched(plain_scan(query, organisation_id), organisation_id), query


def test_case_list_search_does_not_reach_another_organisation(searchable, beta, client):
    client.login(username=searchable.admin.username, password=PASSWORD)
    beta_case = Case.objects.filter(organisation=beta.organisation, title="North district threats").get()

    page = client.get("/cases/", {"q": "north"}).content.decode()

    assert str(searchable.organisation.cases.get(title="North district threats").public_id) in page
    assert str(beta_case.public_id) not in page


@pytest.mark.parametrize("listed", [100, 0], ids=["case ids listed", "case ids joined"])
def test_no_part_of_the_search_reaches_another_organisation(searchable, beta, client, listed, monkeypatch):
    monkeypatch.setattr(cases.search, "LISTED_CASE_IDS", listed)
    # Given beta's case holding an item named like alpha's, and alpha's and beta's items' digests
    beta_item = services.evidence_receive(
        case=beta.case, received=received(jpeg_bytes(colour=(7, 7, 7)), name=FILES[0]), actor=beta.admin
    ).item
    beta_digest = beta_item.digests.get(algorithm="sha256").value
    client.login(username=beta.admin.username, password=PASSWORD)

    # When beta searches by alpha's case reference and title, alpha's file name, and its own item's hash prefix
    alpha_only = {case.pk for case in Case.objects.filter(organisation=searchable.organisation)}
    for query in (searchable.case.reference, "North", FILES[0], beta_digest[:8], "EM-"):
        rows = client.get("/cases/", {"q": query}).context["rows"]

        # Then only beta's own cases are listed
        assert rows, query
        assert not {case.pk for case in rows} & alpha_only, query
        assert {case.organisation_id for case in rows} == {beta.organisation.pk}, query


def search(query: str, organisation_id: int, *, min_hash_prefix: int = MIN_HASH_PREFIX) -> Q:
    return case_search(query, organisation_id, min_hash_prefix=min_hash_prefix)


def _text_index_in_place() -> bool:
    if connection.vendor == "sqlite":
        return sqlite_text_index_present(connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%_trgm"])
        return {row[0] for row in cursor.fetchall()} >= {"case_reference_trgm", "case_title_trgm"}
