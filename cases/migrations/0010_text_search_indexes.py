"""Trigram indexes for the case and evidence text search (cases/search.py).

PostgreSQL: the pg_trgm extension and GIN indexes on the upper-cased reference, title and original file name,
the expressions Django's `icontains` compares, so the planner answers it from the index. SQLite: FTS5 trigram
tables kept current by triggers. Other databases, or SQLite without FTS5, keep the plain scan."""

from django.db import migrations

from cases.search import sqlite_fts5_available, sqlite_text_index_create, sqlite_text_index_drop

POSTGRESQL_INDEXES = (
    ("case_reference_trgm", "cases_case", "reference"),
    ("case_title_trgm", "cases_case", "title"),
    ("evidence_filename_trgm", "cases_evidenceitem", "original_filename"),
)


def text_indexes_create(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            for name, table, column in POSTGRESQL_INDEXES:
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER({column}::text)) gin_trgm_ops)"
                )
        elif connection.vendor == "sqlite" and sqlite_fts5_available(cursor):
            sqlite_text_index_create(cursor)


def text_indexes_drop(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name, _table, _column in POSTGRESQL_INDEXES:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
        elif connection.vendor == "sqlite":
            sqlite_text_index_drop(cursor)


class Migration(migrations.Migration):
    dependencies = [("cases", "0009_evidence_assessment")]

    operations = [migrations.RunPython(text_indexes_create, text_indexes_drop)]
