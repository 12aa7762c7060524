"""Resources: where the inbox and the warehouse are. Paths come from the environment or run config."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.lib.ingest.load import connect
from orchestration.lib.locking import exclusive_writer
from orchestration.lib.runs.liveness import PID_TAG, clean_up_dead_runs, worker_tags
from orchestration.lib.settings import ENV_INBOX, ENV_WAREHOUSE, WarehousePaths
from orchestration.lib.spark_tables import builds_on_spark

ENV_LAND_LAKE = "CLIENTELE_LAND_LAKE"


class WarehouseResource(dg.ConfigurableResource):
    """The inbox of CRM exports and the warehouse directory (working DB, published copy)."""

    inbox_dir: str = "data/inbox"
    warehouse_dir: str = "warehouse"
    land_lake: bool = False  # also land raw tables as Parquet in <warehouse>/lake (what Spark targets read)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """At run start (steps run in one process): record this process on the run, and mark runs whose process
        died as failed, so that they hold the warehouse pool no more."""
        run, instance = context.dagster_run, context.instance
        if run is None or instance is None:
            return
        if PID_TAG not in run.tags:
            instance.add_run_tags(run.run_id, worker_tags())
        clean_up_dead_runs(instance, echo=context.log.warning if context.log else print)

    @property
    def inbox(self) -> Path:
        return Path(self.inbox_dir).resolve()

    @property
    def paths(self) -> WarehousePaths:
        return WarehousePaths(Path(self.warehouse_dir).resolve())

    @contextmanager
    def writer(self, context: dg.OpExecutionContext | dg.AssetExecutionContext) -> Iterator[None]:
        """Serialise writers to the working DuckDB file across runs and processes."""
        holder = f"run {context.run_id[:8]} step {context.op.name}"
        with exclusive_writer(self.paths.writer_lock, holder=holder, on_wait=context.log.info):
            yield

    @contextmanager
    def connection(
        self, context: dg.OpExecutionContext | dg.AssetExecutionContext
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writing connection to the working database, held under the writer lock."""
        with self.writer(context):
            conn = connect(self.paths.working_db)
            try:
                yield conn
            finally:
                conn.close()


def lake_wanted() -> bool:
    """The Parquet lake is written when a Spark target reads it, or when CLIENTELE_LAND_LAKE=1."""
    return builds_on_spark() or os.environ.get(ENV_LAND_LAKE, "").lower() in ("1", "true", "yes", "on")


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "warehouse": WarehouseResource(
                inbox_dir=dg.EnvVar(ENV_INBOX).get_value("data/inbox"),
                warehouse_dir=dg.EnvVar(ENV_WAREHOUSE).get_value("warehouse"),
                land_lake=lake_wanted(),
            )
        }
    )
