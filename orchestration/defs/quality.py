"""Quality gates as Dagster asset checks (dbt tests arrive separately, through dagster-dbt).

- Raw exports (`raw_export_checks`, one step after ingest): the GX suites of `expectations/raw_*`, the share of
  quarantined rows per file and the row-count drift of re-exported files, over every file awaiting acceptance
  (`orchestration/lib/ingest/gate.py`): files loaded by this run, by a run that died, and files held before.
  The verdict per file goes to the ingest ledger; staging reads accepted files only. ERROR checks block dbt.
- Key marts: the GX distribution suites of `expectations/mart_*` (warnings), before publishing.
"""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.lib.as_of import as_of_for
from orchestration.lib.ingest import gate, ledger
from orchestration.lib.lake import land_raw_tables
from orchestration.lib.publish_audit import audit_masking, export_audit_tables
from orchestration.lib.quality import ExpectationOutcome, SuiteModule, suite_modules
from orchestration.lib.quality_sql import validate_in_duckdb
from orchestration.lib.runs.liveness import WAREHOUSE_POOL
from orchestration.lib.schema import ENTITIES
from orchestration.lib.settings import setting
from orchestration.lib.spark_tables import built_tables_reader

QUARANTINE_CHECK = gate.QUARANTINE_CHECK
DRIFT_CHECK = gate.DRIFT_CHECK


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
                    description=f"Great Expectations, suite {suite.name}: {expectation.description}.",
                )
            )
    return specs


def _files_markdown(counts: dict[int, int], names: dict[int, str], held: dict[int, tuple[str, ...]]) -> str:
    lines = ["| file id | file | rows | state |", "|---|---|---:|---|"]
    for file_id, count in sorted(counts.items()):
        state = "held" if file_id in held else "accepted"
        lines.append(f"| {file_id} | {names.get(file_id, '?')} | {count:,} | {state} |")
    return "\n".join(lines)


def _result(
    asset: dg.AssetKey, outcome: ExpectationOutcome, judgement: gate.Judgement | None = None
) -> dg.AssetCheckResult:
    metadata = dict(outcome.metadata)
    if judgement is not None and outcome.unexpected_by_file:
        metadata["files"] = dg.MetadataValue.md(
            _files_markdown(outcome.unexpected_by_file, judgement.file_names, judgement.held)
        )
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=outcome.check_name,
        passed=outcome.passed,
        severity=dg.AssetCheckSeverity.ERROR if outcome.blocking else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _ingest_results(judgement: gate.Judgement) -> list[dg.AssetCheckResult]:
    max_share = float(setting("quality_max_quarantine_share"))
    min_rows = int(setting("quality_min_quarantined_rows"))
    max_drop = float(setting("quality_max_row_count_drop"))
    results = []
    for entity in ENTITIES:
        loaded, quarantined = judgement.rows_judged.get(entity, (0, 0))
        over = judgement.quarantined_files.get(entity, [])
        blocking = any(file.blocking for file in over)
        table = "\n".join(
            f"| {f.file_id} | {f.source_file} | {f.rows_loaded:,} | {f.rows_quarantined:,} | {f.share:.2%} | "
            f"{'held' if f.blocking else 'warned'} |"
            for f in over
        )
        results.append(
            dg.AssetCheckResult(
                asset_key=_raw_key(entity),
                check_name=QUARANTINE_CHECK,
                passed=not over,
                severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
                metadata={
                    "rows_loaded": loaded,
                    "rows_quarantined": quarantined,
                    "max_share": max_share,
                    "blocks_from_rows": min_rows,
                    "unexpected_count": sum(f.rows_quarantined for f in over),
                    "files_over_share": dg.MetadataValue.md(
                        "| file id | file | loaded | quarantined | share | |\n|---|---|---:|---:|---:|---|\n" + table
                        if over
                        else "none"
                    ),
                },
            )
        )
        shrunken = judgement.shrunken_files.get(entity, [])
        results.append(
            dg.AssetCheckResult(
                asset_key=_raw_key(entity),
                check_name=DRIFT_CHECK,
                passed=not shrunken,
                metadata={
                    "max_drop": max_drop,
                    "unexpected_count": len(shrunken),
                    "shrunken_files": dg.MetadataValue.md(
                        "\n".join(
                            f"- {name} (file id {fid}): {now:,} rows, {before:,} before"
                            for fid, name, now, before in shrunken
                        )
                        or "none"
                    ),
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
                description="No file awaiting acceptance has more than quality_max_quarantine_share of its rows in "
                "raw._quarantine (from quality_min_quarantined_rows rows on; a file quarantined whole always "
                "blocks). Such a file is held.",
            ),
            dg.AssetCheckSpec(
                DRIFT_CHECK,
                asset=_raw_key(entity),
                blocking=True,
                description="No re-exported file (same name as an earlier load) shrank by more than "
                "quality_max_row_count_drop: a truncated nightly export is held and blocks the run.",
            ),
        )
    ]

    @dg.multi_asset_check(
        specs=_specs(raw_suites) + ingest_specs,
        name="raw_export_checks",
        description="The raw gate: GX export hygiene, quarantine share and row-count drift over every file awaiting "
        "acceptance (loaded by this run or an interrupted one, or held before); each file's verdict (accepted "
        "or held) is written to raw._ingest_ledger, and staging reads accepted files only.",
        pool=WAREHOUSE_POOL,
    )
    def raw_export_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        step = context.op_execution_context
        with warehouse.connection(step) as conn:
            ledger.ensure_ledger(conn)
            judgement = gate.judge(conn, raw_suites, as_of_for(step))
            ledger.set_states(conn, judgement.verdicts, ledger.now_utc())
            export_audit_tables(warehouse.paths, conn=conn, **audit_masking(warehouse.paths))
            if warehouse.land_lake:  # a Spark build reads the states from the lake's copy of the ledger
                land_raw_tables(conn, warehouse.paths.lake_dir, [ledger.LEDGER_TABLE.split(".")[1]])
        for file_id, failed in judgement.held.items():
            step.log.error(
                f"held {judgement.file_names[file_id]} (file id {file_id}): failed {', '.join(failed)}; its rows stay "
                "out of staging until a corrected export replaces it, or `clientele files release|unload` it"
            )
        for suite, outcomes in judgement.suite_outcomes:
            asset = dg.AssetKey(list(suite.asset_path))
            for outcome in outcomes:
                yield _result(asset, outcome, judgement)
        yield from _ingest_results(judgement)

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
