"""Benchmark: server time of the case list (bare, paged, searched and filtered), a case with 500 items and the
dashboard, with 10,000 cases and 100,000 evidence items, against a named reference in the same run: a bare
`Case.objects.filter(organisation=…).count()`, the cheapest query any case page makes. The ratio says how many
such counts each page costs. Prints median and p95 of the server time, the query count of each page, and every
full-table scan in the pages' query plans (SQLite EXPLAIN QUERY PLAN, PostgreSQL EXPLAIN), so an unindexed query
shows. Ends with RESULT worst_p95_ms: the slowest p95 among the case page with 500 items, the dashboards of an
administrator and of an investigator (who sees one case in ten, read from those cases' tallies) and the searches
(issue 14's aims: under 150 ms for those pages, 20 ms for the searches). Then it times each search alone: the
count and first page of matches the case list asks the database for, without rendering the page.

Usage: .venv/bin/python benchmarks/case_list_10k.py [--cases 10000] [--items 100000] [--runs 30] [--postgres URL]
       [--only PAGE ...]
Seeds a throwaway SQLite database under a temporary data directory (or, with --postgres postgres://user@host:port,
a throwaway database on that server, dropped at the end) with bulk_create: rows only, no stored media. The seeded
custody entries are not a valid chain (their hashes are made up); only their number matters here.
With --only, only the pages whose names begin with one of the given words are timed (e.g. --only "case detail"
dashboard), and RESULT is the slowest of their aimed p95s; the searches alone are timed only if a searched page is
among them (--only "case list, search": the four searched pages, then each search alone).
"""

import argparse
import hashlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
BATCH = 5000


def django_setup(data_dir: Path, database_url: str) -> None:
    """Configure Django against a throwaway database and data directory; migrate and make keys silently."""
    # Local settings, not test settings: those run background tasks synchronously on commit.
    os.environ["DJANGO_SETTINGS_MODULE"] = "evidencemedia.settings.local"
    os.environ["EVIDENCEMEDIA_DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_LOG_LEVEL"] = "WARNING"
    sys.path.insert(0, str(REPOSITORY))
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    # DEBUG would keep every query in memory and slow each one down; the test client's host must be allowed.
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    # Without DEBUG the manifest storage wants `collectstatic`; the pages' static URLs are not what is measured.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("migrate", verbosity=0, interactive=False)
    call_command("custody_keygen", stdout=io.StringIO())
    # What a server process does at start (evidencemedia/wsgi.py: every view loaded, then gc.freeze()), so the pages
    # are timed in a process set up as the server's are.
    import evidencemedia.wsgi  # noqa: F401


