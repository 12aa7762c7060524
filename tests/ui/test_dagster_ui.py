"""The Dagster UI in a real browser: a webserver on a free local port, a run launched through GraphQL, then
headless Chromium (Debian's package, driven by Playwright) checks the asset graph, an asset's checks, the
schedule and the sensors. Screenshots land in tests/artifacts/."""

import os
import sys
from datetime import date
from pathlib import Path

import pytest

from clientele_demo import generate_demo_exports
from orchestration.cli import INSTANCE_TEMPLATE
from orchestration.lib.dbt_project import prepare_dbt_manifest
from tests.ui.webserver import DEFAULT_RUN_COORDINATOR, graphql, served, wait_for_run

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LOCATION = "clientele"  # workspace.yaml's location name, as `clientele ui` serves it
WORKSPACE = Path(__file__).resolve().parents[2] / "workspace.yaml"
AS_OF = date(2026, 6, 30)
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium package is not installed"),
]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ui")
    inbox, warehouse, home = root / "inbox", root / "warehouse", root / "dagster_home"
    home.mkdir()
    # the project's instance settings, with the default run coordinator: runs launched from the UI start
    # at once, without the daemon
    (home / "dagster.yaml").write_text(
        INSTANCE_TEMPLATE.read_text(encoding="utf-8") + DEFAULT_RUN_COORDINATOR, encoding="utf-8"
    )
    generate_demo_exports(inbox, 150, seed=9, profile="generic", end_date=AS_OF)
    prepare_dbt_manifest()
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "CLIENTELE_INBOX": str(inbox),
        "CLIENTELE_WAREHOUSE": str(warehouse),
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    with served([str(Path(sys.executable).parent / "dagster-webserver"), "-w", str(WORKSPACE)], env) as base:
        yield base


@pytest.fixture(scope="module")
def finished_run(webserver: str) -> str:
    params = {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "jobName": "full_refresh"},
        "executionMetadata": {
            "tags": [
                {"key": "dagster/partition", "value": AS_OF.isoformat()},
                {"key": "dagster/partition_set", "value": "full_refresh_partition_set"},
            ]
        },
    }
    launched = graphql(webserver, LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    assert wait_for_run(webserver, run_id, timeout=900, poll=3) == "SUCCESS"
    return run_id


@pytest.fixture(scope="module")
def page(webserver: str):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def _first_page_showing(page, base: str, paths: list[str], text: str, screenshot: str) -> str:
    """Open the first of `paths` that shows `text` (Dagster has moved some pages between versions)."""
    for path in paths:
        page.goto(f"{base}{path}")
        try:
            page.get_by_text(text).first.wait_for(timeout=30_000)
        except Exception:
            continue
        page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
        return path
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    raise AssertionError(f"none of {paths} shows {text!r}")


def test_the_run_succeeded_and_the_graph_connects_exports_to_publication(page, webserver, finished_run):
    page.goto(f"{webserver}/runs/{finished_run}")
    page.get_by_text("Success").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "run.png"), full_page=True)
    graph_paths = [
        f"/locations/{LOCATION}/asset-groups/publish",
        f"/locations/{LOCATION}/jobs/full_refresh",
        "/asset-groups",
    ]
    _first_page_showing(page, webserver, graph_paths, "published_marts", "asset_graph.png")
    page.goto(f"{webserver}/assets/published_marts")
    page.get_by_text("published_marts").first.wait_for()
    page.get_by_text("marts").first.wait_for()


def test_an_asset_page_lists_its_checks(page, webserver, finished_run):
    paths = ["/assets/raw_orders?view=checks", "/assets/raw_orders"]
    _first_page_showing(page, webserver, paths, "quarantine_share", "raw_orders_checks.png")
    for check in ("row_count_drift", "gx_column_values_to_be_between__amount"):
        # long names are middle-truncated on screen; the full name is in the page
        page.get_by_text(check).first.wait_for(state="attached")


def test_the_schedule_and_sensors_are_listed(page, webserver):
    paths = ["/automation", "/overview/automation", f"/locations/{LOCATION}/schedules"]
    _first_page_showing(page, webserver, paths, "nightly_refresh", "schedules.png")
    paths = ["/automation", "/overview/automation", f"/locations/{LOCATION}/sensors"]
    _first_page_showing(page, webserver, paths, "inbox_sensor", "sensors.png")
