"""The dbt project as Dagster sees it, and keeping its manifest current."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping
from datetime import date
from functools import cache, cached_property
from importlib.metadata import version as installed_version
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging.version import Version

from orchestration.lib.settings import DBT_PROJECT_DIR, ENV_AS_OF, ENV_WAREHOUSE, WarehousePaths
from orchestration.lib.spark_tables import builds_on_spark, dbt_target, require_spark_support

WATCHED = ("models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml")
# What the incremental staging models' stored rows depend on besides raw data (macros/incremental_staging.sql).
INCREMENTAL_INPUTS = (
    "models/staging",
    "models/intermediate/int_orders_resolved.sql",
    "models/intermediate/int_purchase_days_sequenced.sql",
    "models/intermediate/backtest/int_orders_resolved_for_backtest.sql",
    "models/intermediate/backtest/int_purchase_days_sequenced_for_backtest.sql",
    "models/marts/sales/orders.sql",
    "macros",
    "seeds",
    "dbt_project.yml",
)
INCREMENTAL_FINGERPRINT_FILE = "incremental_fingerprint"


def dbt_executable() -> str:
    """`clientele-dbt` (dbt, plus Python models on a local Spark session) installed beside this Python, so an
    un-activated virtualenv works too; else dbt."""
    for name in ("clientele-dbt", "dbt"):
        beside = Path(sys.executable).parent / name
        if beside.exists():
            return str(beside)
    return "dbt"


class ClienteleDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two probes it makes before every dbt command: `dbt --version` in a
    subprocess (~4 s, plus dbt's online version check) and an in-process dbt adapter, which only serves
    dagster-dbt's fetch_* metadata helpers (row counts come from a post-hook here). The dbt it runs is
    installed in this environment (`dbt_executable`), so its version is the installed dbt-core's."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None

    def cli(self, args, *, env: Mapping[str, str] | None = None, **kwargs):
        """dbt with `env` set in dbt's own process (the warehouse path and the as-of date), handed over as
        `--clientele-env NAME=VALUE` arguments that `clientele-dbt` applies before dbt starts; nothing is set in
        this process's environment."""
        prefix = [token for name, value in (env or {}).items() for token in (ENV_ARGUMENT, f"{name}={value}")]
        return super().cli([*prefix, *args], **kwargs)


ENV_ARGUMENT = "--clientele-env"


def dbt_environment(paths: WarehousePaths, as_of: date) -> dict[str, str]:
    """What dbt reads from its environment: the warehouse (profiles.yml) and the as-of date (macro as_of_date;
    read at run time, so a new date keeps dbt's partial parse)."""
    return {ENV_WAREHOUSE: str(paths.warehouse_dir), ENV_AS_OF: as_of.isoformat()}


def apply_environment_arguments(argv: list[str]) -> list[str]:
    """`clientele-dbt`: set the `--clientele-env NAME=VALUE` pairs in this (dbt's) process; the rest is dbt's."""
    rest, index = [], 0
    while index < len(argv):
        if argv[index] == ENV_ARGUMENT and index + 1 < len(argv):
            name, _, value = argv[index + 1].partition("=")
            os.environ[name] = value
            index += 2
        else:
            rest.append(argv[index])
            index += 1
    return rest


def build_command(target_path: Path, log_path: Path, as_of: date) -> list[str]:
    """`dbt build` of the whole project as of a date (no unit tests), through `clientele-dbt`, which also runs
    the CLV Python models on a Spark session target."""
    return [
        str(Path(sys.executable).with_name("clientele-dbt")),
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
        "--vars",
        json.dumps({"as_of_date": as_of.isoformat()}),
    ]


def incremental_fingerprint() -> str:
    """Hash of the files that shape the incremental models' rows: when it changes, they need a full refresh."""
    digest = hashlib.sha256()
    for name in INCREMENTAL_INPUTS:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            digest.update(file.relative_to(DBT_PROJECT_DIR).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def needs_full_refresh(target_dir: Path, fingerprint: str) -> bool:
    """True unless the last successful build in this target directory had this incremental fingerprint."""
    recorded = Path(target_dir) / INCREMENTAL_FINGERPRINT_FILE
    return not recorded.exists() or recorded.read_text(encoding="utf-8").strip() != fingerprint


def request_full_refresh(target_dir: Path) -> None:
    """Make the next build rebuild the incremental models from scratch (rows they hold were removed)."""
    (Path(target_dir) / INCREMENTAL_FINGERPRINT_FILE).unlink(missing_ok=True)


def record_successful_build(target_dir: Path, fingerprint: str) -> None:
    """Remember the fingerprint the build started with (files edited during the build are not covered)."""
    Path(target_dir).mkdir(parents=True, exist_ok=True)
    (Path(target_dir) / INCREMENTAL_FINGERPRINT_FILE).write_text(fingerprint + "\n", encoding="utf-8")


def ensure_dbt_on_path() -> None:
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


@cache
def clientele_dbt_project() -> DbtProject:
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target=dbt_target(),
    )


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in WATCHED:
        path = DBT_PROJECT_DIR / name
        candidates = [path] if path.is_file() else path.rglob("*") if path.exists() else []
        for candidate in candidates:
            newest = max(newest, candidate.stat().st_mtime)
    return newest


def _manifest_adapter(manifest: Path) -> str | None:
    """The adapter a manifest was parsed for (its metadata opens the file)."""
    with open(manifest, "rb") as fh:
        found = re.search(rb'"adapter_type": "([a-z_]+)"', fh.read(4096))
    return found.group(1).decode() if found else None


def manifest_is_stale(manifest: Path | None = None) -> bool:
    """Older than the project's sources, or parsed for the other engine (DuckDB and Spark differ in config)."""
    manifest = manifest or clientele_dbt_project().manifest_path
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime():
        return True
    return _manifest_adapter(manifest) != ("spark" if builds_on_spark() else "duckdb")


def prepare_dbt_manifest(force: bool = False) -> Path:
    """`dbt parse` when the project changed since the manifest was written (cached otherwise)."""
    require_spark_support()
    project = clientele_dbt_project()
    ensure_dbt_on_path()
    if force or manifest_is_stale(project.manifest_path):
        project.preparer.prepare(project)
    return project.manifest_path