def seed(case_count: int, item_count: int, big_case_items: int):
    """An organisation with an administrator and an investigator, `case_count` cases spread over a year (one in
    ten assigned to the investigator), `item_count` items (`big_case_items` of them in one case) with a SHA-256
    each, and one custody entry per item; the dashboard's tallies are counted from them."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from cases import services
    from cases.models import AnalysisStatus, Case, CaseStatus, DigestAlgorithm, EvidenceDigest, EvidenceItem, Verdict
    from cases.roles import Role
    from cases.tallies import tally_rebuild
    from custody.models import CustodyEvent

    # Without the second factor, so the test client's forced login reaches the pages.
    organisation = services.organisation_create(name="Benchmark unit", slug="benchmark", two_factor_required=False)
    admin = get_user_model().objects.create_user("bench-admin")
    investigator = get_user_model().objects.create_user("bench-investigator")
    services.membership_set(organisation=organisation, user=admin, role=Role.ADMIN)
    services.membership_set(organisation=organisation, user=investigator, role=Role.INVESTIGATOR)
    statuses = [CaseStatus.OPEN] * 6 + [CaseStatus.UNDER_REVIEW] * 2 + [CaseStatus.CLOSED] * 2
    verdicts = [Verdict.OK] * 7 + [Verdict.ATTENTION] * 2 + [Verdict.COMPROMISED]
    with transaction.atomic():
        cases = Case.objects.bulk_create(
            (
                Case(
                    organisation=organisation,
                    reference=f"EM-2026-{n + 1:05d}",
                    title=f"Harassment report {n + 1} ({['north', 'south', 'east', 'west'][n % 4]} district)",
                    status=statuses[n % len(statuses)],
                    created_by=admin,
                )
                for n in range(case_count)
            ),
            batch_size=BATCH,
        )
        Case.assignees.through.objects.bulk_create(
            (Case.assignees.through(case_id=case.pk, user_id=investigator.pk) for case in cases[::10]),
            batch_size=BATCH,
        )
        big_case = cases[0]
        rest = item_count - big_case_items
        owners = [big_case] * big_case_items + [cases[1 + n % (case_count - 1)] for n in range(rest)]
        items = EvidenceItem.objects.bulk_create(
            (
                EvidenceItem(
                    case=case,
                    original_filename=f"IMG_{n:06d}.jpg",
                    declared_mime_type="image/jpeg",
                    detected_mime_type="image/jpeg",
                    size=100_000 + n,
                    storage_key=f"bench/{n:064x}",
                    received_by=admin,
                    analysis_status=AnalysisStatus.DONE if n % 50 else AnalysisStatus.QUEUED,
                    verdict=verdicts[n % len(verdicts)] if n % 50 else "",
                )
                for n, case in enumerate(owners)
            ),
            batch_size=BATCH,
        )
        EvidenceDigest.objects.bulk_create(
            (
                EvidenceDigest(
                    item=item, algorithm=DigestAlgorithm.SHA256, value=hashlib.sha256(str(item.pk).encode()).hexdigest()
                )
                for item in items
            ),
            batch_size=BATCH,
        )
        first = CustodyEvent.objects.filter(organisation=organisation).count()
        CustodyEvent.objects.bulk_create(
            (
                CustodyEvent(
                    organisation=organisation,
                    sequence=first + n + 1,
                    recorded_at=item.received_at,
                    actor=admin,
                    actor_label=admin.username,
                    action="evidence.received",
                    case_id=item.case_id,
                    evidence=item,
                    details={"size": item.size},
                    prev_hash=f"{first + n:064x}",
                    entry_hash=f"{first + n + 1:064x}",
                    key_id="benchmark",
                    signature="-",
                )
                for n, item in enumerate(items)
            ),
            batch_size=BATCH,
        )
        with connection.cursor() as cursor:
            # Spread creation and receipt over a year, as in a unit's real history (bulk_create stamps "now").
            if connection.vendor == "sqlite":
                cursor.execute("UPDATE cases_case SET created_at = datetime('now', '-' || (id % 365) || ' days')")
                cursor.execute(
                    "UPDATE cases_evidenceitem SET received_at = datetime('now', '-' || (id % 60) || ' days')"
                )
            else:
                cursor.execute("UPDATE cases_case SET created_at = now() - (id % 365) * interval '1 day'")
                cursor.execute("UPDATE cases_evidenceitem SET received_at = now() - (id % 60) * interval '1 day'")
    # bulk_create bypasses the services that keep the dashboard's tallies: count them as a migration would.
    tally_rebuild(organisation.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    digest = EvidenceDigest.objects.filter(item=items[len(items) // 2]).values_list("value", flat=True).get()
    return organisation, admin, investigator, big_case, cases[case_count // 2].reference, digest[:10]


def timed(call, runs: int) -> tuple[float, float]:
    """Median and p95 of `runs` calls, in milliseconds, after two warm-up calls."""
    for _ in range(2):
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]


def full_scans(client, url: str) -> tuple[int, list[str]]:
    """The query count of one request, and the plan lines of its queries that scan a whole table."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    scans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.startswith("SELECT") or "django_session" in sql:
                continue
            if connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                # "SCAN t USING INDEX" and covering-index scans walk an index; a bare "SCAN t" reads the whole table.
                scans += [row[3] for row in cursor.fetchall() if row[3].startswith("SCAN") and "INDEX" not in row[3]]
            else:
                cursor.execute("EXPLAIN " + sql)
                scans += [row[0].strip(" ->") for row in cursor.fetchall() if "Seq Scan" in row[0]]
    return len(captured), scans


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres", metavar="URL", help="Run on PostgreSQL: postgres://user@host:port (no database).")
    parser.add_argument("--only", nargs="+", metavar="PAGE", help="Time only the pages whose names begin so.")
    args = parser.parse_args()
    big_case_items = min(500, args.items)
    workdir = Path(tempfile.mkdtemp(prefix="benchmark-case-list-"))
    database_name = f"benchmark_case_list_{os.getpid()}"
    if args.postgres:
        postgres_database("CREATE", args.postgres, database_name)
        database_url = f"{args.postgres.rstrip('/')}/{database_name}"
    else:
        database_url = f"sqlite:///{workdir / 'benchmark.sqlite3'}"
    try:
        django_setup(workdir, database_url)
        from django.test import Client

        from cases.models import Case

        started = time.perf_counter()
        organisation, admin, investigator, big_case, reference, hash_prefix = seed(
            args.cases, args.items, big_case_items
        )
        print(f"Seeded {args.cases:,} cases and {args.items:,} items in {time.perf_counter() - started:.1f} s.")

        reference_median, reference_p95 = timed(lambda: Case.objects.filter(organisation=organisation).count(), 200)
        print(
            f"Reference, Case.objects.filter(organisation=…).count(): median {reference_median:.2f} ms, "
            f"p95 {reference_p95:.2f} ms\n"
        )

        admin_client, investigator_client = Client(), Client()
        admin_client.force_login(admin)
        investigator_client.force_login(investigator)
        pages = [
            ("case list", admin_client, "/cases/"),
            ("case list, page 200", admin_client, "/cases/?page=200"),
            ("case list, search reference", admin_client, f"/cases/?q={reference}"),
            ("case list, search title word", admin_client, "/cases/?q=north"),
            ("case list, search file name", admin_client, "/cases/?q=IMG_054321"),
            ("case list, search hash prefix", admin_client, f"/cases/?q={hash_prefix}"),
            ("case list, status under review", admin_client, "/cases/?status=under_review"),
            ("case list, verdict compromised", admin_client, "/cases/?verdict=compromised"),
            ("case list, assignee", admin_client, f"/cases/?assignee={investigator.username}"),
            ("case list, as investigator", investigator_client, "/cases/"),
            (f"case detail, {big_case_items} items", admin_client, f"/cases/{big_case.public_id}/"),
            ("dashboard", admin_client, "/dashboard/"),
            ("dashboard, as investigator", investigator_client, "/dashboard/"),
        ]
        if args.only:
            pages = [page for page in pages if page[0].startswith(tuple(args.only))]
        print(f"{'page':<36} {'queries':>7} {'median ms':>10} {'p95 ms':>8} {'× reference':>12}")
        all_scans, aimed, every = {}, {}, {}
        for name, client, url in pages:
            count, scans = full_scans(client, url)
            median, p95 = timed(lambda client=client, url=url: client.get(url), args.runs)
            print(f"{name:<36} {count:>7} {median:>10.1f} {p95:>8.1f} {median / reference_median:>12.0f}")
            every[name] = p95
            if scans:
                all_scans[name] = sorted(set(scans))
            if name.startswith(("case list, search", "case detail", "dashboard")):
                aimed[name] = p95
        print("\nFull-table scans in the query plans:" if all_scans else "\nNo full-table scan in any query plan.")
        for name, scans in all_scans.items():
            print(f"  {name}: {'; '.join(scans)}")
        # With --only, the pages timed may include none of the aimed ones.
        aimed = aimed or every
        worst = max(aimed, key=aimed.get)
        print(f"\nSlowest p95 among the aimed pages: {worst}, {aimed[worst]:.1f} ms")
        if any(name.startswith("case list, search") for name, _client, _url in pages):
            searches = {"reference": reference, "title word": "north", "file name": "IMG_054321"}
            searches_alone(organisation, admin, searches | {"hash prefix": hash_prefix}, args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)
        if args.postgres:
            postgres_database("DROP", args.postgres, database_name)
    print(f"RESULT worst_p95_ms={aimed[worst]:.1f}")
    return 0


