"""Demo exports of every profile, with and without defects, generated once for the demo-data tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from clientele_demo import DemoManifest, generate_demo_exports
from tests.unit.demo_exports import CUSTOMERS, END, PROFILES


@pytest.fixture(scope="session")
def demo_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], tuple[Path, DemoManifest]]:
    generated = {}
    for profile in PROFILES:
        for defects in (False, True):
            out = tmp_path_factory.mktemp(f"{profile}_{'dirty' if defects else 'clean'}")
            generated[profile, defects] = (
                out,
                generate_demo_exports(out, CUSTOMERS, seed=7, profile=profile, defects=defects, end_date=END),
            )
    return generated
