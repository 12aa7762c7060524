"""The same project on Apache Spark (dbt-spark, in-process session, local[2]) and on DuckDB, from the same ingest.

One ingest lands the raw tables in the working DuckDB file and as Parquet in the lake; dbt then builds every
model and runs every data test on both targets. Every mart published from the Spark build (Parquet plus
`_publish_log`, identifiers hashed) must equal the DuckDB build's mart row for row, floats to a tolerance.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from importlib.util import find_spec
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from clientele_demo import generate_demo_exports
from orchestration.defs.ingest import crm_export_files, raw_assets
from orchestration.defs.quality import quality_definitions
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.dbt_project import build_command
from orchestration.lib.lake import RAW_LAKE_SCHEMA, is_landed
from orchestration.lib.publish import PUBLISH_LOG, PublishRequest, publish_marts
from orchestration.lib.publish_changes import parquet_select
from orchestration.lib.publish_masking import BOOKKEEPING_PREFIX
from orchestration.lib.schema import ENTITIES
from orchestration.lib.settings import WarehousePaths
from orchestration.lib.spark_tables import ENV_DBT_TARGET, spark_tables

# Spark is the optional `spark` extra; `make test` installs it, so CI runs this module. (Looked up, not imported:
# Spark runs in the dbt subprocesses only.)
SPARK_EXTRA_MISSING = find_spec("pyspark") is None or find_spec("dbt.adapters.spark") is None
pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.timeout(1200),
    pytest.mark.skipif(SPARK_EXTRA_MISSING, reason="the spark extra is not installed (`make spark`)"),
]

AS_OF = date(2025, 6, 30)
SALT = "parity-salt"
WALL_CLOCK_COLUMNS = {"fitted_at"}  # when the CLV fit ran: differs between any two builds
FLOAT_RTOL, FLOAT_ATOL = 1e-6, 1e-6
MONEY_ATOL = 0.011  # CLV money is rounded to cents from a float fit: a last-cent flip is tolerated


@dataclass(frozen=True)
class Builds:
    paths: WarehousePaths
    duckdb_results: dict
    spark_results: dict
    manifest: dict


def _dbt_build(root: Path, paths: WarehousePaths, target: str) -> dict:
    env = os.environ | {
        "CLIENTELE_WAREHOUSE": str(paths.warehouse_dir),
        ENV_DBT_TARGET: target,
        "CLIENTELE_SPARK_MASTER": "local[2]",
        "CLIENTELE_SPARK_SHUFFLE_PARTITIONS": "2",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    target_path = root / f"target_{target}"
    completed = subprocess.run(
        build_command(target_path, root / f"logs_{target}", AS_OF),
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    log = "\n".join(line for line in completed.stdout.splitlines() if not line.startswith('{"ts"'))
    assert completed.returncode == 0, f"dbt build on {target} failed:\n{log[-8000:]}"
    return json.loads((target_path / "run_results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime")
    root = tmp_path_factory.mktemp("spark_parity")
    inbox = root / "inbox"
    paths = WarehousePaths(root / "warehouse")
    for profile in ("generic", "fxiaoke"):
        generate_demo_exports(inbox / profile, 120, seed=5, profile=profile, defects=True, end_date=AS_OF)
    warehouse = WarehouseResource(inbox_dir=str(inbox), warehouse_dir=str(paths.warehouse_dir), land_lake=True)
    # the raw gate accepts the files (staging reads accepted files only) and lands the ledger's states in the lake
    (raw_gate,) = [c for c in quality_definitions().asset_checks if c.node_def.name == "raw_export_checks"]
    ingest = dg.materialize(
        [crm_export_files, *raw_assets, raw_gate],
        resources={"warehouse": warehouse},
    )
    assert ingest.success
    duckdb_results = _dbt_build(root, paths, "duckdb")
    spark_results = _dbt_build(root, paths, "spark")
    manifest = json.loads((root / "target_duckdb" / "manifest.json").read_text(encoding="utf-8"))
    return Builds(paths, duckdb_results, spark_results, manifest)


def _mart_nodes(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }


def _pii_columns(node: dict) -> list[str]:
    return [
        name
        for name, column in node["columns"].items()
        if (column.get("meta") or {}).get("pii") or (column.get("config", {}).get("meta") or {}).get("pii")
    ]


def _statuses(results: dict) -> dict[str, str]:
    return {result["unique_id"]: result["status"] for result in results["results"]}


def test_the_lake_holds_every_raw_table(builds: Builds):
    for table in [*ENTITIES, "_quarantine", "_ingest_ledger"]:
        assert is_landed(builds.paths.lake_dir, RAW_LAKE_SCHEMA, table), table
    with duckdb.connect(str(builds.paths.working_db), read_only=True) as conn:
        for table in ENTITIES:
            in_database = conn.execute(f"select count(*) from raw.{table}").fetchall()[0][0]
            in_lake = conn.execute(
                f"select count(*) from read_parquet('{builds.paths.lake_dir / 'raw' / table}/*.parquet')"
            ).fetchall()[0][0]
            assert in_lake == in_database > 0, table


def test_spark_runs_every_model_seed_and_data_test_duckdb_runs(builds: Builds):
    duckdb_statuses, spark_statuses = _statuses(builds.duckdb_results), _statuses(builds.spark_results)
    assert set(spark_statuses) == set(duckdb_statuses)
    assert sum(uid.startswith("model.") for uid in spark_statuses) >= 30
    assert sum(uid.startswith("test.") for uid in spark_statuses) >= 100
    failed = {uid: status for uid, status in spark_statuses.items() if status not in ("success", "pass", "warn")}
    assert not failed
    # a test that warns on one engine warns on the other: they saw the same rows
    assert {uid for uid, s in spark_statuses.items() if s == "warn"} == {
        uid for uid, s in duckdb_statuses.items() if s == "warn"
    }


def _sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order of their non-float columns (as text, nulls first): the same order on both engines."""
    keys = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    sort_keys = {f"_key_{i}": frame[c].astype("string").fillna("") for i, c in enumerate(keys)}
    ordered = frame.assign(**sort_keys).sort_values(list(sort_keys), kind="stable") if keys else frame
    return ordered.drop(columns=list(sort_keys)).reset_index(drop=True)


