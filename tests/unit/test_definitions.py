"""The code location loads, with the jobs, schedule, sensors, assets and checks data engineers rely on."""

from datetime import UTC, datetime

import dagster as dg
import pytest

from orchestration.definitions import defs
from orchestration.defs.automation import build_nightly_schedule, daily_time
from orchestration.defs.partitions import as_of_partitions
from orchestration.lib.as_of import ENV_SCHEDULE_CRON, schedule_cron, schedule_timezone
from orchestration.lib.schema import ENTITIES


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


def test_every_layer_is_one_connected_graph(definitions):
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    expected = {"crm_export_files", "published_marts", "marts/customer_segments", "marts/customer_clv"}
    expected |= {f"raw_{entity}" for entity in ENTITIES}
    assert expected <= keys
    upstream = graph.upstream_key_iterator(dg.AssetKey("published_marts"))
    assert dg.AssetKey("raw_orders") in set(upstream)
    assert dg.AssetKey(["marts", "customer_segments_history"]) in graph.get(dg.AssetKey("published_marts")).parent_keys


def test_checks_sit_on_their_assets(definitions):
    checks = {(key.asset_key.to_user_string(), key.name) for key in definitions.resolve_asset_graph().asset_check_keys}
    assert ("raw_orders", "gx_column_values_to_be_between__amount") in checks
    assert ("raw_orders", "quarantine_share") in checks
    assert ("raw_orders", "row_count_drift") in checks
    assert ("published_marts", "freshness_check") in checks
    assert ("marts/customer_segments_history", "segment_share_drift") in checks
    assert any(asset == "marts/customers" and name.startswith("unique_") for asset, name in checks)


def test_jobs_select_what_they_say(definitions):
    full = definitions.resolve_job_def("full_refresh")
    segments = definitions.resolve_job_def("segments_only")
    full_keys = {k.to_user_string() for k in full.asset_layer.executable_asset_keys}
    segment_keys = {k.to_user_string() for k in segments.asset_layer.executable_asset_keys}
    assert {"crm_export_files", "raw_orders", "marts/customers", "published_marts"} <= full_keys
    assert "published_marts" in segment_keys and "marts/customers" in segment_keys
    assert not {"crm_export_files", "raw_orders"} & segment_keys
    assert full.executor_def.name == segments.executor_def.name == "in_process"


def test_every_run_uses_the_in_process_executor_whoever_launches_it(definitions):
    implicit = definitions.resolve_implicit_global_asset_job_def()  # "Materialize all" in the UI
    assert implicit.executor_def.name == "in_process"


def test_the_nightly_schedule_runs_the_partition_of_the_scheduled_day(definitions):
    schedule = definitions.resolve_schedule_def("nightly_refresh")
    assert schedule.cron_schedule == "0 2 * * *" and schedule.job_name == "full_refresh"
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 3, 4, 2, tzinfo=UTC))
    request = schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == "2026-03-04"
    # the jobs are partitioned by that day, in the schedule's timezone: "today" is one day everywhere
    assert definitions.resolve_job_def("full_refresh").partitions_def == as_of_partitions
    assert as_of_partitions.timezone == schedule_timezone()


def test_the_schedule_follows_the_configured_time_of_day(monkeypatch):
    monkeypatch.setenv(ENV_SCHEDULE_CRON, "30 1 * * *")
    schedule = build_nightly_schedule(schedule_cron(), schedule_timezone())
    assert (schedule.hour_of_day, schedule.minute_of_hour) == (1, 30)
    assert daily_time("5 23 * * *") == (23, 5)
    with pytest.raises(ValueError, match="daily cron"):
        daily_time("0 2 * * 1")  # weekly: the as-of date is a day, the nightly run daily


def test_sensors_watch_what_they_say(definitions):
    sensors = {sensor.name: sensor for sensor in definitions.sensors}
    assert {"inbox_sensor", "archive_loaded_exports", "record_run_failure", "published_marts_freshness"} <= set(sensors)
    assert sensors["inbox_sensor"].job_name == "full_refresh"
    # failures of any job (ad hoc materializations included) are recorded, from the first daemon start
    assert sensors["record_run_failure"].default_status == dg.DefaultSensorStatus.RUNNING
    assert sensors["inbox_sensor"].default_status == dg.DefaultSensorStatus.STOPPED
