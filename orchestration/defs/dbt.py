"""dbt: every model and seed is an asset, every dbt test an asset check (error severity = blocking)."""

import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.lib.dbt_project import clientele_dbt_project, dbt_executable
from orchestration.lib.run_tags import as_of_for
from orchestration.lib.settings import ENV_WAREHOUSE

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


def dbt_vars_for(context: dg.AssetExecutionContext) -> str:
    return json.dumps({"as_of_date": as_of_for(context).isoformat()})


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
        with warehouse.writer(context):
            yield from dbt.cli(["build", "--vars", dbt_vars_for(context)], context=context).stream()

    return dg.Definitions(
        assets=[clientele_dbt_models],
        resources={
            "dbt": DbtCliResource(
                project_dir=project, profiles_dir=str(project.profiles_dir), dbt_executable=dbt_executable()
            )
        },
    )
