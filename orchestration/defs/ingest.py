"""Ingest: one scan of the inbox, then one `raw_<entity>` asset per CRM entity."""

from datetime import UTC, datetime

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.lib.ingest.detect import DetectedFile, detect_file, list_export_files
from orchestration.lib.ingest.errors import IngestError
from orchestration.lib.ingest.ledger import LEDGER_TABLE, QUARANTINE_TABLE
from orchestration.lib.ingest.load import ensure_raw_schema, load_file, quote_identifier
from orchestration.lib.lake import RAW_LAKE_SCHEMA, is_landed, land_raw_tables
from orchestration.lib.publish_audit import audit_masking, export_audit_tables
from orchestration.lib.runs.liveness import WAREHOUSE_POOL
from orchestration.lib.schema import ENTITIES, load_profiles

OWNERS = ["team:data-platform"]


@dg.asset(
    group_name="ingest",
    kinds={"file"},
    owners=OWNERS,
    description="Every export file in the inbox, recognised: format, encoding, delimiter, CRM profile, "
    "entity and content hash. Fails, naming each file and the reason, when any file is unusable.",
)
def crm_export_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> list[dict]:
    profiles = load_profiles()
    detected: list[DetectedFile] = []
    try:
        paths, refused = list_export_files(warehouse.inbox)
    except IngestError as exc:
        raise dg.Failure(description=str(exc)) from None
    problems = [str(problem) for problem in refused]
    for path in paths:
        try:
            detected.append(detect_file(path, warehouse.inbox, profiles))
        except IngestError as exc:
            problems.append(str(exc))
    if problems:
        raise dg.Failure(
            description=f"{len(problems)} export file(s) cannot be used:\n" + "\n".join(problems),
            metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))},
        )
    table = "\n".join(
        f"| {f.relative_name} | {f.profile} | {f.entity} | {f.file_format} | {f.encoding} | {f.size:,} |"
        for f in detected
    )
    context.add_output_metadata(
        {
            "files": len(detected),
            "inbox": str(warehouse.inbox),
            "detected": dg.MetadataValue.md(
                "| file | profile | entity | format | encoding | bytes |\n|---|---|---|---|---|---|\n" + table
            ),
        }
    )
    return [f.to_dict() for f in detected]


def build_raw_asset(entity: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"raw_{entity}",
        group_name="ingest",
        kinds={"duckdb"},
        owners=OWNERS,
        pool=WAREHOUSE_POOL,
        ins={"crm_export_files": dg.AssetIn()},
        description=f"Raw CRM {entity} in `raw.{entity}` of the working database: canonical typed columns "
        "plus lineage (_file_id: the file in raw._ingest_ledger; _source_row: its line). Rows that cannot "
        "be parsed or fall outside a plausible range go to `raw._quarantine` with file, row, column and reason; "
        "a file whose rows cannot be counted reliably is quarantined whole. A file already loaded (same content "
        "hash) adds nothing. New files wait in state `pending` until the blocking raw checks accept them. For a "
        "Spark target the table, quarantine and ledger are also landed as Parquet under `<warehouse>/lake/raw/`.",
    )
    def raw_entity(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, crm_export_files: list[dict]
    ) -> dg.MaterializeResult:
        files = [DetectedFile(**f) for f in crm_export_files if f["entity"] == entity]
        loaded_at = datetime.now(UTC).replace(tzinfo=None)
        results = []
        with warehouse.connection(context) as conn:
            ensure_raw_schema(conn)
            for detected in files:
                try:
                    result = load_file(
                        conn,
                        detected,
                        run_id=context.run_id,
                        loaded_at=loaded_at,
                        scratch_dir=warehouse.paths.staging_dir,
                    )
                except IngestError as exc:
                    raise dg.Failure(description=str(exc)) from None
                if result.skipped_as_duplicate:
                    context.log.info(f"{detected.relative_name}: already loaded (same content), skipped")
                else:
                    message = (
                        f"{detected.relative_name}: {result.rows_loaded:,} loaded, "
                        f"{result.rows_quarantined:,} quarantined (file id {result.file_id})"
                    )
                    if result.note:
                        message += f"; {result.note}"
                    (context.log.warning if result.rows_loaded == 0 and result.rows_in_file else context.log.info)(
                        message
                    )
                results.append(result)
            table_rows = conn.execute(f"SELECT count(*) FROM raw.{quote_identifier(entity)}").fetchall()[0][0]
            quarantined_total = conn.execute(
                f"SELECT count(*) FROM {QUARANTINE_TABLE} JOIN {LEDGER_TABLE} USING (file_id) WHERE entity = ?",
                [entity],
            ).fetchall()[0][0]
            # the quarantine and the ledger as Parquet, masked, readable without the working database (even when
            # this run fails before publishing)
            export_audit_tables(warehouse.paths, conn=conn, **audit_masking(warehouse.paths))
            lake_tables = [entity, "_quarantine", "_ingest_ledger"]
            lake = warehouse.paths.lake_dir
            if warehouse.land_lake and (
                any(not r.skipped_as_duplicate for r in results)
                or not all(is_landed(lake, RAW_LAKE_SCHEMA, t) for t in lake_tables)
            ):
                land_raw_tables(conn, lake, lake_tables)
        new = [r for r in results if not r.skipped_as_duplicate]
        per_file = "\n".join(
            f"| {r.file_id} | {r.relative_name} | {r.profile} | {r.rows_in_file:,} | {r.rows_loaded:,} "
            f"| {r.rows_quarantined:,} | {r.note or ''} |"
            for r in new
        )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": table_rows,
                "files_loaded": len(new),
                "files_skipped_already_loaded": len(results) - len(new),
                "rows_loaded": sum(r.rows_loaded for r in new),
                "rows_quarantined": sum(r.rows_quarantined for r in new),
                "quarantined_total": quarantined_total,
                "files": dg.MetadataValue.md(
                    "| file id | file | profile | rows | loaded | quarantined | note |\n|---|---|---|---|---|---|---|\n"
                    + per_file
                    if new
                    else "no new files"
                ),
            }
        )

    return raw_entity


raw_assets = [build_raw_asset(entity) for entity in ENTITIES]

ingest_ledger = dg.AssetSpec(
    "ingest_ledger",
    group_name="ingest",
    kinds={"duckdb"},
    owners=OWNERS,
    deps=[asset.key for asset in raw_assets],
    description="`raw._ingest_ledger`: one row per export file ever loaded (id, name, content hash, profile, "
    "rows in file = loaded + quarantined, load time) and its state: pending until the blocking raw checks judge "
    "it, then accepted or held (released, replaced or unloaded by an operator: `clientele files`). Staging "
    "reads the rows of accepted and released files only. Written by the raw assets and `raw_export_checks`.",
)
