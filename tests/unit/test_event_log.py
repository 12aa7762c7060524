"""The instance template's event log: one pooled engine per process, the same database for every process."""

import multiprocessing
import shutil

import dagster as dg

from orchestration.cli import INSTANCE_TEMPLATE
from orchestration.lib.event_log import PooledSqliteEventLogStorage


def _report(home: str, run_id: str) -> None:
    with dg.DagsterInstance.from_config(home) as instance:
        instance.report_engine_event("from the child process", instance.get_run_by_id(run_id))


def test_events_from_two_processes_land_in_one_pooled_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    shutil.copyfile(INSTANCE_TEMPLATE, tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        run = instance.create_run_for_job(dg.GraphDefinition(name="noop").to_job())
        instance.report_engine_event("from the parent process", run)
        engine = storage._engine()
        instance.report_engine_event("again from the parent process", run)
        assert storage._engine() is engine

        child = multiprocessing.get_context("fork").Process(target=_report, args=(str(tmp_path), run.run_id))
        child.start()
        child.join(60)
        assert child.exitcode == 0

        messages = [record.message for record in instance.all_logs(run.run_id)]
    assert {"from the parent process", "again from the parent process", "from the child process"} <= set(messages)
