"""Every run executes its steps in one process: one DuckDB writer, two cores, and dbt already parallel inside
its own step. A process per step made UI runs about five times slower than the CLI's; the warehouse resource
is then set up once per run."""

import dagster as dg


@dg.definitions
def executor_definitions() -> dg.Definitions:
    return dg.Definitions(executor=dg.in_process_executor)
