"""How Clientele's runs are started, watched and cleaned up, whoever starts them.

- `origin`: a run made by `clientele run` is a first-class Dagster run of the code location (the origin the UI
  and the daemon give it), executed in the CLI's own process.
- `liveness`: every run records which process runs it; a run whose process died is marked failed at the next
  start, so it holds no pool and blocks no queue.
- `cancel`: Terminate in the UI reaches a run executing in the CLI's process.
- `failures`: every failed run is recorded once in `<warehouse>/run_failures.jsonl` (and posted), by the CLI or by
  the failure sensor, whichever sees it first.
"""
