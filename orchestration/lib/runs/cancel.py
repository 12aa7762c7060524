"""Terminate in the UI (or a backfill cancel) reaches a run executing in the CLI's process.

Dagster's own cancellation thread also interrupts on FAILURE; this watcher interrupts only when the run is
being canceled, and stops watching before the run returns.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

STOPPING = (dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.CANCELED)


@contextmanager
def interrupt_when_canceled(instance: dg.DagsterInstance, run_id: str, poll_seconds: float = 2.0) -> Iterator[None]:
    done = threading.Event()

    def watch() -> None:
        while not done.wait(poll_seconds):
            run = instance.get_run_by_id(run_id)
            if run is None or (run.is_finished and run.status not in STOPPING):
                return
            if run.status in STOPPING and not done.is_set():
                os.kill(os.getpid(), signal.SIGINT)  # Dagster turns it into an interrupt of the running step
                return

    thread = threading.Thread(target=watch, name=f"cancel-watch-{run_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=poll_seconds + 5)