def searches_alone(organisation, user, queries: dict[str, str], runs: int) -> None:
    """The search itself, without the page around it: what the case list asks the database for a search (the
    number of matches and the first page of them, in the list's order), through the same query the view builds."""
    from cases.models import Case, Membership
    from cases.pagination import id_page
    from cases.search import case_search
    from cases.views import MIN_HASH_PREFIX, CaseListView

    membership = Membership.objects.get(user=user, organisation=organisation)

    def search(query: str) -> None:
        matches = Case.objects.for_member(membership).filter(
            case_search(query, organisation.pk, min_hash_prefix=MIN_HASH_PREFIX)
        )
        page = id_page(matches.order_by("-created_at", "-id"), CaseListView.page_size, 1)
        list(page.object_list)

    print("\nThe searches alone (count and first page of matches, no page rendered):")
    print(f"{'search':<36} {'median ms':>10} {'p95 ms':>8}")
    for name, query in queries.items():
        median, p95 = timed(lambda query=query: search(query), runs)
        print(f"{name:<36} {median:>10.1f} {p95:>8.1f}")


def postgres_database(verb: str, server_url: str, name: str) -> None:
    """CREATE or DROP the throwaway benchmark database on the server."""
    import psycopg

    with psycopg.connect(f"{server_url.rstrip('/')}/postgres", autocommit=True) as connection:
        connection.execute(f"{verb} DATABASE {'IF EXISTS ' if verb == 'DROP' else ''}{name}")


if __name__ == "__main__":
    sys.exit(main())
