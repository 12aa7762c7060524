"""Spark is an optional extra: without it, Spark targets say how to install it and the DuckDB path still works.

Where the extra is installed (`make test`), the missing case runs in a subprocess that hides dbt-spark and
pyspark from the import system, the way a core install lacks them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from orchestration.lib.spark_tables import SPARK_INSTALL_COMMAND, require_spark_support

HIDE_SPARK = "import sys\nfor name in ('pyspark', 'dbt.adapters.spark'):\n    sys.modules[name] = None\n"


def _python_without_spark(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"DAGSTER_HOME": str(tmp_path / "dagster_home")}
    env.pop("CLIENTELE_DBT_TARGET", None)
    return subprocess.run(
        [sys.executable, "-c", HIDE_SPARK + code], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(("target", "needs"), [("spark", "dbt-spark and pyspark"), ("spark_thrift", "dbt-spark")])
def test_a_spark_run_without_the_extra_says_how_to_install_it(tmp_path, target, needs):
    warehouse = tmp_path / "warehouse"
    argv = ["run", "--target", target, "--inbox", str(tmp_path), "--warehouse", str(warehouse)]
    completed = _python_without_spark(f"from orchestration.cli import main\nsys.exit(main({argv!r}))", tmp_path)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert f"dbt target {target!r} needs {needs}" in completed.stderr
    assert f"run `{SPARK_INSTALL_COMMAND}`" in completed.stderr
    assert not warehouse.exists()
    assert not (tmp_path / "dagster_home").exists()


def test_the_dbt_wrapper_runs_without_dbt_spark(tmp_path):
    code = (
        "from orchestration.lib.spark_session import enable_session_python_models\n"
        "from orchestration.lib.spark_tables import require_spark_support\n"
        "require_spark_support('duckdb')\n"
        "print(enable_session_python_models())\n"
    )
    completed = _python_without_spark(code, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False"


@pytest.mark.skipif(
    find_spec("pyspark") is None or find_spec("dbt.adapters.spark") is None,
    reason="the spark extra is not installed (`make spark`)",
)
def test_the_installed_extra_satisfies_every_spark_target():
    for target in ("spark", "spark_thrift", "spark_http"):
        require_spark_support(target)
