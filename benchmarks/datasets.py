"""Benchmark inputs: demo exports per size, generated once and cached, plus a nightly file of new orders."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

import clientele_demo
from orchestration.lib.settings import PROFILES_DIR, RAW_SOURCES_YML

# ~10.1 orders per customer in the demo generator: 10k / 100k / 1M customers = ~100k / 1M / 10M orders.
SIZES = {"small": 10_000, "medium": 100_000, "large": 1_000_000}
SEED = 42
PROFILE = "generic"
END_DATE = date(2025, 6, 30)  # last day of history = the as-of date of the full build
COMPLETE_MARKER = "_complete"


@dataclass(frozen=True)
class Dataset:
    size: str
    customers: int
    path: Path

    @property
    def manifest(self) -> dict:
        return json.loads((self.path / clientele_demo.MANIFEST_NAME).read_text(encoding="utf-8"))

    @property
    def orders(self) -> int:
        return int(self.manifest["records"]["orders"])

    @property
    def rows(self) -> int:
        """Data rows in all export files (what ingest reads)."""
        return sum(int(f["rows"]) for f in self.manifest["files"])

    def files(self) -> list[Path]:
        return sorted(p for p in self.path.iterdir() if p.is_file() and not p.name.startswith(("_", ".")))

    def glob(self, entity: str) -> str:
        return str(self.path / f"{PROFILE}_{entity}*.csv")


def generator_version() -> str:
    """Changes whenever the generator or the layout it writes (profile, canonical columns) changes."""
    digest = hashlib.sha256()
    package = Path(clientele_demo.__file__).parent
    for source in (*sorted(package.glob("*.py")), PROFILES_DIR / f"{PROFILE}.yaml", RAW_SOURCES_YML):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:10]


def dataset_dir(cache_dir: Path, size: str) -> Path:
    return cache_dir / f"{size}-{SIZES[size]}c-seed{SEED}-gen{generator_version()}"


def ensure_dataset(cache_dir: Path, size: str, *, generate: bool = True, echo=print) -> Dataset:
    """The cached exports of `size`; generated (and stale versions of that size removed) when missing."""
    path = dataset_dir(cache_dir, size)
    dataset = Dataset(size, SIZES[size], path)
    if (path / COMPLETE_MARKER).exists():
        return dataset
    if not generate:
        raise FileNotFoundError(f"no cached {size} dataset at {path} (run without --skip-generate)")
    for stale in cache_dir.glob(f"{size}-*"):
        if stale.is_dir() and stale != path:
            echo(f"removing stale dataset {stale.name}")
            shutil.rmtree(stale)
    if path.exists():
        shutil.rmtree(path)
    echo(f"generating {size} dataset ({SIZES[size]:,} customers) into {path} ...")
    clientele_demo.generate_demo_exports(
        path, SIZES[size], seed=SEED, profile=PROFILE, defects=False, end_date=END_DATE, progress=echo
    )
    (path / COMPLETE_MARKER).write_text("ok\n", encoding="utf-8")
    return dataset


def nightly_orders_file(dataset: Dataset, day: date) -> Path:
    """~1% new orders placed on `day` by existing customers: copies of every order whose id ends in 00."""
    target = dataset.path / "_nightly" / f"{PROFILE}_orders_nightly_{day.isoformat()}.csv"
    if target.exists():
        return target
    target.parent.mkdir(exist_ok=True)
    partial = target.with_suffix(".partial")
    with duckdb.connect() as conn:
        conn.execute(
            f"""
            COPY (
                SELECT
                    'N' || order_id AS order_id,
                    customer_id,
                    ?::DATE AS order_date,
                    amount,
                    currency,
                    'completed' AS status,
                    channel,
                    ?::TIMESTAMP AS updated_at
                FROM read_csv(?, header = true, all_varchar = true)
                WHERE order_id LIKE '%00'
                ORDER BY order_id
            ) TO '{partial}' (HEADER, DELIMITER ',', FORMAT csv)
            """,
            [day, f"{day.isoformat()} 12:00:00", str(dataset.path / f"{PROFILE}_orders.csv")],
        )
    os.replace(partial, target)
    return target


def link_inbox(files: list[Path], inbox: Path) -> Path:
    """An inbox holding `files` as hard links (no copy; same file system as the cache)."""
    inbox.mkdir(parents=True, exist_ok=True)
    for source in files:
        destination = inbox / source.name
        if destination.exists():
            continue
        try:
            os.link(source, destination)
        except OSError:
            shutil.copy2(source, destination)
    return inbox


def nightly_day() -> date:
    return END_DATE + timedelta(days=1)
