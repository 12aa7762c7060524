"""First-class runs executed in this process.

Dagster records a run's code-location origin only when the run is launched through a workspace (the UI, the
daemon); `execute_in_process` leaves it empty, so such runs are missing from the Overview timeline and the job's
run list and are ignored by the failure sensor. Here the origin comes from the same `workspace.yaml` that
`clientele ui` serves (no code server needed), and the run is executed in this process with Dagster's own
`execute_run`. These are Dagster internals: they live in this one module, dagster is pinned to 1.13, and a test
checks that a CLI run carries the origin the UI uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository
from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from dagster._core.execution.api import execute_run
from dagster._core.remote_origin import RemoteRepositoryOrigin
from dagster._core.workspace.load_target import WorkspaceFileTarget

from orchestration.lib.runs.liveness import worker_tags
from orchestration.lib.settings import PROJECT_ROOT

WORKSPACE_FILE = PROJECT_ROOT / "workspace.yaml"  # what `clientele ui` passes to `dagster dev -w`
DEFINITIONS_MODULE = "orchestration.definitions"
DEFINITIONS_ATTRIBUTE = "defs"


@cache
def repository_origin() -> RemoteRepositoryOrigin:
    """The origin the UI and the daemon give this code location, read from workspace.yaml."""
    (location,) = WorkspaceFileTarget(paths=[str(WORKSPACE_FILE)]).create_origins()
    return RemoteRepositoryOrigin(code_location_origin=location, repository_name=SINGLETON_REPOSITORY_NAME)


def reconstructable_job(job_name: str) -> ReconstructableJob:
    repository = ReconstructableRepository.for_module(
        DEFINITIONS_MODULE, DEFINITIONS_ATTRIBUTE, working_directory=str(PROJECT_ROOT)
    )
    return repository.get_reconstructable_job(job_name)


def create_run(
    instance: dg.DagsterInstance,
    recon_job: ReconstructableJob,
    tags: Mapping[str, str],
    run_config: Mapping | None = None,
    run_id: str | None = None,
) -> dg.DagsterRun:
    """A NOT_STARTED run of the job with its code-location origin and the tags of this process."""
    job_def = recon_job.get_definition()
    return instance.create_run_for_job(
        job_def=job_def,
        run_id=run_id,
        run_config=dict(run_config or {}),
        tags={**job_def.run_tags, **tags, **worker_tags()},
        remote_job_origin=repository_origin().get_job_origin(job_def.name),
        job_code_origin=recon_job.get_python_origin(),
    )


def execute(instance: dg.DagsterInstance, recon_job: ReconstructableJob, run: dg.DagsterRun):
    """Execute a created run here (the job's executor: in-process for every Clientele job)."""
    return execute_run(recon_job, run, instance)