def _assert_same_rows(mart: str, expected: pd.DataFrame, actual: pd.DataFrame, money: set[str]) -> None:
    assert sorted(actual.columns) == sorted(expected.columns), mart
    assert len(actual) == len(expected), f"{mart}: {len(actual)} rows on Spark, {len(expected)} on DuckDB"
    columns = sorted(expected.columns)
    expected, actual = _sorted_frame(expected[columns]), _sorted_frame(actual[columns])
    for column in columns:
        left, right = expected[column], actual[column]
        if column in money or pd.api.types.is_float_dtype(left):
            left_values = pd.to_numeric(left, errors="coerce").to_numpy(dtype=float)
            right_values = pd.to_numeric(right, errors="coerce").to_numpy(dtype=float)
            atol = MONEY_ATOL if column in money else FLOAT_ATOL
            close = np.isclose(left_values, right_values, rtol=FLOAT_RTOL, atol=atol, equal_nan=True)
            assert close.all(), f"{mart}.{column}: {left_values[~close][:5]} vs {right_values[~close][:5]}"
        else:
            left_text = left.astype("string").fillna("<null>").tolist()
            right_text = right.astype("string").fillna("<null>").tolist()
            mismatched = [(a, b) for a, b in zip(left_text, right_text, strict=True) if a != b]
            assert not mismatched, f"{mart}.{column}: {mismatched[:5]}"


def test_every_mart_published_from_spark_equals_the_duckdb_mart(builds: Builds, monkeypatch: pytest.MonkeyPatch):
    nodes = _mart_nodes(builds.manifest)
    assert {name for schema, name in spark_tables(builds.paths) if schema == "marts"} >= set(nodes)
    monkeypatch.setenv(ENV_DBT_TARGET, "spark")
    request = PublishRequest(
        run_id="spark-parity",
        as_of=AS_OF,
        marts=sorted(nodes),
        pii_columns={name: _pii_columns(node) for name, node in nodes.items()},
        mask_identifiers=True,
        salt=SALT,
        checks_passed=sum(s == "pass" for s in _statuses(builds.spark_results).values()),
    )
    result = publish_marts(builds.paths, request)
    with duckdb.connect(str(builds.paths.working_db), read_only=True) as duck:
        for mart, node in sorted(nodes.items()):
            published = duck.execute(parquet_select(result.parquet_dir, mart)).df()
            hashed = _pii_columns(node)
            select = ", ".join(
                f"case when {c} is null then null else sha256($salt || {c}) end as {c}" if c in hashed else c
                for c in duck.execute(f"select * from marts.{mart} limit 0").df().columns
                if not c.startswith(BOOKKEEPING_PREFIX)  # incremental bookkeeping is never published
            )
            expected = duck.execute(f"select {select} from marts.{mart}", {"salt": SALT} if hashed else {}).df()
            money = {
                name
                for name, column in node["columns"].items()
                if (column.get("data_type") or "").replace(" ", "").lower().startswith("decimal")
            }
            drop = [c for c in WALL_CLOCK_COLUMNS if c in expected.columns]
            _assert_same_rows(mart, expected.drop(columns=drop), published.drop(columns=drop), money)
            assert result.row_counts[mart] == len(expected)
        log = duck.execute(f"select * from read_parquet('{result.parquet_dir / PUBLISH_LOG}.parquet')").df()
    assert log["run_id"].tolist() == ["spark-parity"]
    assert result.row_counts["customers"] >= 100 and result.row_counts["orders"] >= 500
    assert json.loads(log["row_counts"].iloc[0]) == result.row_counts
