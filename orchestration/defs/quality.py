"""Quality gates as Dagster asset checks (dbt tests arrive separately, through dagster-dbt).

- Raw exports: the GX suites of `expectations/raw_*` on the rows this run loaded, the quarantine share and
  the row-count drift of re-exported files against their previous load, one check step after ingest. ERROR
  checks block dbt.
- Key marts: the GX distribution suites of `expectations/mart_*` (warnings), before publishing.
"""

import dagster as dg
import duckdb

from orchestration.defs.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.lib.quality import ExpectationOutcome, SuiteModule, suite_modules
from orchestration.lib.quality_sql import validate_in_duckdb
from orchestration.lib.run_tags import as_of_for
from orchestration.lib.schema import ENTITIES
from orchestration.lib.settings import setting
from orchestration.lib.spark_tables import built_tables_reader

QUARANTINE_CHECK = "quarantine_share"
DRIFT_CHECK = "row_count_drift"
ROWS_OF_THIS_RUN = "where _file_hash in (select _file_hash from raw._ingest_ledger where run_id = ?)"


def _raw_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(f"raw_{entity}")


def _specs(suites: list[SuiteModule]) -> list[dg.AssetCheckSpec]:
    specs = []
    for suite in suites:
        for expectation in suite.suite_expectations():
            specs.append(
                dg.AssetCheckSpec(
                    name=expectation.check_name,
                    asset=dg.AssetKey(list(suite.asset_path)),
                    blocking=expectation.blocking,
                    description=f"Great Expectations ({suite.name}): {expectation.description}",
                )
            )
    return specs


def _result(asset: dg.AssetKey, outcome: ExpectationOutcome) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=outcome.check_name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.blocking else dg.AssetCheckSeverity.WARN,
        metadata=outcome.metadata,
    )


def _load_day(conn: duckdb.DuckDBPyConnection, run_id: str):
    """The day this run loaded its files (None when it loaded nothing)."""
    loaded_at = conn.execute("select max(loaded_at) from raw._ingest_ledger where run_id = ?", [run_id]).fetchall()
    return loaded_at[0][0].date() if loaded_at[0][0] else None


def _load_counts(conn: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, tuple[int, int]]:
    """Per entity: rows loaded and quarantined by this run."""
    rows = conn.execute(
        "select entity, sum(rows_loaded), sum(rows_quarantined) from raw._ingest_ledger where run_id = ? "
        "group by entity",
        [run_id],
    ).fetchall()
    return {entity: (int(loaded), int(quarantined)) for entity, loaded, quarantined in rows}


def _shrunken_files(conn: duckdb.DuckDBPyConnection, run_id: str, max_drop: float) -> dict[str, list[str]]:
    """Per entity: files of this run that are a re-export of an earlier file (same name) with too few rows."""
    rows = conn.execute(
        """
        with current_files as (
            select entity, _source_file, rows_in_file, loaded_at from raw._ingest_ledger where run_id = $run_id
        ),
        previous_files as (
            select ledger._source_file, arg_max(ledger.rows_in_file, ledger.loaded_at) as rows_before
            from raw._ingest_ledger as ledger
            inner join current_files using (_source_file)
            where ledger.run_id <> $run_id and ledger.loaded_at <= current_files.loaded_at
            group by ledger._source_file
        )
        select entity, _source_file, rows_in_file, rows_before
        from current_files inner join previous_files using (_source_file)
        where rows_in_file < (1 - $max_drop) * rows_before
        order by entity, _source_file
        """,
        {"run_id": run_id, "max_drop": max_drop},
    ).fetchall()
    shrunken: dict[str, list[str]] = {}
    for entity, name, now, before in rows:
        shrunken.setdefault(entity, []).append(f"{name}: {now:,} rows, {before:,} before")
    return shrunken


