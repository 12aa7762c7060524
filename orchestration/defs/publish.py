"""Publish: the audited marts, copied out of the working database for BI (write-audit-publish).

`published_marts` depends on every dbt model in the `marts` schema, so Dagster runs it only when they all
materialized and none of their blocking checks (dbt tests at error severity, GX suites) failed in the run.
"""

import json
import os
import secrets

import dagster as dg

from orchestration.defs.dbt import dbt_translator
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.dbt_project import clientele_dbt_project
from orchestration.lib.publish import ENV_PII_SALT, PublishRequest, publish_marts
from orchestration.lib.run_tags import as_of_for
from orchestration.lib.runs.liveness import WAREHOUSE_POOL
from orchestration.lib.settings import WarehousePaths, setting

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
        node["name"]: [
            name
            for name, column in node["columns"].items()
            if (column.get("meta") or {}).get("pii") or (column.get("config", {}).get("meta") or {}).get("pii")
        ]
        for node in nodes
    }


def pii_salt(paths: WarehousePaths) -> str:
    """Salt from CLIENTELE_PII_SALT, else one generated once per warehouse (kept beside it, never published)."""
    if os.environ.get(ENV_PII_SALT):
        return os.environ[ENV_PII_SALT]
    salt_file = paths.warehouse_dir / ".pii_salt"
    if not salt_file.exists():
        paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
        salt_file.write_text(secrets.token_hex(16), encoding="utf-8")
        salt_file.chmod(0o600)
    return salt_file.read_text(encoding="utf-8").strip()


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


@dg.definitions
def publish_definitions() -> dg.Definitions:
    nodes = mart_nodes()
    translator = dbt_translator()

    @dg.asset(
        key=PUBLISHED_MARTS_KEY,
        deps=[translator.get_asset_key(node) for node in nodes],
        group_name="publish",
        kinds={"duckdb", "parquet"},
        owners=["team:data-platform"],
        pool=WAREHOUSE_POOL,
        description="Every mart, audited, published for BI: `<warehouse>/published/clientele.duckdb` (schema "
        "marts, replaced atomically) and one Parquet file per mart under `<warehouse>/published/parquet/`, "
        "with `marts._publish_log`. E-mails and phones are salted hashes unless publish_mask_identifiers is "
        "false. Runs only when no blocking check upstream failed, so a failed run leaves the last good "
        "publication untouched.",
    )
    def published_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        paths = warehouse.paths
        passed, warned = _check_outcomes(context)
        mask = bool(setting("publish_mask_identifiers"))
        request = PublishRequest(
            run_id=context.run_id,
            as_of=as_of_for(context),
            marts=[node["name"] for node in nodes],
            pii_columns=pii_columns(nodes),
            mask_identifiers=mask,
            salt=pii_salt(paths) if mask else "",
            checks_passed=passed,
            warned_checks=warned,
        )
        with warehouse.writer(context):
            result = publish_marts(paths, request)
        table = "\n".join(f"| {mart} | {count:,} |" for mart, count in result.row_counts.items())
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(result.row_counts.values()),
                "database": dg.MetadataValue.path(str(result.database)),
                "parquet": dg.MetadataValue.path(str(result.parquet_dir)),
                "as_of_date": request.as_of.isoformat(),
                "marts": dg.MetadataValue.md("| mart | rows |\n|---|---:|\n" + table),
                "checks_passed": passed,
                "checks_warned": len(warned),
                "identifiers_masked": mask,
            }
        )

    return dg.Definitions(assets=[published_marts])
