"""dbt: every model and seed is an asset, every dbt test an asset check (error severity = blocking).

One run = one `dbt build` (CLV is fitted by dbt Python models inside it; dbt unit tests run in CI, not in
production runs). The as-of date reaches dbt through the environment, not `--vars`, and each warehouse keeps
its own dbt target directory, so dbt's partial parsing survives from run to run. When dbt has finished, the
materializations get metadata read from the working database: row counts, segment sizes, CLV fits.
"""

import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.lib.dbt_metadata import materialization_metadata
from orchestration.lib.dbt_project import clientele_dbt_project, dbt_executable
from orchestration.lib.run_tags import as_of_for
from orchestration.lib.settings import ENV_AS_OF, ENV_WAREHOUSE
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


def dbt_translator() -> ClienteleDbtTranslator:
    return ClienteleDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True)
    )


def _with_warehouse_metadata(
    context: dg.AssetExecutionContext, events: list, database: str
) -> Iterator[dg.Output | dg.AssetMaterialization | dg.AssetCheckResult | dg.AssetObservation]:
    """Re-emit dbt's events with metadata read from the database dbt has just released."""
    keys = {}
    for event in events:
        if isinstance(event, dg.Output):
            keys[id(event)] = context.asset_key_for_output(event.output_name)
        elif isinstance(event, dg.AssetMaterialization):
            keys[id(event)] = event.asset_key
    extra = {}
    if os.path.exists(database) and not builds_on_spark():  # Spark's tables are not in the working file
        with duckdb.connect(database, read_only=True) as conn:
            extra = materialization_metadata(conn, set(keys.values()))
    for event in events:
        key = keys.get(id(event))
        if key is not None and extra.get(key):
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
    )
    def clientele_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        os.environ[ENV_WAREHOUSE] = str(warehouse.paths.warehouse_dir)
        os.environ[ENV_AS_OF] = as_of_for(context).isoformat()
        with warehouse.writer(context):
            invocation = dbt.cli(
                ["build", "--exclude-resource-type", "unit_test"],
                context=context,
                raise_on_error=False,
                target_path=warehouse.paths.dbt_target_dir,
            )
            events = list(invocation.stream())
            yield from _with_warehouse_metadata(context, events, str(warehouse.paths.working_db))
        error = invocation.get_error()
        if error is not None:
            raise error

    return dg.Definitions(
        assets=[clientele_dbt_models],
        resources={
            "dbt": DbtCliResource(
                project_dir=project, profiles_dir=str(project.profiles_dir), dbt_executable=dbt_executable()
            )
        },
    )
