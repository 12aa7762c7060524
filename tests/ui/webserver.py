"""A Dagster webserver (or `dagster dev`) in a subprocess, and its GraphQL API: what the UI tests and the
UI-vs-CLI benchmark share."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

RUN_STATUS = "query Status($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")
# the project's instance settings plus this: runs launched from the UI start at once, without the daemon
DEFAULT_RUN_COORDINATOR = "run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(base: str, query: str, variables: dict, timeout: float = 120) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())["data"]


def wait_for(condition: Callable[[], object], timeout: float, what: str, poll: float = 2.0):
    """The first truthy value of `condition()`, polled until `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out waiting for {what}")


def run_status(base: str, run_id: str) -> str:
    return graphql(base, RUN_STATUS, {"id": run_id})["runOrError"]["status"]


def wait_for_run(base: str, run_id: str, timeout: float, poll: float = 0.5) -> str:
    """The run's final status."""
    return wait_for(lambda: (status := run_status(base, run_id)) in FINISHED and status, timeout, run_id, poll)


@contextmanager
def served(
    command: list[str], env: dict[str, str], *, timeout: float = 240, output: IO | None = None, cwd: Path | None = None
) -> Iterator[str]:
    """Start `command` (`dagster-webserver ...` or `dagster dev ...`, without `-p`) on a free port in its own
    process group; yield its base URL once it answers; stop the whole group afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [*command, "-h", "127.0.0.1", "-p", str(port)],
        env=env,
        cwd=cwd,
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if server.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/server_info", timeout=5):
                return True
        except OSError:
            return False

    try:
        wait_for(up, timeout, command[0], poll=1)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
