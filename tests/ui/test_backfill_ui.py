"""A newcomer's backfill from the UI: `dagster dev` as `clientele ui` starts it (webserver and daemon, the
project's instance with its queue and warehouse pool), the inbox loaded by the `ingest` job, then a backfill
of three dates of `segments_only` launched like the UI's Launch backfill button. The daemon runs the dates one at a
time; each date's run succeeds, and the job's partitions page in headless Chromium shows the dates."""

import os
import sys
from datetime import date
from pathlib import Path

import pytest

from clientele_demo import generate_demo_exports
from orchestration.cli import INSTANCE_TEMPLATE
from orchestration.lib.dbt_project import prepare_dbt_manifest
from tests.ui.webserver import graphql, served, wait_for, wait_for_run

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WORKSPACE = Path(__file__).resolve().parents[2] / "workspace.yaml"
LOCATION = "clientele"
DATES = ["2026-06-28", "2026-06-29", "2026-06-30"]
REPOSITORY = {"repositoryName": "__repository__", "repositoryLocationName": LOCATION}
LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) { __typename ... on LaunchRunSuccess { run { runId } } }
}"""
LAUNCH_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message }
  }
}"""
BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status runs(limit: 10) { status tags { key value } } }
  }
}"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed"),
]


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("backfill_ui")
    inbox, warehouse, home = root / "inbox", root / "warehouse", root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    generate_demo_exports(inbox, 120, seed=4, profile="generic", end_date=date(2026, 6, 30))
    prepare_dbt_manifest()
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "CLIENTELE_INBOX": str(inbox),
        "CLIENTELE_WAREHOUSE": str(warehouse),
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    # `dagster dev` as `clientele ui` starts it: webserver and daemon
    with served([str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(WORKSPACE)], env) as base:
        yield base


@pytest.fixture(scope="module")
def backfill(ui: str) -> dict:
    ingest = {"selector": {**REPOSITORY, "jobName": "ingest"}}
    launched = graphql(ui, LAUNCH_RUN, {"params": ingest})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    status = wait_for_run(ui, run_id, timeout=600, poll=2)
    assert status == "SUCCESS"
    params = {"selector": {"partitionSetName": "segments_only_partition_set", "repositorySelector": REPOSITORY}}
    params["partitionNames"] = DATES
    started = graphql(ui, LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert started["__typename"] == "LaunchBackfillSuccess", started

    def finished() -> dict | None:
        found = graphql(ui, BACKFILL, {"id": started["backfillId"]})["partitionBackfillOrError"]
        return found if found["status"] not in ("REQUESTED", "CANCELING") else None

    return wait_for(finished, 1200, "the backfill", poll=5)


def test_the_daemon_runs_every_date_of_the_backfill(backfill: dict):
    assert backfill["status"] == "COMPLETED_SUCCESS", backfill
    partitions = sorted(
        next(t["value"] for t in r["tags"] if t["key"] == "dagster/partition") for r in backfill["runs"]
    )
    assert partitions == DATES
    assert {run["status"] for run in backfill["runs"]} == {"SUCCESS"}


def test_the_partitions_page_shows_each_date(ui: str, backfill: dict):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(f"{ui}/assets/marts/customer_segments?view=partitions")
        skip = page.get_by_text("Skip")  # the first visit's newsletter prompt
        if skip.count():
            skip.first.click()
        page.get_by_text(f"Materialized ({len(DATES)})").first.wait_for()
        page.get_by_placeholder("Filter by name").first.fill("2026-06-2")
        for day in DATES[:2]:
            page.get_by_text(day).first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "backfill_partitions.png"), full_page=True)
        page.goto(f"{ui}/overview/backfills")
        page.get_by_text("segments_only").first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "backfills.png"), full_page=True)
        browser.close()
