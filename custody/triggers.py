"""Database triggers that make the ledger tables append-only for every client, not only for the ORM."""

# Every append-only table; each migration that creates one names its own tables, so that replaying an old
# migration never touches a table that does not exist yet.
TABLES = ("custody_custodyevent", "custody_checkpoint", "custody_reviewsignoff")

POSTGRES_FUNCTION = """CREATE OR REPLACE FUNCTION custody_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'custody ledger is append-only: % rejected on %', TG_OP, TG_TABLE_NAME;
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
    ]


def _remove(vendor: str, table: str) -> list[str]:
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"]


def _run(connection, statements: list[str]) -> None:
    if connection.vendor not in {"sqlite", "postgresql"}:
        raise NotImplementedError(f"No append-only triggers for {connection.vendor}; use SQLite or PostgreSQL.")
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def triggers_install(connection, tables: tuple[str, ...] = TABLES) -> None:
    """Make `tables` reject UPDATE and DELETE (idempotent)."""
    function = [POSTGRES_FUNCTION] if connection.vendor == "postgresql" else []
    _run(connection, function + [s for table in tables for s in _install(connection.vendor, table)])


def triggers_remove(connection, tables: tuple[str, ...] = TABLES) -> None:
    """Drop the append-only triggers of `tables`; tests use it to play an attacker with database access."""
    _run(connection, [s for table in tables for s in _remove(connection.vendor, table)])
