"""One writer at a time on the working DuckDB file, whichever process or run asks."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class WriterLockTimeout(TimeoutError):
    pass


@contextmanager
def exclusive_writer(
    lock_path: Path,
    *,
    holder: str,
    timeout_seconds: float = 3600,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold an advisory lock (flock) on `lock_path`; the file records who holds it, for waiting messages."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_seconds
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not announced and on_wait is not None:
                    current = os.pread(fd, 512, 0).decode(errors="replace").strip() or "another process"
                    on_wait(f"waiting for the warehouse writer lock held by {current}")
                    announced = True
                if time.monotonic() > deadline:
                    raise WriterLockTimeout(
                        f"could not get the writer lock {lock_path} in {timeout_seconds}s"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{holder} (pid {os.getpid()})".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
