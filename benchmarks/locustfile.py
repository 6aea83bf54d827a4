"""Locust users for benchmarks/load_test.py: caseworkers who browse the pages, upload photos and download reports.

Reads the plan load_test.py wrote (LOAD_TEST_PLAN: session cookies, API tokens, case and item ids) and writes every
request's time and outcome to LOAD_TEST_SAMPLES when the run stops, so the percentiles are computed exactly.
"""

import json
import os
import random
from pathlib import Path

from load_test import photo
from locust import HttpUser, SequentialTaskSet, between, events, task

PLAN = json.loads(Path(os.environ["LOAD_TEST_PLAN"]).read_text(encoding="utf-8"))
SAMPLES: list[tuple[str, str, float, bool]] = []


@events.request.add_listener
def sample(request_type, name, response_time, response_length, exception, **kwargs) -> None:
    SAMPLES.append((request_type, name, response_time, exception is None))


@events.test_stop.add_listener
def samples_write(**kwargs) -> None:
    Path(os.environ["LOAD_TEST_SAMPLES"]).write_text(json.dumps(SAMPLES), encoding="utf-8")


class Browsing(SequentialTaskSet):
    """One visit, page by page: dashboard, case list, a search, a case, an item. A person reads each page before
    asking for the next, so the user's think time follows every page, not only every visit."""

    @task
    def dashboard(self) -> None:
        self.client.get("/dashboard/", name="page: dashboard")

    @task
    def case_list(self) -> None:
        self.client.get("/cases/", name="page: case list")

    @task
    def search(self) -> None:
        self.client.get("/cases/", params={"q": random.choice(["north", "IMG_", "threat"])}, name="page: search")

    @task
    def case(self) -> None:
        self.client.get(f"/cases/{random.choice(PLAN['cases'])}/", name="page: case")

    @task
    def evidence(self) -> None:
        self.client.get(f"/evidence/{random.choice(PLAN['items'])}/", name="page: evidence")
        self.interrupt()


class Caseworker(HttpUser):
    wait_time = between(1, 3)
    tasks = {Browsing: 6}

    def on_start(self) -> None:
        account = PLAN["accounts"][random.randrange(len(PLAN["accounts"]))]
        self.client.cookies.set("sessionid", account["session"])
        self.api = {"Authorization": f"Token {account['token']}"}
        self.reports: list[str] = []

    @task(1)
    def upload(self) -> None:
        case = random.choice(PLAN["cases"])
        files = {"files": (f"IMG_{random.randrange(10**6):06d}.jpg", photo(), "image/jpeg")}
        self.client.post(f"/api/v1/cases/{case}/evidence/", files=files, headers=self.api, name="api: upload")

    @task(1)
    def report(self) -> None:
        if self.reports:
            report = self.reports[0]
            state = self.client.get(f"/api/v1/reports/{report}/", headers=self.api, name="api: report status")
            if state.ok and state.json().get("status") in ("done", "failed"):
                self.reports.pop(0)
                if state.json()["status"] == "done":
                    self.client.get(f"/reports/{report}/download/", name="download: report")
            return
        item = random.choice(PLAN["items"])
        with self.client.post(
            f"/api/v1/evidence/{item}/reports/", headers=self.api, name="api: report request", catch_response=True
        ) as response:
            if response.status_code == 202:
                self.reports.append(response.json()["id"])
