"""Clientele's Dagster code location: everything under `defs/` is discovered and merged."""

import dagster as dg

import orchestration.defs
from orchestration.lib.settings import PROJECT_ROOT


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_defs(defs_root=orchestration.defs, project_root=PROJECT_ROOT)
