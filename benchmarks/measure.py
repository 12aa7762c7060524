"""Run a command and measure it: wall time and peak resident memory of its whole process tree."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.1


@dataclass
class Measurement:
    command: list[str]
    returncode: int
    wall_seconds: float
    peak_rss_bytes: int  # sum over the process tree, sampled every SAMPLE_SECONDS
    peak_single_rss_bytes: int  # largest process (kernel's maxrss of the tree, exact)
    started_at: float  # epoch seconds
    log_file: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def to_dict(self) -> dict:
        return asdict(self)


def _parent_pids() -> dict[int, int]:
    """pid -> parent pid for every process visible in /proc."""
    parents = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name (2nd field) may contain spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
    return parents


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parent_pids().items():
        children.setdefault(parent, []).append(pid)
    tree, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        tree.append(pid)
        frontier.extend(children.get(pid, []))
    return tree


def tree_rss_bytes(root: int) -> int:
    """Resident memory summed over `root`'s process tree (shared pages count once per process)."""
    total = 0
    for pid in process_tree(root):
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * PAGE_SIZE
        except (OSError, IndexError, ValueError):
            continue
    return total


def run_measured(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log_file: Path | None = None,
) -> Measurement:
    """Run `command` to completion; stdout and stderr go to `log_file` (or are discarded)."""
    output = open(log_file, "wb") if log_file else subprocess.DEVNULL  # noqa: SIM115 - closed below
    peak = 0
    started_at = time.time()
    start = time.perf_counter()
    try:
        process = subprocess.Popen(list(command), env=env, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
        done = threading.Event()
        result: dict[str, object] = {}

        def reap() -> None:
            _, status, usage = os.wait4(process.pid, 0)
            result["status"], result["usage"], result["end"] = status, usage, time.perf_counter()
            done.set()

        reaper = threading.Thread(target=reap, daemon=True)
        reaper.start()
        while not done.wait(SAMPLE_SECONDS):
            peak = max(peak, tree_rss_bytes(process.pid))
        reaper.join()
        process.returncode = os.waitstatus_to_exitcode(result["status"])
    finally:
        if log_file:
            output.close()
    return Measurement(
        command=list(command),
        returncode=process.returncode,
        wall_seconds=result["end"] - start,
        peak_rss_bytes=max(peak, result["usage"].ru_maxrss * 1024),
        peak_single_rss_bytes=result["usage"].ru_maxrss * 1024,
        started_at=started_at,
        log_file=str(log_file) if log_file else None,
    )
