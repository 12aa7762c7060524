"""dbt: every model and seed is an asset, every dbt test an asset check (error severity = blocking).

One run = one `dbt build` as of the run's partition (CLV is fitted by dbt Python models inside it; dbt unit
tests run in CI, not in production runs). The as-of date reaches dbt in dbt's own process environment, not as
`--vars` (a changed var makes dbt parse the whole project again: ~4.5 s per run, measured), and each warehouse
keeps its own dbt target directory, so dbt's partial parsing survives from run to run. Staging models carry the
partition of the run that built them, though their rows do not depend on it (every version with its interval).
Events reach Dagster while dbt runs, each table's row count logged by a post-hook; the segment and CLV assets get
their summaries (segment sizes, CLV fits) from the working database once dbt has released it.
"""

import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliInvocation, DbtCliResource, dbt_assets

from orchestration.defs.partitions import as_of_partitions
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.as_of import as_of_for
from orchestration.lib.dbt_checks import describe_dbt_test
from orchestration.lib.dbt_metadata import DEFERRED_METADATA_KEYS, materialization_metadata
from orchestration.lib.dbt_project import (
    ClienteleDbtCliResource,
    clientele_dbt_project,
    dbt_environment,
    dbt_executable,
    incremental_fingerprint,
    needs_full_refresh,
    record_successful_build,
)
from orchestration.lib.runs.liveness import WAREHOUSE_POOL
from orchestration.lib.spark_tables import builds_on_spark

OWNERS = ["team:analytics-engineering"]
GROUP_BY_FOLDER = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


class ClienteleDbtTranslator(DagsterDbtTranslator):
    """Groups follow the dbt folder layers; seeds are reference data."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        for part in fqn[1:]:
            if part in GROUP_BY_FOLDER:
                return GROUP_BY_FOLDER[part]
        return super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project) -> dg.AssetCheckSpec | None:
        """dagster-dbt's check, described with the test's rule and what a failure does."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=describe_dbt_test(manifest["nodes"][unique_id]),
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
            automation_condition=spec.automation_condition,
            partitions_def=spec.partitions_def,
        )


def dbt_translator() -> ClienteleDbtTranslator:
    return ClienteleDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
    )


def incremental_model_keys(manifest: Mapping[str, Any]) -> set[dg.AssetKey]:
    translator = dbt_translator()
    return {
        translator.get_asset_key(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    }


ROW_COUNT_LOG_PREFIX = "clientele_row_count "  # lines logged by the log_row_count post-hook


def _event_asset_key(context: dg.AssetExecutionContext, event: Any) -> dg.AssetKey | None:
    if isinstance(event, dg.Output):
        return context.asset_key_for_output(event.output_name)
    if isinstance(event, dg.AssetMaterialization | dg.AssetCheckResult):
        return event.asset_key
    return None


def _stream_with_metadata(
    context: dg.AssetExecutionContext, invocation: DbtCliInvocation, database: str
) -> Iterator[dg.Output | dg.AssetMaterialization | dg.AssetCheckResult | dg.AssetObservation]:
    """dbt's events as they happen, each materialization with the row count its post-hook logged.

    Assets whose metadata needs more than a row count (segment sizes, CLV fits) or whose count was not
    logged wait, with their checks and everything downstream of them (Dagster wants a multi-asset's outputs
    in dependency order), until dbt has released the database; then they get it from there.
    """
    upstream = context.assets_def.asset_deps
    row_counts: dict[str, int] = {}
    deferred_keys: set[dg.AssetKey] = set()
    deferred: list = []
    for raw_event in invocation.stream_raw_events():
        info = raw_event.raw_event["info"]
        if info["name"] == "JinjaLogInfo" and info["msg"].startswith(ROW_COUNT_LOG_PREFIX):
            unique_id, count = info["msg"][len(ROW_COUNT_LOG_PREFIX) :].split()
            row_counts[unique_id] = int(count)
            continue
        unique_id = raw_event.raw_event["data"].get("node_info", {}).get("unique_id")
        for event in raw_event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=context,
            target_path=invocation.target_path,
            project=invocation.project,
        ):
            key = _event_asset_key(context, event)
            if isinstance(event, dg.Output | dg.AssetMaterialization):
                if unique_id in row_counts:
                    event = event.with_metadata({**event.metadata, "dagster/row_count": row_counts[unique_id]})
                waits = key in DEFERRED_METADATA_KEYS or unique_id not in row_counts
                if waits or not deferred_keys.isdisjoint(upstream.get(key, ())):
                    deferred_keys.add(key)
            if key in deferred_keys:
                deferred.append(event)
            else:
                yield event
    yield from _with_warehouse_metadata(context, deferred, database)


def _with_warehouse_metadata(
    context: dg.AssetExecutionContext, events: list, database: str
) -> Iterator[dg.Output | dg.AssetMaterialization | dg.AssetCheckResult | dg.AssetObservation]:
    """Re-emit dbt's events with metadata read from the database dbt has just released."""
    keys = {id(event): key for event in events if (key := _event_asset_key(context, event)) is not None}
    materialized = {keys[id(event)] for event in events if isinstance(event, dg.Output | dg.AssetMaterialization)}
    extra = {}
    if materialized and os.path.exists(database) and not builds_on_spark():  # Spark's tables are elsewhere
        with duckdb.connect(database, read_only=True) as conn:
            extra = materialization_metadata(conn, materialized)
    for event in events:
        key = keys.get(id(event))
        if isinstance(event, dg.Output | dg.AssetMaterialization) and extra.get(key):
            event = event.with_metadata({**event.metadata, **extra[key]})
        yield event


@dg.definitions
def dbt_definitions() -> dg.Definitions:
    project = clientele_dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=dbt_translator(),
        pool=WAREHOUSE_POOL,
        partitions_def=as_of_partitions,
        backfill_policy=dg.BackfillPolicy.multi_run(1),  # one run per date, in order: each date is its own as-of
    )
    def clientele_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        target_dir, fingerprint = warehouse.paths.dbt_target_dir, incremental_fingerprint()
        command = ["build", "--exclude-resource-type", "unit_test"]
        if needs_full_refresh(target_dir, fingerprint):
            command.append("--full-refresh")
            context.log.info("dbt build with --full-refresh: the incremental models' code or seeds changed")
        with warehouse.writer(context):
            invocation = dbt.cli(
                command,
                env=dbt_environment(warehouse.paths, as_of_for(context)),
                context=context,
                raise_on_error=False,
                target_path=target_dir,
            )
            yield from _stream_with_metadata(context, invocation, str(warehouse.paths.working_db))
        error = invocation.get_error()
        if error is not None:
            raise error
        if incremental_model_keys(invocation.manifest) <= context.selected_asset_keys:
            record_successful_build(target_dir, fingerprint)

    return dg.Definitions(
        assets=[clientele_dbt_models],
        resources={
            "dbt": ClienteleDbtCliResource(
                project_dir=project, profiles_dir=str(project.profiles_dir), dbt_executable=dbt_executable()
            )
        },
    )
