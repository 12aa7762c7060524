"""dbt Python models on dbt-spark's `session` method, and the `clientele-dbt` command that enables them.

dbt-spark submits Python models to a Databricks cluster only. With the `session` method, though, the dbt
process itself holds the SparkSession that runs every SQL model, so the compiled model (`model(dbt, spark)`
plus dbt-spark's `saveAsTable` epilogue) can simply run there: `clientele-dbt` is `dbt` with a `session`
submission method registered (the default when the profile's method is `session`). Other adapters and
methods are untouched.
"""

from __future__ import annotations

import sys
from typing import Any

SESSION_METHOD = "session"


class SparkSessionPythonJobHelper:
    """Runs a compiled dbt Python model in this process's SparkSession (the one dbt-spark's session uses)."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.parsed_model = parsed_model
        self.credentials = credentials

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.enableHiveSupport()
        for name, value in (getattr(self.credentials, "server_side_parameters", None) or {}).items():
            builder = builder.config(name, value)
        spark = builder.getOrCreate()
        label = f"<dbt python model {self.parsed_model.get('unique_id', '?')}>"
        exec(compile(compiled_code, label, "exec"), {"__name__": "__dbt_python_model__", "spark": spark})


def enable_session_python_models() -> bool:
    """Register the `session` submission method on dbt-spark's adapter; False when dbt-spark is absent."""
    try:
        from dbt.adapters.spark.impl import SparkAdapter
    except ImportError:
        return False
    if getattr(SparkAdapter, "_clientele_session_models", False):
        return True
    helpers = SparkAdapter.python_submission_helpers.fget
    default_method = SparkAdapter.default_python_submission_method.fget

    def python_submission_helpers(self):
        return {**helpers(self), SESSION_METHOD: SparkSessionPythonJobHelper}

    def default_python_submission_method(self):
        method = getattr(self.connections.profile.credentials, "method", None)
        return SESSION_METHOD if getattr(method, "value", method) == SESSION_METHOD else default_method(self)

    SparkAdapter.python_submission_helpers = property(python_submission_helpers)
    SparkAdapter.default_python_submission_method = property(default_python_submission_method)
    SparkAdapter._clientele_session_models = True
    return True


def die_with_parent() -> None:
    """Linux: this process is killed when the process that started it dies (a run killed with kill -9 must not
    leave its dbt writing to the warehouse, holding DuckDB's lock against the next run)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import os
    import signal

    parent = os.getppid()
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def dbt_main() -> None:
    """`clientele-dbt`: the dbt command line, with Python models runnable on a local Spark session; it dies with
    the run that started it."""
    die_with_parent()  # first: the parent must still be the one that started us when the request is made
    from dbt.cli.main import cli

    from orchestration.lib.dbt_project import apply_environment_arguments

    sys.argv[1:] = apply_environment_arguments(sys.argv[1:])
    enable_session_python_models()
    sys.exit(cli())
