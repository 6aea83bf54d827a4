"""Benchmark: a bounded load test of the whole service on loopback. Locust's simulated caseworkers
(benchmarks/locustfile.py) browse the pages, upload photos and request and download reports against gunicorn, while
two task clusters (`manage.py taskcluster`) on Redis analyse the uploads and generate the reports, over a throwaway
PostgreSQL database. The service runs as shipped for production: the production settings (without the redirect to
HTTPS, which loopback does not have), the repository's gunicorn.conf.py and the clusters' own niceness.
The reference, measured in the same run, is the login page: a page that reads no case data.

Usage: .venv/bin/python benchmarks/load_test.py [--users 50] [--seconds 120] [--postgres postgres://postgres@127.0.0.1:5432]
Everything it starts (redis-server, gunicorn, two `manage.py taskcluster`, locust) listens on 127.0.0.1 only and is
stopped at the end, and the database and data directory are removed. After the users stop it waits (at most
--drain seconds) for every analysis and report to finish. Prints errors, page and API percentiles and how many
analyses and reports finished; ends with RESULT page_p95_ms (aim: under 300 ms, with no errors and every analysis
finished). "Pages" are the five pages a caseworker browses (dashboard, case list, search, case, evidence); uploads,
report requests and status checks (API) and report downloads are listed on their own. The CPU time each part of the
service used during the run is printed per request, to show where the time goes.
"""

