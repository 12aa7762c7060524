"""What every generation step needs to know: the profile, its layout, the last day and the running counters."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clientele_demo.layouts import Layout
from orchestration.lib.schema import VendorProfile


@dataclass
class Context:
    profile: VendorProfile
    layout: Layout
    end_day: int  # days since 1970-01-01 (China time)
    end_seconds: int  # the last second of end_day; nothing is dated later
    catalogue: dict[str, np.ndarray]
    interaction_types: np.ndarray  # canonical indices this profile can express
    counters: dict[str, int]  # record numbers handed out so far, per kind
