"""Publish: the audited marts, copied out of the working database for BI (write-audit-publish).

`published_marts` depends on every dbt model in the `marts` schema, so Dagster runs it only when they all
materialized and none of their blocking checks (dbt tests at error severity, GX suites) failed in the run.
It also renders the dbt docs site (`dbt docs generate --static`) from the working database and publishes it
beside the marts. A run as of a date before the current publication's publishes nothing and materializes
nothing (the asset's output is optional).
"""

import hashlib
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt import dbt_translator
from orchestration.defs.partitions import as_of_partitions
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.as_of import as_of_for
from orchestration.lib.dbt_project import clientele_dbt_project, dbt_environment
from orchestration.lib.publish import (
    PublicationKept,
    PublishRequest,
    current_publication,
    publish_marts,
)
from orchestration.lib.publish_docs import ColumnDoc, TableDoc
from orchestration.lib.publish_masking import BOOKKEEPING_PREFIX, pii_salt
from orchestration.lib.runs.liveness import WAREHOUSE_POOL
from orchestration.lib.settings import setting

DOCS_TARGET_DIR = ".dbt_docs_target"  # under the warehouse: dbt docs' own target (its partial-parse cache)

PUBLISHED_MARTS_KEY = dg.AssetKey("published_marts")
MARTS_SCHEMA = "marts"


def mart_nodes() -> list[dict]:
    """dbt models built into the `marts` schema, from the manifest (the single source of the mart list)."""
    manifest = json.loads(clientele_dbt_project().manifest_path.read_text(encoding="utf-8"))
    nodes = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == MARTS_SCHEMA
    ]
    return sorted(nodes, key=lambda node: node["name"])


def pii_columns(nodes: list[dict]) -> dict[str, list[str]]:
    """Columns marked `meta: {pii: true}` in the yml, per mart."""
    return {
        node["name"]: [name for name, column in node["columns"].items() if _column_meta(column).get("pii")]
        for node in nodes
    }


def _column_meta(column: dict) -> dict:
    return {**(column.get("meta") or {}), **(column.get("config", {}).get("meta") or {})}


def mart_docs(nodes: list[dict]) -> dict[str, TableDoc]:
    """Each mart's description and its published columns' descriptions and units (yml `meta: {unit: ...}`)."""
    return {
        node["name"]: TableDoc(
            node.get("description") or "",
            {
                name: ColumnDoc(column.get("description") or "", _column_meta(column).get("unit"))
                for name, column in node["columns"].items()
                if not name.startswith(BOOKKEEPING_PREFIX)
            },
        )
        for node in nodes
    }


def _log_kept(context: dg.AssetExecutionContext, kept: PublicationKept) -> None:
    context.log.info(
        f"Publication kept: this run is as of {kept.requested_as_of}, the current publication is as of "
        f"{kept.as_of} (run {kept.run_id}); a publication only moves forward, so nothing is published."
    )