import argparse
import io
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ACCOUNTS = 10
CASES = 20
ITEMS = 40
PAGE_AIM_MS = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--drain", type=int, default=600, help="Seconds to wait for the queued work afterwards.")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", metavar="URL")
    args = parser.parse_args()
    for tool in ("redis-server",):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed.", file=sys.stderr)
            return 2
    workdir = Path(tempfile.mkdtemp(prefix="benchmark-load-"))
    database = f"benchmark_load_{os.getpid()}"
    processes: list[subprocess.Popen] = []
    postgres_database("CREATE", args.postgres, database)
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "evidencemedia.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback: no TLS proxy in front
            "DATABASE_URL": f"{args.postgres.rstrip('/')}/{database}",
            "EVIDENCEMEDIA_DATA_DIR": str(workdir / "data"),
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        redis_port, web_port = free_port(), free_port()
        env["EVIDENCEMEDIA_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        log = (workdir / "services.log").open("w")
        processes.append(
            subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=log,
            )
        )
        manage = [str(BIN / "python"), str(REPOSITORY / "manage.py")]
        subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True, cwd=REPOSITORY)
        subprocess.run([*manage, "custody_keygen"], env=env, check=True, cwd=REPOSITORY, stdout=subprocess.DEVNULL)
        subprocess.run([*manage, "collectstatic", "--no-input", "-v", "0"], env=env, check=True, cwd=REPOSITORY)
        plan = workdir / "plan.json"
        os.environ.update(env)
        seed(plan)
        # gunicorn.conf.py keeps idle connections longer than a user's think time (locustfile: at most 3 s): with
        # gunicorn's default of 2 s, a user's first request after a pause could go out on a connection the server
        # was closing at that moment and end in a connection reset, a race of the harness, not a failure of the page.
        config = str(REPOSITORY / "gunicorn.conf.py")
        processes.append(
            subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", config, "--bind", f"127.0.0.1:{web_port}"],
                env=env, cwd=REPOSITORY, stdout=log, stderr=log,
            )
        )  # fmt: skip
        for _ in range(2):
            processes.append(
                subprocess.Popen([*manage, "taskcluster"], env=env, cwd=REPOSITORY, stdout=log, stderr=log)
            )
        host = f"http://127.0.0.1:{web_port}"
        wait_for(f"{host}/login/", 300)
        drain(args.drain)  # the seeded items' analyses, so that every report request the users make may be granted
        samples = workdir / "samples.json"
        started = time.monotonic()
        cpu_before = cpu_use(processes)
        subprocess.run(
            [str(BIN / "locust"), "-f", str(REPOSITORY / "benchmarks" / "locustfile.py"), "--headless",
             "--users", str(args.users), "--spawn-rate", str(max(1, args.users // 10)),
             "--run-time", f"{args.seconds}s", "--host", host, "--only-summary", "--loglevel", "WARNING"],
            env={**env, "LOAD_TEST_PLAN": str(plan), "LOAD_TEST_SAMPLES": str(samples)},
            check=False, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        load_seconds = time.monotonic() - started
        cpu = {part: used - cpu_before[part] for part, used in cpu_use(processes).items()}
        reference = reference_times(f"{host}/login/", 30)
        drained, analyses, reports = drain(args.drain)
        return summary(json.loads(samples.read_text()), load_seconds, cpu, reference, drained, analyses, reports, args)
    except BaseException:
        print((workdir / "services.log").read_text(errors="replace")[-3000:], file=sys.stderr)
        raise
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        if "django.db" in sys.modules:
            sys.modules["django.db"].connections.close_all()
        postgres_database("DROP", args.postgres, database)
        shutil.rmtree(workdir, ignore_errors=True)


def seed(plan: Path) -> None:
    """An organisation (no second factor, so seeded sessions reach the pages) with investigators, each with a
    session and an API token, cases, and items uploaded through the service (their analyses are queued)."""
    sys.path[:0] = [str(REPOSITORY), str(REPOSITORY / "benchmarks")]
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from cases import services
    from cases.roles import Role
    from cases.tenancy import SESSION_KEY as ORGANISATION_KEY
    from cases.upload import receive_stream

    organisation = services.organisation_create(name="Load test unit", slug="load", two_factor_required=False)
    accounts = []
    for number in range(ACCOUNTS):
        user = get_user_model().objects.create_user(f"load-{number}")
        services.membership_set(organisation=organisation, user=user, role=Role.INVESTIGATOR)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[ORGANISATION_KEY] = organisation.pk
        session.create()
        _token, secret = services.api_token_create(user=user, name="load test", organisation=organisation)
        accounts.append({"session": session.session_key, "token": secret, "user": user})
    districts = ["north", "south", "east", "west"]
    cases = [
        services.case_create(
            organisation=organisation, title=f"Threats report {n} ({districts[n % 4]})", actor=accounts[0]["user"]
        )
        for n in range(CASES)
    ]
    for case in cases:  # every account may work on every case
        services.case_assign(case=case, investigators=[a["user"] for a in accounts], actor=accounts[0]["user"])
    items = []
    for n in range(ITEMS):
        received = receive_stream([photo()], original_name=f"IMG_{n:04d}.jpg", declared_type="image/jpeg")
        items.append(
            services.evidence_receive(case=cases[n % CASES], received=received, actor=accounts[0]["user"]).item
        )
    plan.write_text(
        json.dumps(
            {
                "accounts": [{"session": a["session"], "token": a["token"]} for a in accounts],
                "cases": [str(case.public_id) for case in cases],
                "items": [str(item.public_id) for item in items],
            }
        ),
        encoding="utf-8",
    )


def photo() -> bytes:
    """A small JPEG no other upload has: random pixels over a random colour (seeded items and the users' uploads)."""
    from PIL import Image

    image = Image.new("RGB", (320, 240), tuple(random.randrange(256) for _ in range(3)))
    image.putdata([tuple(random.randrange(256) for _ in range(3)) for _ in range(64)] * 1200)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def drain(seconds: int) -> tuple[float, tuple[int, int, int], tuple[int, int, int]]:
    """Wait until no analysis or report is queued or running; (seconds waited, (analyses done, failed, all),
    (reports done, failed, all))."""
    from cases.models import AnalysisStatus, EvidenceItem
    from reports.models import Report, ReportStatus

    started = time.monotonic()
    while time.monotonic() - started < seconds:
        pending = EvidenceItem.objects.filter(analysis_status__in=[AnalysisStatus.QUEUED, AnalysisStatus.RUNNING])
        reports = Report.objects.filter(status__in=[ReportStatus.QUEUED, ReportStatus.RUNNING])
        if not pending.exists() and not reports.exists():
            break
        time.sleep(2)
    analyses = EvidenceItem.objects.values_list("analysis_status", flat=True)
    statuses = list(Report.objects.values_list("status", flat=True))
    return (
        time.monotonic() - started,
        (sum(s == "done" for s in analyses), sum(s == "failed" for s in analyses), len(analyses)),
        (statuses.count("done"), statuses.count("failed"), len(statuses)),
    )


def summary(samples, load_seconds, cpu, reference, drained, analyses, reports, args) -> int:
    by_name: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for _kind, name, milliseconds, ok in samples:
        by_name.setdefault(name, []).append(milliseconds)
        if not ok:
            errors[name] = errors.get(name, 0) + 1
    pages = sorted(ms for name, times in by_name.items() if name.startswith("page:") for ms in times)
    print(f"{args.users} users for {load_seconds:.0f} s: {len(samples):,} requests, {sum(errors.values())} errors")
    print(f"{'request':<26} {'count':>6} {'median ms':>10} {'p95 ms':>8} {'errors':>7}")
    for name, times in sorted(by_name.items()):
        times.sort()
        print(
            f"{name:<26} {len(times):>6} {statistics.median(times):>10.0f} {p95(times):>8.0f} {errors.get(name, 0):>7}"
        )
    page_p95 = p95(pages)
    print(f"all pages                  {len(pages):>6} {statistics.median(pages):>10.0f} {page_p95:>8.0f}")
    print(f"reference (login page, idle after the run): median {statistics.median(reference):.0f} ms, "
          f"p95 {p95(reference):.0f} ms; pages p95 / reference p95 = {page_p95 / p95(reference):.1f}x")  # fmt: skip
    print(f"CPU used during the run, per request ({len(samples):,}), on {os.cpu_count()} cores: " + ", ".join(
        f"{part} {seconds / len(samples) * 1000:.1f} ms" for part, seconds in cpu.items()
    ))  # fmt: skip
    print(f"queued work drained {drained:.0f} s after the users stopped")
    print(f"analyses: {analyses[0]} done, {analyses[1]} failed, of {analyses[2]}")
    print(f"reports:  {reports[0]} done, {reports[1]} failed, of {reports[2]}")
    met = not errors and page_p95 < PAGE_AIM_MS and analyses[0] == analyses[2] and reports[1] == 0
    print(f"aim (no errors, pages p95 < {PAGE_AIM_MS} ms, every analysis finished): {'met' if met else 'not met'}")
    print(f"RESULT page_p95_ms={page_p95:.0f}")
    return 0


def cpu_use(processes: list[subprocess.Popen]) -> dict[str, float]:
    """CPU seconds used so far by gunicorn, the task clusters (each with its workers and their tools) and locust, and
    by the whole machine, whose remainder is the database, Redis and anything else running."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # not a process, or one that has just ended
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        used[int(entry.name)] = sum(int(value) for value in fields[11:15]) / ticks  # its own and its reaped children's

    def tree(pid: int) -> float:
        return used.get(pid, 0.0) + sum(tree(child) for child in children.get(pid, []))

    gunicorn, *clusters = (process.pid for process in processes[1:4])
    user, nice, system, idle, iowait, *rest = map(int, Path("/proc/stat").read_text().split()[1:9])
    return {
        "gunicorn": tree(gunicorn),
        "task clusters": sum(map(tree, clusters)),
        # This process's reaped children: during the run, locust alone.
        "locust": sum(int(value) for value in Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[13:15])
        / ticks,
        "whole machine": (user + nice + system + sum(rest)) / ticks,
    }


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def reference_times(url: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own loopback server
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return times


def wait_for(url: str, seconds: int) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30):  # noqa: S310 - our own loopback server
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_database(verb: str, server_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server_url.rstrip('/')}/postgres", autocommit=True) as connection:
        connection.execute(f"{verb} DATABASE {'IF EXISTS ' if verb == 'DROP' else ''}{name}")


if __name__ == "__main__":
    sys.exit(main())
