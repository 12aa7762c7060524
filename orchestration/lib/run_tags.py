"""Run tags Clientele reads: the as-of date every model is computed for."""

from __future__ import annotations

from datetime import date

import dagster as dg

from orchestration.lib.settings import parse_as_of

AS_OF_TAG = "clientele/as_of_date"


def as_of_for(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> date:
    """The run's as-of date (tag `clientele/as_of_date`); runs without it are computed as of today."""
    return parse_as_of(context.run.tags.get(AS_OF_TAG))
