"""The benchmark's honesty checks on a few hundred demo customers: the floor (DuckDB SQL) and the pandas
script compute the same RFM scores and value tiers, the comparison against the pipeline's marts counts
real disagreements, and the timing arithmetic (wall-time attribution, slopes) is right."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from benchmarks import pandas_rfm, report
from benchmarks.agreement import compare_with_pipeline
from benchmarks.datasets import NIGHTLY_LATE_DAYS, Dataset, nightly_files
from benchmarks.floor import SEEDS_DIR, run_floor
from benchmarks.load_floor import load_inputs
from benchmarks.stages import attribute_wall_time, classify_step
from clientele_demo import generate_demo_exports

AS_OF = date(2025, 6, 30)
CUSTOMERS = 400
NUMBERS = ["recency_days", "frequency", "monetary_cents", "r_score", "f_score", "m_score"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("bench_exports")
    manifest = generate_demo_exports(path, CUSTOMERS, seed=7, profile="generic", end_date=AS_OF)
    return path, manifest


@pytest.fixture(scope="module")
def results(exports, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    inbox, _ = exports
    out = tmp_path_factory.mktemp("bench_results")
    orders, customers = str(inbox / "generic_orders*.csv"), str(inbox / "generic_customers*.csv")
    run_floor(orders=orders, customers=customers, as_of=AS_OF, out=out / "floor.parquet")
    seeds = ["--fx-rates", str(SEEDS_DIR / "fx_rates.csv"), "--countries", str(SEEDS_DIR / "countries.csv")]
    pandas_out = ["--as-of", AS_OF.isoformat(), "--out", str(out / "pandas.parquet")]
    pandas_rfm.main(["--orders", orders, "--customers", customers, *seeds, *pandas_out])
    return {"floor": out / "floor.parquet", "pandas": out / "pandas.parquet"}


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    frame = frame[["anchor_customer_id", *NUMBERS, "value_tier"]].astype({c: "Int64" for c in NUMBERS})
    frame = frame.astype({"anchor_customer_id": str, "value_tier": str})
    return frame.sort_values("anchor_customer_id").reset_index(drop=True)


def _merged_customers(manifest) -> int:
    """Simulated customers once every second record (webshop twin, later-linked record) joined its customer."""
    return manifest.customers - manifest.identity_duplicates["linked_later"]


def test_floor_and_pandas_agree_row_for_row(exports, results):
    floor, pandas = _read(results["floor"]), _read(results["pandas"])
    assert len(floor) == _merged_customers(exports[1])
    pd.testing.assert_frame_equal(floor.reset_index(drop=True), pandas.reset_index(drop=True))


def test_every_webshop_duplicate_merges_into_its_customer(exports, results):
    _, manifest = exports
    floor = _read(results["floor"])
    assert manifest.identity_duplicates["records"] > 0 and manifest.identity_duplicates["linked_later"] > 0
    # One row per simulated customer: each webshop record joined the customer it duplicates, and each record
    # linked by a later version (as of the end, every link is made) the record whose e-mail or phone it gained.
    assert len(floor) == _merged_customers(manifest)
    assert not floor["anchor_customer_id"].str.startswith("WEB-").any()


def test_scores_are_quintiles_and_tiers_follow_revenue_share(results):
    floor = _read(results["floor"])
    purchasers = floor.dropna(subset=["frequency"])
    for score in ("r_score", "f_score", "m_score"):
        assert set(purchasers[score].astype(int)) <= {1, 2, 3, 4, 5}
        assert purchasers[score].astype(int).max() == 5
    by_money = purchasers.sort_values("monetary_cents")
    assert by_money["m_score"].is_monotonic_increasing  # more revenue never scores lower; ties share a score
    by_recency = purchasers.sort_values("recency_days")
    assert by_recency["r_score"].is_monotonic_decreasing  # the most recent buyers score highest
    assert set(floor.loc[floor["frequency"].isna(), "value_tier"]) <= {"none"}
    assert {"A", "B", "C"} <= set(floor["value_tier"])


def _fake_pipeline(result: Path, database: Path) -> None:
    """A working database whose marts hold exactly `result`, keyed like the pipeline."""
    with duckdb.connect(str(database)) as conn:
        conn.execute("CREATE SCHEMA marts")
        conn.execute(
            """
            CREATE TABLE marts.customer_segments AS
            SELECT md5('generic:' || anchor_customer_id) AS customer_key, value_tier FROM read_parquet(?)
            """,
            [str(result)],
        )
        conn.execute(
            """
            CREATE TABLE marts.customer_rfm AS
            SELECT md5('generic:' || anchor_customer_id) AS customer_key, recency_days, frequency,
                   CAST(monetary_cents / 100 AS DECIMAL(18, 2)) AS monetary, r_score, f_score, m_score
            FROM read_parquet(?) WHERE frequency IS NOT NULL
            """,
            [str(result)],
        )


def test_comparison_with_the_pipeline_counts_each_disagreement(exports, results, tmp_path):
    database = tmp_path / "clientele.duckdb"
    _fake_pipeline(results["floor"], database)
    agreement = compare_with_pipeline(results["pandas"], database)
    assert agreement.agrees, agreement.describe()
    assert agreement.customers_in_result == agreement.customers_in_pipeline == _merged_customers(exports[1])

    with duckdb.connect(str(database)) as conn:
        changed = conn.execute("SELECT customer_key FROM marts.customer_rfm ORDER BY customer_key LIMIT 1").fetchone()
        conn.execute("UPDATE marts.customer_rfm SET r_score = r_score % 5 + 1 WHERE customer_key = ?", changed)
        dropped = conn.execute("SELECT customer_key FROM marts.customer_segments ORDER BY customer_key DESC LIMIT 1")
        conn.execute("DELETE FROM marts.customer_segments WHERE customer_key = ?", dropped.fetchone())
    agreement = compare_with_pipeline(results["pandas"], database)
    assert not agreement.agrees
    assert agreement.only_in_result == 1
    assert agreement.only_in_pipeline == 0
    assert agreement.mismatches["r_score"] == 1
    assert agreement.mismatches["frequency"] == 0
    assert agreement.examples


def test_pandas_ranks_equal_revenues_by_the_pipelines_customer_key():
    keys = {anchor: hashlib.md5(f"generic:{anchor}".encode()).hexdigest() for anchor in ("CUS-1", "CUS-2")}
    first, second = sorted(keys, key=keys.get)
    orders = pd.DataFrame(
        {
            "order_id": ["o1", "o2", "o3"],
            "customer_id": ["CUS-1", "CUS-2", "CUS-3"],
            "order_date": pd.to_datetime(["2025-06-01"] * 3),
            "amount": [50.0, 50.0, 10.0],
            "currency": ["USD"] * 3,
            "status": ["completed"] * 3,
            "updated_at": pd.to_datetime(["2025-06-01"] * 3),
            "file": ["orders.csv"] * 3,
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": ["CUS-1", "CUS-2", "CUS-3"],
            "email": [None, None, None],
            "phone": [None, None, None],
            "country": ["US"] * 3,
            "updated_at": pd.to_datetime(["2025-01-01"] * 3),
            "file": ["customers.csv"] * 3,
        }
    ).astype({"email": "string", "phone": "string"})
    fx = pd.DataFrame({"currency": ["USD"], "rate_to_usd": [1.0]})
    countries = pd.DataFrame({"country_alias": ["US"], "calling_code": ["1"]})
    # Total 110, A share 40% = 44: the first of the tied customers has 0 above it (A), the second 50 (B).
    result = pandas_rfm.compute_rfm(orders, customers, fx, countries, as_of=AS_OF, tier_a_share=0.4)
    tiers = dict(zip(result["anchor_customer_id"], result["value_tier"], strict=True))
    assert tiers[first] == "A"
    assert tiers[second] == "B"
    assert tiers["CUS-3"] == "C"


def test_a_night_brings_one_percent_new_orders_and_changed_late_and_moved_records(exports):
    inbox, manifest = exports
    dataset = Dataset("test", CUSTOMERS, inbox)
    day = date(2025, 7, 1)
    orders_file, customers_file = nightly_files(dataset, day)
    night = pd.read_csv(orders_file, dtype=str)
    existing = pd.read_csv(inbox / "generic_orders.csv", dtype=str).set_index("order_id")
    new = night[night["order_id"].str.startswith("N")]
    late = night[night["order_id"].str.startswith("L")]
    changed = night[night["order_id"].isin(existing.index)]
    assert len(new) == existing.index.str.endswith("00").sum()
    assert 0.005 < len(new) / manifest.records["orders"] < 0.02
    assert set(new["order_date"]) == {day.isoformat()}
    assert set(late["order_date"]) == {(day - timedelta(days=NIGHTLY_LATE_DAYS)).isoformat()}
    assert set(night["customer_id"]) <= set(existing["customer_id"])
    before = existing.loc[changed["order_id"]]
    refunded = changed["status"].to_numpy() == "refunded"
    moved = changed["customer_id"].to_numpy() != before["customer_id"].to_numpy()
    assert refunded.any() and moved.any()
    assert (refunded | moved).all(), "every re-exported order changes something"
    customers = pd.read_csv(customers_file, dtype=str)
    known = set(pd.read_csv(inbox / "generic_customers.csv", dtype=str)["customer_id"])
    assert customers["customer_id"].isin(known).sum() > 0
    assert (~customers["customer_id"].isin(known)).sum() > 0
    assert set(night["updated_at"]) == set(customers["updated_at"]) == {f"{day.isoformat()} 12:00:00"}


def test_wall_time_is_shared_between_overlapping_nodes():
    shares = attribute_wall_time({"a": (0.0, 4.0), "b": (2.0, 6.0), "c": (7.0, 8.0)})
    assert shares == pytest.approx({"a": 3.0, "b": 3.0, "c": 1.0})


def test_steps_are_classified_by_what_they_materialize():
    assert classify_step("raw_orders", {"raw_orders"}, 0) == "ingest"
    assert classify_step("clientele_dbt_models", {"marts/customer_rfm"}, 400) == "dbt"
    assert classify_step("published_marts", {"published_marts"}, 0) == "publish"
    assert classify_step("quality_checks", set(), 12) == "checks"


def test_marginal_cost_is_the_slope_and_fixed_overhead_the_intercept():
    def size(orders: int, seconds: float) -> dict:
        return {"orders": orders, **{c: {"ok": True, "wall_seconds": seconds} for c in ("pipeline", "floor", "pandas")}}

    derived = report.derive(
        {"small": size(100_000, 10.0), "medium": size(1_000_000, 19.0), "large": size(10_000_000, 109.0)}
    )
    assert derived["pipeline"]["marginal_seconds_per_million_orders"] == pytest.approx(10.0)
    assert derived["pipeline"]["marginal_by_interval"] == pytest.approx([10.0, 10.0])
    assert derived["pipeline"]["fixed_overhead_seconds"] == pytest.approx(9.0)
    assert derived["pipeline_marginal_vs_floor"] == pytest.approx(1.0)


def test_load_floor_copies_every_csv_and_jsonl_row_and_skips_the_rest(exports, tmp_path: Path):
    inbox, _ = exports
    counts = load_inputs(inbox, tmp_path / "load.duckdb")
    expected = {}
    for path in inbox.iterdir():
        if path.suffix in (".csv", ".jsonl") and not path.name.startswith(("_", ".")):
            reader = pd.read_json(path, lines=True) if path.suffix == ".jsonl" else pd.read_csv(path, dtype=str)
            expected[path.stem] = len(reader)
    assert counts == expected
    assert "generic_order_lines" in counts and "generic_interactions" in counts


def test_a_night_that_failed_its_gates_is_reported_failed_and_not_as_a_share():
    failed, full = {"ok": False, "wall_seconds": 205.0, "peak_rss_bytes": 1}, {"ok": True, "wall_seconds": 537.5}
    night = {"pipeline": failed, "share_of_full_build": 0.38}
    sizes = {"large": {"pipeline": full | {"peak_rss_bytes": 1}, "nightly": night}}
    derived = {"pipeline": {"fixed_overhead_seconds": None}}
    (share,) = [target for target in report.targets(sizes, derived) if target["target"].startswith("1% nightly")]
    assert share["measured"] is None and share["met"] is None