def _check_outcomes(context: dg.AssetExecutionContext) -> tuple[int, list[str]]:
    """Checks evaluated so far in this run: how many passed, and which failed without blocking (warnings)."""
    records = context.instance.get_records_for_run(
        context.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    passed, warned = 0, []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if evaluation.passed:
            passed += 1
        else:
            warned.append(f"{evaluation.asset_key.to_user_string()} / {evaluation.check_name}")
    return passed, warned


DOCS_KEY_FILE = "docs_key"


def _docs_key(manifest: Path) -> str:
    """What the docs site shows of the project: each node's code checksum, description, columns and lineage (not
    the time of the build, the as-of date in compiled SQL or the macros a particular build happened to call)."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    shown = {
        unique_id: [
            node.get("checksum"),
            node.get("description"),
            node.get("columns"),
            # lineage only: the macros a node calls depend on the run (an incremental build calls others)
            sorted((node.get("depends_on") or {}).get("nodes") or []),
        ]
        for unique_id, node in sorted(nodes.items())
    }
    return hashlib.sha256(json.dumps(shown, sort_keys=True, default=str).encode()).hexdigest()


def render_docs_site(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource) -> Path:
    """`dbt docs generate --static` against the working database: one self-contained HTML page with the
    lineage and every column. It has its own target directory, seeded with the build's manifest and
    partial-parse cache, so dbt neither parses nor compiles the project again (about 9 s each). The page is
    rendered again only when the project changed since the last one (its compiled SQL shows that run's as-of
    date)."""
    paths = warehouse.paths
    target_dir = paths.warehouse_dir / DOCS_TARGET_DIR
    target_dir.mkdir(parents=True, exist_ok=True)
    page, key_file = target_dir / "static_index.html", target_dir / DOCS_KEY_FILE
    built = paths.dbt_target_dir / "manifest.json"
    key = _docs_key(built) if built.exists() else None
    if key and page.exists() and key_file.exists() and key_file.read_text(encoding="utf-8") == key:
        context.log.info("dbt docs site unchanged since the last rendering (the project did not change)")
        return page
    command = ["docs", "generate", "--static"]
    if built.exists():
        shutil.copy2(built, target_dir / built.name)
        command.append("--no-compile")  # reads the manifest beside the catalog, as the build left it
    parse_cache = paths.dbt_target_dir / "partial_parse.msgpack"
    if parse_cache.exists():
        shutil.copy2(parse_cache, target_dir / parse_cache.name)
    started = time.monotonic()
    dbt.cli(command, env=dbt_environment(paths, as_of_for(context)), target_path=target_dir).wait()
    context.log.info(f"dbt docs site rendered in {time.monotonic() - started:.1f} s")
    if key:
        key_file.write_text(key, encoding="utf-8")
    return page


@dg.definitions
def publish_definitions() -> dg.Definitions:
    nodes = mart_nodes()
    translator = dbt_translator()

    @dg.asset(
        key=PUBLISHED_MARTS_KEY,
        deps=[translator.get_asset_key(node) for node in nodes],
        partitions_def=as_of_partitions,
        group_name="publish",
        kinds={"duckdb", "parquet"},
        output_required=False,
        owners=["team:data-platform"],
        pool=WAREHOUSE_POOL,
        description="Every mart, audited, published for BI: `<warehouse>/published/clientele.duckdb` (schema "
        "marts with `_publish_log` and `_data_dictionary`, schema audit with the quarantine and the ingest "
        "ledger; replaced atomically, readable by DuckDB 1.x, commented), one Parquet file per table under "
        "`<warehouse>/published/parquet/` and the dbt docs site under `<warehouse>/published/docs/`. E-mails "
        "and phones, in identifier columns and anywhere in text, are salted hashes unless "
        "publish_mask_identifiers is false. Runs only when no blocking check upstream failed, so a failed run "
        "leaves the last good publication untouched; a run as of an earlier date than the publication leaves "
        "it too, and materializes nothing.",
    )
    def published_marts(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, dbt: DbtCliResource
    ) -> Iterator[dg.MaterializeResult]:
        paths = warehouse.paths
        as_of = as_of_for(context)
        passed, warned = _check_outcomes(context)
        mask = bool(setting("publish_mask_identifiers"))
        with warehouse.writer(context):
            current = current_publication(paths)
            if current is not None and as_of < current.as_of and paths.published_db.exists():
                _log_kept(context, PublicationKept(current.as_of, current.run_id, as_of))
                return
            docs_site = render_docs_site(context, dbt, warehouse)
            request = PublishRequest(
                run_id=context.run_id,
                as_of=as_of,
                marts=[node["name"] for node in nodes],
                pii_columns=pii_columns(nodes),
                mask_identifiers=mask,
                salt=pii_salt(paths) if mask else "",
                checks_passed=passed,
                warned_checks=warned,
                docs=mart_docs(nodes),
                docs_site=docs_site,
            )
            result = publish_marts(paths, request)
        if isinstance(result, PublicationKept):
            _log_kept(context, result)
            return
        changed = {mart: state for mart, state in result.written.items() if state != "unchanged"}
        context.log.info(f"published: {len(result.written) - len(changed)} marts unchanged; written: {changed}")
        slowest = sorted(result.seconds.items(), key=lambda item: -item[1])[:8]
        context.log.info("publication time: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest))
        table = "\n".join(
            f"| {mart} | {count:,} | {result.written.get(mart, '')} |" for mart, count in result.row_counts.items()
        )
        yield dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(result.row_counts.values()),
                "database": dg.MetadataValue.path(str(result.database)),
                "parquet": dg.MetadataValue.path(str(result.parquet_dir)),
                "docs": dg.MetadataValue.path(str(result.docs_dir)),
                "as_of_date": request.as_of.isoformat(),
                "marts": dg.MetadataValue.md("| mart | rows | this publication |\n|---|---:|---|\n" + table),
                "marts_unchanged": sum(state == "unchanged" for state in result.written.values()),
                "checks_passed": passed,
                "checks_warned": len(warned),
                "identifiers_masked": mask,
                "seconds": dg.MetadataValue.json({name: round(value, 2) for name, value in result.seconds.items()}),
            }
        )

    return dg.Definitions(assets=[published_marts])
