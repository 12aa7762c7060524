"""Which process runs a run, and cleaning up after runs whose process died.

Every run records its process (pid, host, and the process's start time, since pids are reused) as run tags:
the CLI when it creates the run, the warehouse resource when a run starts elsewhere (UI, schedule, sensor).
A run still active whose process is gone from this host (kill -9, a crash, a reboot) is marked failed at the
next start: it frees the warehouse pool, so the queue and the next runs do not wait for it forever.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import dagster as dg

PID_TAG, HOST_TAG, PROCESS_START_TAG = "clientele/pid", "clientele/host", "clientele/process_start"
ACTIVE_STATUSES = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def process_start(pid: int) -> str | None:
    """Boot id and start time (clock ticks) of a process: unique on this host; None when it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return f"{_boot_id()}:{stat.rsplit(')', 1)[1].split()[19]}"


@cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown-boot"


def worker_tags() -> dict[str, str]:
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: socket.gethostname(), PROCESS_START_TAG: process_start(pid) or ""}


def is_dead(run: dg.DagsterRun) -> bool:
    """True only when the run's process is known to be gone (runs of other hosts or without tags: unknown)."""
    pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
    if not pid or host != socket.gethostname():
        return False
    return process_start(int(pid)) != run.tags.get(PROCESS_START_TAG)


def clean_up_dead_runs(instance: dg.DagsterInstance, echo: Callable[[str], None] = print) -> list[dg.DagsterRun]:
    """Mark failed (or canceled, when a cancel was asked) every active run whose process died; returns them."""
    cleaned = []
    for run in instance.get_runs(dg.RunsFilter(statuses=ACTIVE_STATUSES)):
        if not is_dead(run):
            continue
        message = f"the process running it ({run.tags[PID_TAG]} on {run.tags[HOST_TAG]}) is gone"
        if run.status == dg.DagsterRunStatus.CANCELING:
            instance.report_run_canceled(run, message=f"{message}: run marked canceled")
        else:
            instance.report_run_failed(run, message=f"{message}: run marked failed")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        echo(f"run {run.run_id[:8]} ({run.job_name}): {message}; marked finished so it holds the warehouse no more")
        cleaned.append(instance.get_run_by_id(run.run_id))
    return cleaned


WAREHOUSE_POOL = "clientele_warehouse"


def initialise_warehouse_pool(instance: dg.DagsterInstance) -> None:
    """Create the pool's limit now: Dagster creates it lazily, and a queued run could slip past a pool whose limit
    row does not exist yet."""
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)


def _holds_warehouse(run: dg.DagsterRun) -> bool:
    concurrency = run.run_op_concurrency
    return concurrency is None or WAREHOUSE_POOL in (concurrency.all_pools or ())


def wait_for_warehouse(
    instance: dg.DagsterInstance, echo: Callable[[str], None] = print, poll_seconds: float = 5.0
) -> None:
    """Wait while another live run uses the warehouse (the queue serialises the runs it launches; a run executed
    here does not queue, so it waits the same way). Ctrl-C or SIGTERM stop the wait."""
    announced: set[str] = set()
    while True:
        busy = [
            run
            for run in instance.get_runs(dg.RunsFilter(statuses=ACTIVE_STATUSES[1:]))
            if _holds_warehouse(run) and not is_dead(run)
        ]
        if not busy:
            return
        for run in busy:
            if run.run_id not in announced:
                echo(f"waiting for run {run.run_id[:8]} ({run.job_name}, {run.status.value}) to release the warehouse")
                announced.add(run.run_id)
        time.sleep(poll_seconds)
