"""Benchmark inputs: demo exports per size, generated once and cached, plus the files of one night."""

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


NIGHTLY_LATE_DAYS = 10  # late-arriving orders are dated this many days before the night


def nightly_files(dataset: Dataset, day: date) -> list[Path]:
    """A night's exports: ~1% new orders plus the changed and late-arriving records a real night brings.

    Orders file (`{PROFILE}_orders_night_<day>.csv`), keyed on the ids of the full export:
    - new: a copy of every order whose id ends in 00, placed on `day` by the same customer (~1%);
    - late: a copy of every order whose id ends in 050, dated NIGHTLY_LATE_DAYS before `day` (~0.1%);
    - refunded: every completed order whose id ends in 070, now refunded (~0.07%);
    - moved: every order whose id ends in 090, now attributed to the next order's customer (~0.1%).
    Customers file (`{PROFILE}_customers_night_<day>.csv`): every customer whose id ends in 00 with a new
    owner (~1%), and a new customer (no orders yet) for every id ending in 50 (~1%).
    All changes carry `day` 12:00 as updated_at, so the night's as-of date sees them.
    """
    folder = dataset.path / "_nightly"
    orders = folder / f"{PROFILE}_orders_night_{day.isoformat()}.csv"
    customers = folder / f"{PROFILE}_customers_night_{day.isoformat()}.csv"
    if orders.exists() and customers.exists():
        return [orders, customers]
    folder.mkdir(exist_ok=True)
    changed_at = f"{day.isoformat()} 12:00:00"
    late_day = day - timedelta(days=NIGHTLY_LATE_DAYS)
    with duckdb.connect() as conn:
        conn.execute(
            "CREATE TEMP TABLE exported AS SELECT * FROM read_csv(?, header = true, all_varchar = true)",
            [str(dataset.path / f"{PROFILE}_orders.csv")],
        )
        _copy_csv(
            conn,
            """
            SELECT 'N' || order_id AS order_id, customer_id, $day::DATE AS order_date,
                   $changed_at::TIMESTAMP AS ordered_at, amount, currency, 'completed' AS status, channel,
                   $changed_at::TIMESTAMP AS updated_at
            FROM exported WHERE order_id LIKE '%00'
            UNION ALL
            SELECT 'L' || order_id, customer_id, $late_day::DATE, $late_day::TIMESTAMP, amount, currency,
                   'completed', channel, $changed_at::TIMESTAMP
            FROM exported WHERE order_id LIKE '%050'
            UNION ALL
            SELECT order_id, customer_id, order_date::DATE, ordered_at::TIMESTAMP, amount, currency, 'refunded',
                   channel, $changed_at::TIMESTAMP
            FROM exported WHERE order_id LIKE '%070' AND status = 'completed'
            UNION ALL
            SELECT order_id, moved_to, order_date::DATE, ordered_at::TIMESTAMP, amount, currency, status, channel,
                   $changed_at::TIMESTAMP
            FROM (SELECT *, lead(customer_id) OVER (ORDER BY order_id) AS moved_to FROM exported)
            WHERE order_id LIKE '%090' AND moved_to IS NOT NULL AND moved_to != customer_id
            ORDER BY 1
            """,
            {"day": day, "late_day": late_day, "changed_at": changed_at},
            orders,
        )
        conn.execute(
            "CREATE TEMP TABLE customer_export AS SELECT * FROM read_csv(?, header = true, all_varchar = true)",
            [str(dataset.path / f"{PROFILE}_customers.csv")],
        )
        _copy_csv(
            conn,
            """
            SELECT * REPLACE ('Night Shift Owner' AS owner, $changed_at AS updated_at)
            FROM customer_export WHERE customer_id LIKE '%00'
            UNION ALL
            SELECT * REPLACE ('N' || customer_id AS customer_id, NULL AS email, NULL AS phone,
                              $changed_at AS created_at, $changed_at AS updated_at)
            FROM customer_export WHERE customer_id LIKE '%50'
            ORDER BY customer_id
            """,
            {"changed_at": changed_at},
            customers,
        )
    return [orders, customers]


def _copy_csv(conn: duckdb.DuckDBPyConnection, query: str, parameters: dict, target: Path) -> None:
    partial = target.with_suffix(".partial")
    conn.execute(f"COPY ({query}) TO '{partial}' (HEADER, DELIMITER ',', FORMAT csv)", parameters)
    os.replace(partial, target)


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
