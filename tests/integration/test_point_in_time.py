"""Point in time: the marts as of D1 computed from exports with history through D2 equal, row for row, the marts
computed from the exports the CRM would have produced on D1.

The D1 exports are cut from the D2 ones by the CRM's own rules, independently of the models: rows created,
dated or versioned after D1 are removed; a ticket resolved after D1 is open. Beside the demo history, the D2
exports carry each case the point-in-time rules must handle: a customer created after D1, an attribute changed
after D1, a refund and an amount correction after D1, a merge of two customers caused by a record that only
exists after D1, and a ticket resolved after D1.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.pipeline import PipelineOutcome, run_pipeline
from orchestration.lib.settings import WarehousePaths
from tests.conftest import write_csv

D2 = date(2026, 6, 30)
D1 = date(2026, 3, 31)
D1_END = datetime.combine(D1 + timedelta(days=1), datetime.min.time())
SALT = "point-in-time"
CUSTOMER_HEADER = [
    "customer_id", "customer_name", "customer_type", "email", "phone", "country", "province", "city", "industry",
    "owner", "lead_source", "created_at", "updated_at",
]  # fmt: skip
ORDER_HEADER = ["order_id", "customer_id", "order_date", "amount", "currency", "status", "channel", "updated_at"]
TICKET_HEADER = ["ticket_id", "customer_id", "opened_at", "resolved_at", "status", "priority", "category"]
# columns that say when or by which run a table was written, not what it holds
RUN_COLUMNS = {"fitted_at"}
NOT_COMPARED = {"_publish_log", "_data_dictionary"}


def _planted(inbox: Path) -> None:
    """The cases, as extra exports of the D2 inbox (ids that the demo generator does not use)."""

    def customer(cid, name, email, phone, owner, created, updated):
        return [cid, name, "person", email, phone, "CN", "Zhejiang", "Hangzhou", "", owner, "web", created, updated]

    write_csv(
        inbox / "pit_customers.csv",
        CUSTOMER_HEADER,
        [
            customer("PIT-A", "Ann", "ann@pit.example", "", "Li Na", "2025-01-05 09:00:00", "2025-01-05 09:00:00"),
            customer("PIT-B", "Bo", "", "+86 139 0000 1111", "Li Na", "2025-02-01 09:00:00", "2025-02-01 09:00:00"),
            customer("PIT-C", "Cy", "", "", "Wang Wei", "2025-03-01 09:00:00", "2025-03-01 09:00:00"),
        ],
    )
    write_csv(
        inbox / "pit_customers_changes.csv",
        CUSTOMER_HEADER,
        [
            # an owner change after D1
            customer("PIT-C", "Cy", "", "", "Zhao Lei", "2025-03-01 09:00:00", "2026-05-02 10:00:00"),
            # a later record sharing A's e-mail and B's phone: A and B merge only from its creation on
            customer(
                "PIT-D",
                "Ann B",
                "ann@pit.example",
                "+86 139 0000 1111",
                "Li Na",
                "2026-04-20 09:00:00",
                "2026-04-20 09:00:00",
            ),
            # a customer created after D1
            customer("PIT-E", "Eve", "", "", "Li Na", "2026-05-15 09:00:00", "2026-05-15 09:00:00"),
        ],
    )
    write_csv(
        inbox / "pit_orders.csv",
        ORDER_HEADER,
        [
            ["PIT-O1", "PIT-A", "2025-06-01", "300.00", "USD", "completed", "web", "2025-06-01 12:00:00"],
            ["PIT-O2", "PIT-B", "2025-07-01", "200.00", "USD", "completed", "web", "2025-07-01 12:00:00"],
            ["PIT-O3", "PIT-C", "2026-01-10", "150.00", "USD", "completed", "web", "2026-01-10 12:00:00"],
            ["PIT-O4", "PIT-E", "2026-05-20", "90.00", "USD", "completed", "web", "2026-05-20 12:00:00"],
        ],
    )
    write_csv(
        inbox / "pit_orders_changes.csv",
        ORDER_HEADER,
        [
            # refunded after D1
            ["PIT-O1", "PIT-A", "2025-06-01", "300.00", "USD", "refunded", "web", "2026-04-10 12:00:00"],
            # amount corrected after D1
            ["PIT-O2", "PIT-B", "2025-07-01", "250.00", "USD", "completed", "web", "2026-05-05 12:00:00"],
        ],
    )
    write_csv(
        inbox / "pit_tickets.csv",
        TICKET_HEADER,
        [
            # opened before D1, resolved after it: open as of D1
            ["PIT-T1", "PIT-C", "2026-03-20 08:00:00", "2026-04-03 17:00:00", "resolved", "high", "Billing"],
            ["PIT-T2", "PIT-A", "2026-02-01 08:00:00", "2026-02-02 17:00:00", "resolved", "low", "Billing"],
        ],
    )


def _records(path: Path) -> tuple[list[str], list[dict]]:
    """The rows of a generic-profile export, whatever its format, as canonical text."""
    with duckdb.connect() as conn:
        if path.suffix == ".xlsx":
            from python_calamine import CalamineWorkbook

            rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
            header = [str(h) for h in rows[0]]
            return header, [
                dict(zip(header, ("" if v is None else str(v) for v in row), strict=False)) for row in rows[1:]
            ]
        reader = "read_json_auto" if path.suffix == ".jsonl" else "read_csv"
        options = ", all_varchar = true" if reader == "read_csv" else ""
        relation = conn.sql(f"select * from {reader}('{path}'{options})")
        header = relation.columns
        return header, [
            dict(zip(header, ("" if v is None else str(v) for v in row), strict=True)) for row in relation.fetchall()
        ]


def _before(value: str, end: datetime) -> bool:
    return not value or datetime.fromisoformat(value.replace("T", " ")[:19]) < end


def _cut(d2_inbox: Path, d1_inbox: Path) -> None:
    """What the CRM would have exported on D1: rows created, dated or versioned after D1 removed; tickets resolved
    after D1 open."""
    known_orders: set[str] = set()
    for path in sorted(d2_inbox.iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        header, rows = _records(path)
        name = path.stem
        if "customers" in name:
            rows = [r for r in rows if _before(r["created_at"], D1_END) and _before(r["updated_at"], D1_END)]
        elif "order_lines" in name:
            continue  # after the orders, below
        elif "orders" in name:
            rows = [
                r for r in rows if date.fromisoformat(r["order_date"][:10]) <= D1 and _before(r["updated_at"], D1_END)
            ]
            known_orders |= {r["order_id"] for r in rows}
        elif "interactions" in name:
            rows = [r for r in rows if _before(r["occurred_at"], D1_END)]
        elif "tickets" in name:
            rows = [r for r in rows if _before(r["opened_at"], D1_END)]
            for row in rows:
                if not _before(row["resolved_at"], D1_END):
                    row["resolved_at"], row["status"] = "", "open"
        elif "surveys" in name:
            rows = [r for r in rows if _before(r["responded_at"], D1_END)]
        _write(d1_inbox / f"{name}.csv", header, rows)
    for path in sorted(d2_inbox.glob("*order_lines*")):
        header, rows = _records(path)
        _write(d1_inbox / f"{path.stem}.csv", header, [r for r in rows if r["order_id"] in known_orders])


def _write(path: Path, header: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([[row.get(column, "") for column in header] for row in rows])


@dataclass
class Runs:
    full_history: PipelineOutcome
    cut: PipelineOutcome


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    from clientele_demo import generate_demo_exports

    root = tmp_path_factory.mktemp("point_in_time")
    d2_inbox, d1_inbox = root / "d2_inbox", root / "d1_inbox"
    generate_demo_exports(d2_inbox, 300, seed=21, profile="generic", end_date=D2)
    _planted(d2_inbox)
    _cut(d2_inbox, d1_inbox)
    outcomes = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLIENTELE_PII_SALT", SALT)  # one salt, so hashed identifiers compare
        for name, inbox in (("full_history", d2_inbox), ("cut", d1_inbox)):
            patch.setenv("DAGSTER_HOME", str(root / name / "dagster_home"))
            os.makedirs(root / name / "dagster_home")
            outcomes.append(
                run_pipeline(inbox=inbox, warehouse=root / name / "warehouse", as_of=D1, echo=lambda _: None)
            )
    return Runs(*outcomes)


def _marts(database: Path) -> dict[str, list[str]]:
    with duckdb.connect(str(database), read_only=True) as conn:
        rows = conn.execute(
            "select table_name, list(column_name order by column_index) from duckdb_columns() "
            "where schema_name = 'marts' group by 1"
        ).fetchall()
    return {table: [c for c in columns if c not in RUN_COLUMNS] for table, columns in rows if table not in NOT_COMPARED}


@pytest.mark.slow
def test_both_runs_publish(runs: Runs):
    for outcome in (runs.full_history, runs.cut):
        assert outcome.success and outcome.published, outcome.summary()


@pytest.mark.slow
def test_every_published_mart_is_identical_row_for_row(runs: Runs):
    full = WarehousePaths(runs.full_history.paths.warehouse_dir).published_db
    cut = WarehousePaths(runs.cut.paths.warehouse_dir).published_db
    marts = _marts(full)
    assert marts == _marts(cut)
    assert {"customers", "orders", "customer_segments", "customer_clv", "clv_model_fits", "churn_risk"} <= set(marts)
    with duckdb.connect() as conn:
        conn.execute(f"attach '{full}' as full_history (read_only)")
        conn.execute(f"attach '{cut}' as cut (read_only)")
        differences = {}
        for table, columns in marts.items():
            select = ", ".join(f'"{c}"' for c in columns)
            counts = [
                conn.execute(f'select count(*) from {db}.marts."{table}"').fetchall()[0][0]
                for db in ("full_history", "cut")
            ]
            only = [
                conn.execute(
                    f'select count(*) from (select {select} from {a}.marts."{table}" except all '
                    f'select {select} from {b}.marts."{table}")'
                ).fetchall()[0][0]
                for a, b in (("full_history", "cut"), ("cut", "full_history"))
            ]
            if counts[0] != counts[1] or any(only):
                differences[table] = {"rows": counts, "only_in_full_history": only[0], "only_in_cut": only[1]}
    assert differences == {}


@pytest.mark.slow
def test_the_planted_cases_are_what_was_known_on_d1(runs: Runs):
    published = WarehousePaths(runs.full_history.paths.warehouse_dir).published_db
    with duckdb.connect(str(published), read_only=True) as conn:
        identity = dict(
            conn.execute(
                "select customer_id, customer_key from marts.customer_identity_map where customer_id like 'PIT-%'"
            ).fetchall()
        )
        orders = dict(
            conn.execute(
                "select order_id, order_status || ' ' || amount_in_order_currency from marts.orders "
                "where order_id like 'PIT-%'"
            ).fetchall()
        )
        owner = conn.execute("select owner from marts.customers where customer_key = ?", [identity["PIT-C"]]).fetchall()
    assert "PIT-D" not in identity and "PIT-E" not in identity  # created after D1: not customers yet
    assert identity["PIT-A"] != identity["PIT-B"]  # the merge their later record causes is not applied
    assert orders == {"PIT-O1": "completed 300.00", "PIT-O2": "completed 200.00", "PIT-O3": "completed 150.00"}
    assert owner == [("Wang Wei",)]  # the owner before the change
    with duckdb.connect(str(runs.full_history.paths.working_db), read_only=True) as conn:
        open_at_d1 = conn.execute(
            "select open_ticket_count from intermediate.int_customers_tickets_aggregated where customer_key = ?",
            [identity["PIT-C"]],
        ).fetchall()
    assert open_at_d1 == [(1,)]
