"""Database triggers that make the ledger tables append-only for every client, not only for the ORM."""

# Every append-only table; each migration that creates one names its own tables, so that replaying an old
# migration never touches a table that does not exist yet.
TABLES = (
    "custody_custodyevent",
    "custody_checkpoint",
    "custody_reviewsignoff",
    "custody_checkpointtimestamp",
    "custody_merklenode",
    "custody_checkpointcosignature",
)

POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION custody_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'custody ledger is append-only: % rejected on %', TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql"""

# TRUNCATE fires no row trigger, and `TRUNCATE cases_organisation CASCADE` reaches the ledger tables too. An
# empty table may still be truncated: that destroys nothing, and it is how Django's flush empties the database
# after a transactional test (which lifts these triggers first whenever the ledger has rows).
POSTGRES_TRUNCATE_FUNCTION = """CREATE OR REPLACE FUNCTION custody_no_truncate() RETURNS trigger AS $$
DECLARE
  has_rows boolean;
BEGIN
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO has_rows;
  IF has_rows THEN
    RAISE EXCEPTION 'custody ledger is append-only: TRUNCATE rejected on %', TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql"""


def _install(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'custody ledger is append-only: {op} rejected'); END"
            for op in ("UPDATE", "DELETE")
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION custody_append_only()",
        *_truncate_install(vendor, table),
    ]


def _truncate_install(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return []  # SQLite has no TRUNCATE; its DELETE without WHERE fires the DELETE trigger
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION custody_no_truncate()",
    ]


def _truncate_remove(vendor: str, table: str) -> list[str]:
    return [] if vendor == "sqlite" else [f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"]


def _remove(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", *_truncate_remove(vendor, table)]


def _functions(vendor: str) -> list[str]:
    return [POSTGRES_FUNCTION, POSTGRES_TRUNCATE_FUNCTION] if vendor == "postgresql" else []


def _run(connection, statements: list[str]) -> None:
    if connection.vendor not in {"sqlite", "postgresql"}:
        raise NotImplementedError(f"No append-only triggers for {connection.vendor}; use SQLite or PostgreSQL.")
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def triggers_install(connection, tables: tuple[str, ...] = TABLES) -> None:
    """Make `tables` reject UPDATE, DELETE and (PostgreSQL) TRUNCATE of rows (idempotent)."""
    _run(connection, _functions(connection.vendor) + [s for t in tables for s in _install(connection.vendor, t)])


def triggers_remove(connection, tables: tuple[str, ...] = TABLES) -> None:
    """Drop the append-only triggers of `tables`; tests use it to play an attacker with database access."""
    _run(connection, [s for table in tables for s in _remove(connection.vendor, table)])


def truncate_triggers_install(connection, tables: tuple[str, ...] = TABLES) -> None:
    """Make `tables` reject TRUNCATE while they hold rows (PostgreSQL; nothing to do on SQLite)."""
    _run(
        connection, _functions(connection.vendor) + [s for t in tables for s in _truncate_install(connection.vendor, t)]
    )


def truncate_triggers_remove(connection, tables: tuple[str, ...] = TABLES) -> None:
    _run(connection, [s for table in tables for s in _truncate_remove(connection.vendor, table)])
