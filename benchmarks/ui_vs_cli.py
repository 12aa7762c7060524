"""A run launched from the UI against `clientele run`, on the same exports, each on a fresh warehouse.

The UI run is launched through the webserver's GraphQL API, as the Launchpad does (`full_refresh`, default run
coordinator so it starts at once), and timed from the launch request to its SUCCESS; the CLI run from process
start to exit. Both find their Dagster instance created and dbt parsed beforehand, as a nightly run does.
Results: <output>/ui_vs_cli.json; `python -m benchmarks.ui_vs_cli [--size small]`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.datasets import END_DATE, SIZES, ensure_dataset, link_inbox
from benchmarks.run import BENCH_DIR, pipeline_env, prepare_instance, run_pipeline, say
from orchestration.lib.runs.origin import WORKSPACE_FILE
from orchestration.lib.settings import PROJECT_ROOT
from tests.ui.webserver import DEFAULT_RUN_COORDINATOR, graphql, served, wait_for_run

LOCATION = "clientele"
LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}"""


def ui_run(inbox: Path, warehouse: Path, dagster_home: Path, log: Path) -> float:
    """Seconds from the launch request to the run's success."""
    config = dagster_home / "dagster.yaml"
    config.write_text(config.read_text(encoding="utf-8") + DEFAULT_RUN_COORDINATOR, encoding="utf-8")
    env = pipeline_env(dagster_home) | {"CLIENTELE_INBOX": str(inbox), "CLIENTELE_WAREHOUSE": str(warehouse)}
    command = [str(Path(sys.executable).parent / "dagster-webserver"), "-w", str(WORKSPACE_FILE)]
    params = {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "jobName": "full_refresh"},
        "executionMetadata": {
            "tags": [
                {"key": "dagster/partition", "value": END_DATE.isoformat()},
                {"key": "dagster/partition_set", "value": "full_refresh_partition_set"},
            ]
        },
    }
    with (
        log.open("w", encoding="utf-8") as out,
        served(command, env, timeout=300, output=out, cwd=PROJECT_ROOT) as base,
    ):
        started = time.monotonic()
        launched = graphql(base, LAUNCH, {"params": params})["launchRun"]
        if launched["__typename"] != "LaunchRunSuccess":
            raise RuntimeError(f"launch failed: {launched}")
        run_id = launched["run"]["runId"]
        status = wait_for_run(base, run_id, timeout=3600)
        if status != "SUCCESS":
            raise RuntimeError(f"the UI run ended {status} (run {run_id})")
        return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--cache-dir", type=Path, default=BENCH_DIR / ".cache")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args(argv)
    dataset = ensure_dataset(args.cache_dir, args.size, generate=True, echo=say)
    work = Path(tempfile.mkdtemp(prefix="ui-vs-cli-", dir=args.cache_dir))
    results = {"size": args.size, "orders": dataset.orders}
    for kind in ("cli", "ui"):
        inbox = link_inbox(dataset.files(), work / kind / "inbox")
        warehouse, home = work / kind / "warehouse", work / kind / "dagster_home"
        home.mkdir(parents=True)
        prepare_instance(home, warehouse, work / kind / "prepare.log")
        say(f"{kind} run on {dataset.orders:,} orders ...")
        if kind == "cli":
            measured = run_pipeline(inbox, warehouse, home, END_DATE, work / kind / "run.log")
            if not measured.ok:
                raise RuntimeError(f"the CLI run failed (see {work / kind / 'run.log'})")
            results["cli_seconds"] = measured.wall_seconds
        else:
            results["ui_seconds"] = ui_run(inbox, warehouse, home, work / kind / "webserver.log")
        say(f"{kind}: {results[f'{kind}_seconds']:.1f} s")
    results["ui_over_cli"] = results["ui_seconds"] / results["cli_seconds"]
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "ui_vs_cli.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    say(f"UI / CLI = {results['ui_over_cli']:.2f} ({results['ui_seconds']:.1f} s / {results['cli_seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    os.chdir(PROJECT_ROOT)
    sys.exit(main())
