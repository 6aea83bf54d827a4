"""Case and evidence text search from trigram indexes (cases/search.py): the same answers as a plain scan."""

import pytest
from django.db import connection
from django.db.models import Q

from cases import services
from cases.apps import sqlite_text_index_heal
from cases.models import Case, EvidenceItem
from cases.search import SQLITE_TEXT_TABLES, case_text_matches, sqlite_text_index_present
from tests.conftest import PASSWORD, jpeg_bytes, received

TITLES = ["Überfall am Hafen", "café robbery", "100% fake_profile", "North district threats", "q"]
FILES = ["IMG_4242.JPG", "Screenshot 2026-03-01 at 10.15.png", "überwachung.mp4", "a%b_c.jpg"]
QUERIES = [
    "north", "NORTH", "ort", "no", "q", "über", "ÜBER", "Über", "café", "CAFÉ", "100%", "%", "_", "fake_p",
    "img_42", "4242.jpg", "screenshot 2026", "a%b", "b_c", "nothing here", "EM-", '"quoted"', "r'",
]  # fmt: skip


def plain_scan(query: str, organisation_id: int) -> Q:
    files = EvidenceItem.objects.filter(case__organisation_id=organisation_id, original_filename__icontains=query)
    return Q(reference__icontains=query) | Q(title__icontains=query) | Q(pk__in=files.values("case_id"))


@pytest.fixture
def searchable(alpha, beta):
    for title in TITLES:
        services.case_create(organisation=alpha.organisation, title=title, actor=alpha.investigator)
        services.case_create(organisation=beta.organisation, title=title, actor=beta.investigator)
    for name in FILES:
        services.evidence_receive(case=alpha.case, received=received(jpeg_bytes(), name=name), actor=alpha.admin)
    return alpha


def matched(query: Q, organisation_id: int) -> set[str]:
    return set(Case.objects.filter(organisation_id=organisation_id).filter(query).values_list("title", flat=True))


def test_indexed_search_answers_exactly_what_the_plain_scan_answers(searchable):
    organisation_id = searchable.organisation.pk
    assert _text_index_in_place()

    for query in QUERIES:
        expected = matched(plain_scan(query, organisation_id), organisation_id)
        assert matched(case_text_matches(query, organisation_id), organisation_id) == expected, query
    assert matched(case_text_matches("north", organisation_id), organisation_id) == {"North district threats"}
    assert matched(case_text_matches("4242.jpg", organisation_id), organisation_id) == {searchable.case.title}


def test_rows_changed_by_any_writer_are_searched_by_their_new_text(searchable):
    organisation_id = searchable.organisation.pk
    Case.objects.filter(title="café robbery").update(title="Bakery robbery")
    EvidenceItem.objects.filter(original_filename="IMG_4242.JPG").update(original_filename="DSC_0001.JPG")

    assert matched(case_text_matches("café", organisation_id), organisation_id) == set()
    assert matched(case_text_matches("bakery", organisation_id), organisation_id) == {"Bakery robbery"}
    assert matched(case_text_matches("img_4242", organisation_id), organisation_id) == set()
    assert matched(case_text_matches("dsc_0001", organisation_id), organisation_id) == {searchable.case.title}


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
    assert matched(case_text_matches("bakery", organisation_id), organisation_id) == {"Bakery robbery"}

    sqlite_text_index_heal(using="default")

    assert sqlite_text_index_present(connection)
    assert matched(case_text_matches("bakery", organisation_id), organisation_id) == {"Bakery robbery"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm indexes are PostgreSQL's")
def test_postgresql_answers_contains_from_the_trigram_index(searchable):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = Case.objects.filter(title__icontains="north").query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "case_title_trgm" in plan


def test_case_list_search_does_not_reach_another_organisation(searchable, beta, client):
    client.login(username=searchable.admin.username, password=PASSWORD)
    beta_case = Case.objects.filter(organisation=beta.organisation, title="North district threats").get()

    page = client.get("/cases/", {"q": "north"}).content.decode()

    assert str(searchable.organisation.cases.get(title="North district threats").public_id) in page
    assert str(beta_case.public_id) not in page


def _text_index_in_place() -> bool:
    if connection.vendor == "sqlite":
        return sqlite_text_index_present(connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE %s", ["%_trgm"])
        return {row[0] for row in cursor.fetchall()} >= {"case_reference_trgm", "case_title_trgm"}