def _ingest_results(conn: duckdb.DuckDBPyConnection, run_id: str) -> list[dg.AssetCheckResult]:
    max_quarantine = float(setting("quality_max_quarantine_share"))
    min_rows = int(setting("quality_min_quarantined_rows"))
    max_drop = float(setting("quality_max_row_count_drop"))
    counts = _load_counts(conn, run_id)
    shrunken = _shrunken_files(conn, run_id, max_drop)
    results = []
    for entity in ENTITIES:
        loaded, quarantined = counts.get(entity, (0, 0))
        share = quarantined / (loaded + quarantined) if loaded + quarantined else 0.0
        results.append(
            dg.AssetCheckResult(
                asset_key=_raw_key(entity),
                check_name=QUARANTINE_CHECK,
                passed=share <= max_quarantine,
                severity=dg.AssetCheckSeverity.ERROR if quarantined >= min_rows else dg.AssetCheckSeverity.WARN,
                metadata={
                    "rows_loaded": loaded,
                    "rows_quarantined": quarantined,
                    "quarantine_share": round(share, 6),
                    "max_share": max_quarantine,
                    "blocks_from_rows": min_rows,
                    "unexpected_count": quarantined,
                },
            )
        )
        files = shrunken.get(entity, [])
        results.append(
            dg.AssetCheckResult(
                asset_key=_raw_key(entity),
                check_name=DRIFT_CHECK,
                passed=not files,
                metadata={
                    "max_drop": max_drop,
                    "unexpected_count": len(files),
                    "shrunken_files": dg.MetadataValue.md("\n".join(f"- {f}" for f in files) or "none"),
                },
            )
        )
    return results


@dg.definitions
def quality_definitions() -> dg.Definitions:
    suites = suite_modules()
    raw_suites = [s for s in suites if s.table.startswith("raw.")]
    mart_suites = [s for s in suites if not s.table.startswith("raw.")]
    ingest_specs = [
        spec
        for entity in ENTITIES
        for spec in (
            dg.AssetCheckSpec(
                QUARANTINE_CHECK,
                asset=_raw_key(entity),
                blocking=True,
                description="Share of this run's rows sent to raw._quarantine is at most quality_max_quarantine_share.",
            ),
            dg.AssetCheckSpec(
                DRIFT_CHECK,
                asset=_raw_key(entity),
                blocking=True,
                description="No re-exported file (same name as an earlier load) shrank by more than "
                "quality_max_row_count_drop: a truncated nightly export blocks the run.",
            ),
        )
    ]

    @dg.multi_asset_check(
        specs=_specs(raw_suites) + ingest_specs,
        name="raw_export_checks",
        description="GX export hygiene of the rows this run loaded, quarantine share and row-count drift.",
        pool=WAREHOUSE_POOL,
    )
    def raw_export_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        step = context.op_execution_context
        as_of = as_of_for(step)
        with warehouse.writer(step), duckdb.connect(str(warehouse.paths.working_db), read_only=True) as conn:
            loaded_on = _load_day(conn, step.run_id)
            for suite in raw_suites:
                asset = dg.AssetKey(list(suite.asset_path))
                for outcome in validate_in_duckdb(conn, suite, as_of, ROWS_OF_THIS_RUN, [step.run_id], loaded_on):
                    yield _result(asset, outcome)
            yield from _ingest_results(conn, step.run_id)

    @dg.multi_asset_check(
        specs=_specs(mart_suites),
        name="mart_distribution_checks",
        description="GX distribution suites of the key marts.",
        pool=WAREHOUSE_POOL,
    )
    def mart_distribution_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        step = context.op_execution_context
        as_of = as_of_for(step)
        with warehouse.writer(step), built_tables_reader(warehouse.paths) as conn:
            for suite in mart_suites:
                asset = dg.AssetKey(list(suite.asset_path))
                for outcome in validate_in_duckdb(conn, suite, as_of):
                    yield _result(asset, outcome)

    return dg.Definitions(asset_checks=[raw_export_checks, mart_distribution_checks])
