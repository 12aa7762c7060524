"""Dagster's consolidated SQLite event log with one connection pool per process.

The stock class builds a new SQLAlchemy engine (NullPool) for every connection, and a run stores about 1,300
events (every dbt test is an asset check): engine creation alone was ~4 s of CPU per benchmark run, on a machine
whose two cores the dbt subprocess needs at the same time. Configured in `orchestration/instance/dagster.yaml`.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from dagster._core.storage.event_log import ConsolidatedSqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS


class PooledSqliteEventLogStorage(ConsolidatedSqliteEventLogStorage):
    """Same database file and schema as `ConsolidatedSqliteEventLogStorage`; connections come from a pool that
    is created once per process (a forked child builds its own)."""

    _pool_lock = threading.Lock()

    def _engine(self) -> sa.Engine:
        pid = os.getpid()
        cached = getattr(self, "_pooled_engine", None)
        if cached is not None and cached[0] == pid:
            return cached[1]
        with self._pool_lock:
            cached = getattr(self, "_pooled_engine", None)
            if cached is None or cached[0] != pid:
                engine = sa.create_engine(
                    self._conn_string,
                    pool_size=2,
                    max_overflow=8,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
                )
                cached = (pid, engine)
                self._pooled_engine = cached
        return cached[1]

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        with self._engine().connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        cached = getattr(self, "_pooled_engine", None)
        if cached is not None and cached[0] == os.getpid():
            cached[1].dispose()
        self._pooled_engine = None
        super().dispose()
