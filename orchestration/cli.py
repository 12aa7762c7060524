"""`clientele`: generate demo exports, run the pipeline through Dagster, open the UI."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from orchestration.lib.settings import ENV_INBOX, ENV_WAREHOUSE, PROJECT_ROOT, parse_as_of
from orchestration.lib.spark_tables import SparkSupportMissing

INSTANCE_TEMPLATE = Path(__file__).resolve().parent / "instance" / "dagster.yaml"


def ensure_dagster_home() -> Path:
    """A persistent instance so CLI runs appear in the UI's run history."""
    home = Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copyfile(INSTANCE_TEMPLATE, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _say(message: str) -> None:
    print(message, flush=True)


def cmd_demo_data(args: argparse.Namespace) -> int:
    from clientele_demo import generate_demo_exports

    out = Path(args.out)
    if args.if_empty and out.exists() and any(p for p in out.iterdir() if not p.name.startswith((".", "_"))):
        _say(f"{out} already holds exports; leaving it as it is.")
        return 0
    end_date = parse_as_of(args.end_date)
    manifest = generate_demo_exports(
        out,
        args.customers,
        seed=args.seed,
        profile=args.profile,
        defects=args.defects,
        end_date=end_date,
        progress=_say,
    )
    for written in manifest.files:
        _say(f"  {written.name:<40} {written.entity:<13} {written.rows:>12,} rows")
    _say(f"Demo exports ({args.profile}, seed {args.seed}, up to {end_date}) written to {out}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    if args.target:  # before the pipeline's imports: the dbt project and the readers pick the engine from it
        from orchestration.lib.spark_tables import ENV_DBT_TARGET, require_spark_support

        require_spark_support(args.target)  # before anything is created on disk
        os.environ[ENV_DBT_TARGET] = args.target
    from orchestration.lib.as_of import today_in_schedule_timezone
    from orchestration.lib.pipeline import run_dates, run_pipeline

    inbox = Path(args.inbox or os.environ.get(ENV_INBOX, "data/inbox")).resolve()
    warehouse = Path(args.warehouse or os.environ.get(ENV_WAREHOUSE, "warehouse")).resolve()
    ensure_dagster_home()
    first = parse_as_of(args.as_of) if args.as_of else today_in_schedule_timezone()
    if not args.to:
        outcome = run_pipeline(inbox=inbox, warehouse=warehouse, as_of=first, job_name=args.job, echo=_say)
        _say(outcome.summary())
        return 0 if outcome.success else 1
    last = parse_as_of(args.to)
    if last < first:
        _say(f"--to {last} is before --as-of {first}")
        return 2
    dates = [first + timedelta(days=offset) for offset in range(0, (last - first).days + 1, args.every)]
    outcomes = run_dates(inbox=inbox, warehouse=warehouse, dates=dates, job_name=args.job, echo=_say)
    done = [o for o in outcomes if o.as_of]
    failed = [o for o in outcomes if not o.success]
    _say(
        f"\nBackfill: {sum(o.success for o in done)} of {len(dates)} date(s) built"
        + (" (stopped at the first failure)" if failed else "")
    )
    return 1 if failed or len(done) < len(dates) else 0


def cmd_files(args: argparse.Namespace) -> int:
    """The ingest ledger, and the operator's way out of a held file: release it or unload it (logged)."""
    import getpass

    from orchestration.lib.files import FileCommandError, list_files, release_file, unload_file

    warehouse = Path(args.warehouse or os.environ.get(ENV_WAREHOUSE, "warehouse")).resolve()
    try:
        if args.action == "list":
            _say(list_files(warehouse, states=args.state))
            return 0
        if not args.reason:
            _say("--reason is required: it is recorded with the action in raw._ledger_actions")
            return 2
        act = release_file if args.action == "release" else unload_file
        _say(act(warehouse, args.file, reason=args.reason, actor=getpass.getuser()))
        return 0
    except FileCommandError as error:
        _say(str(error))
        return 1


def cmd_ui(args: argparse.Namespace) -> int:
    home = ensure_dagster_home()
    from orchestration.lib.dbt_project import prepare_dbt_manifest

    prepare_dbt_manifest()
    _say(f"Dagster UI on http://127.0.0.1:{args.port} (instance {home}); Ctrl-C stops it.")
    command = [
        str(Path(sys.executable).parent / "dagster"),
        "dev",
        "-h",
        "127.0.0.1",
        "-p",
        str(args.port),
        "-w",
        str(PROJECT_ROOT / "workspace.yaml"),
    ]
    return subprocess.call(command, cwd=PROJECT_ROOT)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clientele",
        description="Turn CRM exports into an audited customer warehouse (Dagster + dbt + DuckDB).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo-data", help="write seeded, realistic CRM exports")
    demo.add_argument("--customers", type=int, required=True, help="number of customers (leads included)")
    demo.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    demo.add_argument("--profile", choices=["generic", "zoho", "fxiaoke"], default="generic")
    demo.add_argument("--defects", action="store_true", help="inject the dirt real exports carry")
    demo.add_argument("--out", required=True, help="directory to write the exports to")
    demo.add_argument("--end-date", help="last day of history, YYYY-MM-DD (default today)")
    demo.add_argument("--if-empty", action="store_true", help="do nothing when --out already holds exports")
    demo.set_defaults(func=cmd_demo_data)

    run = sub.add_parser("run", help="materialize the whole asset graph through Dagster")
    run.add_argument("--inbox", help=f"export files to load (default ${ENV_INBOX} or data/inbox)")
    run.add_argument("--warehouse", help=f"warehouse directory (default ${ENV_WAREHOUSE} or warehouse/)")
    run.add_argument("--as-of", help="the as-of date (a daily partition), YYYY-MM-DD (default today)")
    run.add_argument(
        "--to",
        help="backfill every date from --as-of to this one (inclusive) as one Dagster backfill, in date order: the "
        "inbox is loaded once, then each date rebuilt (shown under Overview -> Backfills)",
    )
    run.add_argument("--every", type=int, default=1, help="backfill step in days (default 1; 7 = weekly)")
    run.add_argument("--job", default="full_refresh", help="job to run (default full_refresh)")
    run.add_argument(
        "--target", help="dbt target in dbt_project/profiles.yml: duckdb (default), spark, spark_thrift, spark_http"
    )
    run.set_defaults(func=cmd_run)

    files = sub.add_parser("files", help="list the loaded export files and their states; release or unload one")
    files.add_argument("action", nargs="?", choices=["list", "release", "unload"], default="list")
    files.add_argument("file", nargs="?", help="file id, name (as in the inbox) or content hash")
    files.add_argument("--reason", help="why (recorded with the action; required for release and unload)")
    files.add_argument("--state", action="append", help="list only files in this state (repeatable)")
    files.add_argument("--warehouse", help=f"warehouse directory (default ${ENV_WAREHOUSE} or warehouse/)")
    files.set_defaults(func=cmd_files)

    ui = sub.add_parser("ui", help="start the Dagster UI on 127.0.0.1 with the persistent instance")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    # a service manager's SIGTERM stops a run like Ctrl-C: the running step is interrupted, its resources and the
    # warehouse lock released, the run marked failed (Dagster maps SIGTERM the same way during execution)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SparkSupportMissing as missing:
        print(missing, file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
