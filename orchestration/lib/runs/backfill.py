"""A range of as-of dates as a Dagster backfill executed in this process, in date order.

The backfill is the one the UI shows (Overview -> Backfills): every date's run is created first (not started,
tagged with the backfill), then the backfill is registered as requested, and the runs execute one by one here.
A daemon running meanwhile finds a run for every date and launches nothing; a Cancel from the UI stops the
dates not started yet. The final status follows the daemon's own rule (any failed or canceled run: failed).
These are Dagster internals (as in `dagster job backfill`), kept in this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableJob
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.remote_representation.external_data import partition_set_snap_name_for_job_name
from dagster._core.utils import make_new_backfill_id
from dagster._time import get_current_timestamp

from orchestration.lib.as_of import PARTITION_TAG
from orchestration.lib.runs.origin import create_run, repository_origin

BACKFILL_TAG = "dagster/backfill"


def run_backfill(
    instance: dg.DagsterInstance,
    recon_job: ReconstructableJob,
    partition_keys: Sequence[str],
    *,
    run_config: Mapping,
    execute: Callable[[dg.DagsterRun], object],
    echo: Callable[[str], None] = print,
) -> tuple[str, list[object]]:
    """Create, register and execute the backfill; returns its id and what `execute` returned per date run."""
    job_def = recon_job.get_definition()
    backfill_id = make_new_backfill_id()
    backfill_tags = dg.DagsterRun.tags_for_backfill_id(backfill_id)
    runs = [
        create_run(
            instance,
            recon_job,
            tags={**job_def.get_tags_for_partition_key(key, selected_asset_keys=None), **backfill_tags},
            run_config=run_config,
        )
        for key in partition_keys
    ]
    instance.add_backfill(
        PartitionBackfill(
            backfill_id=backfill_id,
            status=BulkActionStatus.REQUESTED,
            from_failure=False,
            tags={},
            backfill_timestamp=get_current_timestamp(),
            partition_set_origin=repository_origin().get_partition_set_origin(
                partition_set_snap_name_for_job_name(job_def.name)
            ),
            partition_names=list(partition_keys),
            last_submitted_partition_name=partition_keys[-1],
            reexecution_steps=None,
        )
    )
    first, last = partition_keys[0], partition_keys[-1]
    echo(f"Backfill {backfill_id}: {len(partition_keys)} date(s) of {job_def.name}, {first} to {last}")
    results = []
    for run in runs:
        if instance.get_backfill(backfill_id).status != BulkActionStatus.REQUESTED:
            echo(f"backfill {backfill_id} was canceled: {run.tags[PARTITION_TAG]} and later dates not started")
            break
        if instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.NOT_STARTED:
            results.append(execute(instance.get_run_by_id(run.run_id)))
    for run in runs:
        current = instance.get_run_by_id(run.run_id)
        if current.status == dg.DagsterRunStatus.NOT_STARTED:
            instance.report_run_canceled(current, message="the backfill stopped before this date started")
    backfill = instance.get_backfill(backfill_id)
    if backfill.status in (BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING):
        unsuccessful = instance.get_run_ids(
            dg.RunsFilter(tags=backfill_tags, statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED])
        )
        final = (
            BulkActionStatus.CANCELED
            if backfill.status == BulkActionStatus.CANCELING
            else BulkActionStatus.COMPLETED_FAILED
            if unsuccessful
            else BulkActionStatus.COMPLETED_SUCCESS
        )
        instance.update_backfill(backfill.with_status(final).with_end_timestamp(get_current_timestamp()))
    return backfill_id, results


def stop_backfill(instance: dg.DagsterInstance, backfill_id: str) -> None:
    """What the UI's Cancel does: dates not started yet will not start."""
    instance.update_backfill(instance.get_backfill(backfill_id).with_status(BulkActionStatus.CANCELING))
