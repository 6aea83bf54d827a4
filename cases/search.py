"""Text search over cases and evidence ("contains", case-insensitive) answered from trigram indexes.

PostgreSQL answers `icontains` itself from the pg_trgm GIN indexes of migration 0010. SQLite has no such index
for LIKE, so the same migration keeps FTS5 trigram tables beside `cases_case` and `cases_evidenceitem` (filled
by triggers, so every writer keeps them current); a search first takes the rows the trigram table holds and
then applies the very same `icontains` to them, so the answer is exactly the plain scan's. Without FTS5, or for
a query shorter than a trigram, the plain scan answers.
"""

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

# (FTS5 table, the table it indexes, the columns searched)
SQLITE_TEXT_TABLES = (
    ("cases_case_text", "cases_case", ("reference", "title")),
    ("cases_evidenceitem_text", "cases_evidenceitem", ("original_filename",)),
)
TRIGRAM = 3
_TRIGGERS = ("insert", "delete", "update")


def case_text_matches(query: str, organisation_id: int) -> Q:
    """Cases whose reference or title, or one of whose items' original file name, contains `query`."""
    from .models import EvidenceItem

    by_filename = EvidenceItem.objects.filter(case__organisation_id=organisation_id, original_filename__icontains=query)
    by_text = Q(reference__icontains=query) | Q(title__icontains=query)
    if _sqlite_text_index_usable(query):
        by_filename = by_filename.filter(pk__in=_sqlite_candidates("cases_evidenceitem_text", query))
        by_text &= Q(pk__in=_sqlite_candidates("cases_case_text", query))
    return by_text | Q(pk__in=by_filename.values("case_id"))


def _sqlite_text_index_usable(query: str) -> bool:
    return connection.vendor == "sqlite" and len(query) >= TRIGRAM and sqlite_text_index_present(connection)


def _sqlite_candidates(table: str, query: str) -> RawSQL:
    """Row ids whose indexed text holds every trigram of `query` in sequence: a superset of the `icontains` rows
    (FTS5 folds case beyond ASCII, SQLite's LIKE only within it)."""
    phrase = '"' + query.replace('"', '""') + '"'
    return RawSQL(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", (phrase,))  # noqa: S611 - fixed names


# Per database file: whether its search tables are complete, checked once per process (and after a change).
_present: dict[str, bool] = {}


def sqlite_text_index_present(sqlite_connection) -> bool:
    """Whether this SQLite database has the FTS5 tables and all their triggers (it lacks them without FTS5, and
    loses the triggers when a migration rebuilds a table: the search then scans until they are put back)."""
    database = str(sqlite_connection.settings_dict["NAME"])
    if database not in _present:
        triggers = [f"{table}_{suffix}" for table, _s, _c in SQLITE_TEXT_TABLES for suffix in _TRIGGERS]
        with sqlite_connection.cursor() as cursor:
            placeholders = ", ".join("%s" for _ in triggers)
            cursor.execute(
                f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({placeholders})", triggers
            )
            _present[database] = cursor.fetchone()[0] == len(triggers)
    return _present[database]


def sqlite_text_index_create(cursor) -> None:
    """Create (or re-create) the FTS5 trigram tables and the triggers that keep them current, and fill them."""
    for table, source, columns in SQLITE_TEXT_TABLES:
        names = ", ".join(columns)
        new = ", ".join(f"new.{column}" for column in columns)
        old = ", ".join(f"old.{column}" for column in columns)
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5({names}, content='{source}', content_rowid='id', "
            "tokenize='trigram')"
        )
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_insert AFTER INSERT ON {source} BEGIN "
            f"INSERT INTO {table}(rowid, {names}) VALUES (new.id, {new}); END"
        )
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_delete AFTER DELETE ON {source} BEGIN "
            f"INSERT INTO {table}({table}, rowid, {names}) VALUES ('delete', old.id, {old}); END"
        )
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_update AFTER UPDATE OF {names} ON {source} BEGIN "
            f"INSERT INTO {table}({table}, rowid, {names}) VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {table}(rowid, {names}) VALUES (new.id, {new}); END"
        )
        cursor.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
    _present.clear()


def sqlite_text_index_drop(cursor) -> None:
    for table, _source, _columns in SQLITE_TEXT_TABLES:
        for suffix in _TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    _present.clear()


def sqlite_fts5_available(cursor) -> bool:
    cursor.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')")
    return bool(cursor.fetchone()[0])
