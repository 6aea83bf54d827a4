"""Case search (reference, title, an item's file name, an item's digest prefix) answered from indexes.

A case matches by its own text, or by a list of case ids for each other way (items' file names, digests), each
filtered by the organisation. SQLite ORs them, `(text) OR id IN (…) OR id IN (…)`, and answers such an OR from an
index per part (MULTI-INDEX OR), its text part from the FTS5 candidates. PostgreSQL cannot answer an OR that holds a
subquery from indexes: it tests every case of the organisation (through `UPPER(…) LIKE` instead of the trigram
indexes, 20 ms at 10,000 cases). So it first asks for the items' case ids, and when they are few (the usual search
for one file or one hash) ORs them as numbers, `(text) OR id IN (1, 2, …)`: the trigram indexes and the primary key
answer that in one bitmap, one read of the matching cases (a title word matching 2,500 of 10,000 cases: 7.5 ms
where the union below took 12 ms, EXPLAIN ANALYZE). When they are many, it takes the union of the parts' ids, the
case's own text being one of them, `id IN (… UNION … UNION …)`, joined to the cases it names: the numbers would
cost more to write and plan than the join.

Text ("contains", case-insensitive): PostgreSQL answers `icontains` itself from the pg_trgm GIN indexes of
migration 0010. SQLite has no such index for LIKE, so the same migration keeps FTS5 trigram tables beside
`cases_case` and `cases_evidenceitem` (filled by triggers, so every writer keeps them current); a search first
takes the rows the trigram table holds and then applies the very same `icontains` to them, so the answer is exactly
the plain scan's. Without FTS5, or for a query shorter than a trigram, the plain scan answers.

Digest prefix: a range on (algorithm, value) rather than LIKE 'prefix%', so that every database walks the digest
index instead of scanning: digests are lowercase hex, and hex digits sort below "g", so [prefix, prefix + "g") is
exactly the values starting with the prefix.
"""

import re
from functools import reduce
from operator import or_

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
HEX_DIGITS = frozenset("0123456789abcdef")
# What pg_trgm takes for a word: a run of letters and digits (anything else separates words).
WORD_RUN = re.compile(r"[^\W_]+")
# PostgreSQL: up to this many item rows (file names, digests) matched, their case ids are written into the query as
# numbers; past it, joined as a subquery. Each number costs the ORM and the planner some microseconds: "IMG" in
# 100,000 file names gave 10,000 case ids, which took the ORM 37 ms to write and PostgreSQL 15 ms to plan, and the
# search twice as long as the join.
LISTED_CASE_IDS = 100


def case_search(query: str, organisation_id: int, *, min_hash_prefix: int) -> Q:
    """The organisation's cases whose reference or title, or one of whose items' original file name, contains
    `query`, or one of whose items has a SHA-256, SHA-1 or MD5 starting with `query` (case-insensitive, when it is
    hex of at least `min_hash_prefix` digits)."""
    from .models import Case, DigestAlgorithm, EvidenceDigest, EvidenceItem

    by_text = _contains("reference", query) | _contains("title", query)
    by_filename = EvidenceItem.objects.filter(
        _contains("original_filename", query), case__organisation_id=organisation_id
    )
    if _sqlite_text_index_usable(query):
        by_text &= Q(pk__in=_sqlite_candidates("cases_case_text", query))
        by_filename = by_filename.filter(pk__in=_sqlite_candidates("cases_evidenceitem_text", query))
    other_ids = [by_filename.values_list("case_id", flat=True).order_by()]
    prefix = query.lower()
    if len(prefix) >= min_hash_prefix and set(prefix) <= HEX_DIGITS:
        by_digest = EvidenceDigest.objects.filter(
            algorithm__in=DigestAlgorithm.values,
            value__gte=prefix,
            value__lt=prefix + "g",
            item__case__organisation_id=organisation_id,
        )
        other_ids.append(by_digest.values_list("item__case_id", flat=True).order_by())
    if connection.vendor == "sqlite":
        matching = reduce(or_, [by_text, *(Q(pk__in=ids) for ids in other_ids)])
    else:
        found = other_ids[0].union(*other_ids[1:], all=True) if other_ids[1:] else other_ids[0]
        # Asked now, and stopped after one too many (the same case counts once per item).
        listed = list(found[: LISTED_CASE_IDS + 1])
        if len(listed) <= LISTED_CASE_IDS:
            ids = sorted(set(listed))
            matching = by_text | Q(pk__in=ids) if ids else by_text
        else:
            text_ids = Case.objects.filter(by_text, organisation_id=organisation_id).values("pk").order_by()
            matching = Q(pk__in=text_ids.union(*other_ids))
    return matching & Q(organisation_id=organisation_id)


def _contains(field: str, query: str) -> Q:
    """`field` contains `query`, case-insensitively. On PostgreSQL, first its longest run of letters and digits:
    that selects no other rows (the run is part of the query), but the trigram index answers the pair far faster
    than the query alone when the query holds trigrams nearly every row has. "IMG_054321" among 100,000 file names
    "IMG_nnnnnn.jpg" took 7 ms from the GIN index alone, 0.1 ms after "054321" (EXPLAIN ANALYZE; the GIN scan
    takes its candidates from the first condition and only checks them against the second, in the order given)."""
    condition = Q(**{f"{field}__icontains": query})
    run = max(WORD_RUN.findall(query), key=len, default="")
    if connection.vendor == "postgresql" and len(run) >= TRIGRAM and run != query:
        return Q(**{f"{field}__icontains": run}) & condition
    return condition


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
