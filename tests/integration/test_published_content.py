"""What BI users get, from a real pipeline run over exports that put e-mails and phone numbers where they do
not belong (as CRM ids, lead names, owners): no e-mail and no input phone number anywhere in the published
text, ordinary ids untouched, every table readable by a DuckDB 1.x client with its comments, the data
dictionary, and the dbt docs site beside the marts. A later run as of an earlier date publishes nothing."""

import hashlib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from clientele_demo import generate_demo_exports
from orchestration.lib.pipeline import PipelineOutcome, run_pipeline
from orchestration.lib.settings import WarehousePaths, setting
from tests.conftest import write_csv

AS_OF = date(2026, 6, 30)
# broader than the masking rule on purpose: anything that looks like local@domain.tld
EMAIL_ANYWHERE = r"[^\s@]+@[^\s@]+\.[^\s@]+"
CUSTOMER_HEADER = [
    "customer_id",
    "customer_name",
    "customer_type",
    "email",
    "phone",
    "country",
    "province",
    "city",
    "industry",
    "owner",
    "lead_source",
    "created_at",
    "updated_at",
]
# the identifiers land in customer_id, customer_name and owner; the last row is quarantined (bad timestamp)
HAND_WRITTEN_CUSTOMERS = [
    ["alice.wong@example.com", "alice.wong@example.com", "person", "Alice.Wong@example.com", "+1 415 555 0101",
     "US", "CA", "San Francisco", "Retail", "+86 138 0013 8000", "web", "2025-01-05 10:00:00", "2025-01-05 10:00:00"],
    ["13912345678", "Lead 13912345678", "person", "", "13912345678",
     "CN", "Guangdong", "Shenzhen", "Retail", "Sales: lei.li@example.cn", "web", "2025-02-01 09:00:00", ""],
    ["20260304001", "Acme Ltd", "company", "acme@acme.example", "(415) 555-0123",
     "US", "NY", "New York", "Manufacturing", "Rep 7", "fair", "2025-03-01 09:00:00", ""],
    ["4876876000000123456", "Beta GmbH", "company", "", "415-555-0188",
     "DE", "Berlin", "Berlin", "Software", "Tom", "referral", "2025-03-02 09:00:00", ""],
    ["WEB-LEAD-1", "carol@example.org", "person", "carol@example.org", "",
     "CN", "Guangdong", "Guangzhou", "", "020-87654321", "web", "2025-04-01 09:00:00", ""],
    ["WEB-LEAD-2", "dave@example.net", "person", "dave@example.net", "+44 20 7946 0958",
     "GB", "", "London", "", "Rep 8", "web", "2025-13-45 09:00:00", ""],
]  # fmt: skip
# owners and a quarantined row's phone; the loaded rows' phones are read from raw.customers
HAND_WRITTEN_PHONES = ["+86 138 0013 8000", "020-87654321", "+44 20 7946 0958"]
ORDER_HEADER = ["order_id", "customer_id", "order_date", "amount", "currency", "status", "channel", "updated_at"]
ORDERS = [["WEB-9001", "alice.wong@example.com", "2026-05-01", "120.00", "USD", "completed", "web", ""]]
DUCKDB_1X = "duckdb==1.1.*"  # the DuckDB line most BI drivers (duckdb-engine, JDBC, ODBC) shipped with
READER_1X = """
import json, sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
tables = conn.execute(
    "select schema_name, table_name from duckdb_tables() where database_name = current_database() order by all"
).fetchall()
rows = {f"{s}.{t}": len(conn.execute(f'select * from "{s}"."{t}"').fetchall()) for s, t in tables}
comments = conn.execute(
    "select schema_name || '.' || table_name || '.' || column_name, comment from duckdb_columns() "
    "where database_name = current_database() and schema_name in ('marts', 'audit') order by all"
).fetchall()
print(json.dumps({"version": duckdb.__version__, "rows": rows, "comments": dict(comments)}))
"""


@dataclass
class Published:
    paths: WarehousePaths
    outcome: PipelineOutcome
    input_phones: list[str]
    earlier: PipelineOutcome  # a later run as of an earlier date
    hashes_around_earlier: tuple[str, str]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    root = tmp_path_factory.mktemp("published")
    inbox, warehouse = root / "inbox", root / "warehouse"
    generate_demo_exports(inbox, 200, seed=11, profile="generic", end_date=AS_OF)
    write_csv(inbox / "crm_leads_customers.csv", CUSTOMER_HEADER, HAND_WRITTEN_CUSTOMERS)
    write_csv(inbox / "crm_leads_orders.csv", ORDER_HEADER, ORDERS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        (root / "dagster_home").mkdir()
        outcome = run_pipeline(inbox=inbox, warehouse=warehouse, as_of=AS_OF, echo=lambda _: None)
        paths = WarehousePaths(warehouse)
        before = hashlib.sha256(paths.published_db.read_bytes()).hexdigest()
        earlier_as_of = AS_OF - timedelta(days=30)
        earlier = run_pipeline(inbox=inbox, warehouse=warehouse, as_of=earlier_as_of, echo=lambda _: None)
        after = hashlib.sha256(paths.published_db.read_bytes()).hexdigest()
    with duckdb.connect(str(paths.working_db), read_only=True) as conn:
        query = "select distinct phone from raw.customers where phone <> ''"
        raw_phones = [p for (p,) in conn.execute(query).fetchall()]
    return Published(paths, outcome, sorted({*raw_phones, *HAND_WRITTEN_PHONES}), earlier, (before, after))


def _text_values(paths: WarehousePaths) -> duckdb.DuckDBPyRelation:
    """Every value of every VARCHAR column of every table in the published file, as (place, value)."""
    conn = duckdb.connect(str(paths.published_db), read_only=True)
    columns = conn.execute(
        "select schema_name, table_name, column_name from duckdb_columns() "
        "where database_name = current_database() and data_type = 'VARCHAR'"
    ).fetchall()
    union = " union all ".join(
        f'select \'{s}.{t}.{c}\' as place, "{c}" as value from "{s}"."{t}" where "{c}" is not null'
        for s, t, c in columns
    )
    conn.execute(f"create temp table published_text as {union}")
    return conn


@pytest.mark.slow
def test_the_run_publishes(published: Published):
    assert published.outcome.success and published.outcome.published, published.outcome.summary()


@pytest.mark.slow
def test_a_run_as_of_an_earlier_date_materializes_nothing_and_keeps_the_publication(published: Published):
    assert published.earlier.success and not published.earlier.published, published.earlier.summary()
    before, after = published.hashes_around_earlier
    assert after == before
    with duckdb.connect(str(published.paths.published_db), read_only=True) as conn:
        log = conn.execute("select run_id, as_of_date from marts._publish_log").fetchall()
    assert log == [(published.outcome.run_id, AS_OF)]


@pytest.mark.slow
def test_no_email_and_no_input_phone_number_is_published_in_any_text_column(published: Published):
    conn = _text_values(published.paths)
    places = {p for (p,) in conn.execute("select distinct place from published_text").fetchall()}
    assert {"marts.customers.customer_name", "marts.customers.owner", "audit.quarantine.raw_record"} <= places
    assert conn.execute("select count(*) from audit.quarantine where raw_record like '%WEB-LEAD-2%'").fetchall() == [
        (1,)
    ]
    emails = conn.execute(
        "select place, value from published_text where regexp_matches(value, ?) limit 5", [EMAIL_ANYWHERE]
    ).fetchall()
    assert emails == []
    conn.execute("create temp table input_phones (phone varchar)")
    conn.executemany("insert into input_phones values (?)", [[p] for p in published.input_phones])
    assert conn.execute("select count(*) from input_phones").fetchall()[0][0] >= 150
    leaked = conn.execute(
        """
        with phones as (
            select phone, regexp_replace(phone, '[^0-9]', '', 'g') as digits from input_phones
        )
        select place, value, phone from published_text join phones
            on contains(value, phone) or contains(value, digits) or contains(value, right(digits, 10))
        limit 5
        """
    ).fetchall()
    assert leaked == []
    conn.close()


@pytest.mark.slow
def test_ordinary_ids_are_published_as_they_are_and_hashed_ids_still_join(published: Published):
    with duckdb.connect(str(published.paths.published_db), read_only=True) as conn:
        ids = {i for (i,) in conn.execute("select customer_id from marts.customer_identity_map").fetchall()}
        assert {"20260304001", "4876876000000123456", "WEB-LEAD-1", "CUS-00000001"} <= ids
        assert "13912345678" not in ids and "alice.wong@example.com" not in ids
        # the id that was an e-mail is the hash the customer's e-mail column got: the two still match
        joined = conn.execute(
            "select count(*) from marts.customer_identity_map m join marts.customers c "
            "on m.customer_id = c.email and m.customer_key = c.customer_key"
        ).fetchall()[0][0]
        assert joined == 1  # alice, whose CRM id is her e-mail
        names = {n for (n,) in conn.execute("select customer_name from marts.customers").fetchall()}
    assert "Acme Ltd" in names and "Beta GmbH" in names and not any(n and "@" in n for n in names)


@pytest.mark.slow
def test_every_published_column_is_described_and_in_the_data_dictionary(published: Published):
    with duckdb.connect(str(published.paths.published_db), read_only=True) as conn:
        described, total = conn.execute(
            "select count(*) filter (where coalesce(comment, '') <> ''), count(*) from duckdb_columns() "
            "where database_name = current_database()"
        ).fetchall()[0]
        dictionary = conn.execute(
            "select count(*), count(description), count(*) filter (where unit = ?) from marts._data_dictionary",
            [setting("reporting_currency")],
        ).fetchall()[0]
        tables_without_comment = conn.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and coalesce(comment, '') = ''"
        ).fetchall()
    assert described / total >= 0.95, f"{described} of {total} columns described"
    assert dictionary[0] == total and dictionary[1] == described and dictionary[2] >= 10
    assert tables_without_comment == []


@pytest.mark.slow
def test_the_dbt_docs_site_is_published_beside_the_marts(published: Published):
    page = published.paths.published_dir / "docs" / "index.html"
    text = page.read_text(encoding="utf-8")
    assert "customer_segments" in text and "trailing_12m_net_revenue" in text and "catalog" in text


def _duckdb_1x_python(cache: Path) -> Path:
    """A throwaway virtualenv with DuckDB 1.x from PyPI, made once with the project's uv and cached."""
    venv = cache / "duckdb-1x"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        uv = Path(sys.executable).with_name("uv")
        subprocess.run([str(uv), "venv", "--quiet", "--clear", "--python", sys.executable, str(venv)], check=True)
        subprocess.run([str(uv), "pip", "install", "--quiet", "--python", str(python), DUCKDB_1X], check=True)
        (venv / ".installed").touch()
    return python


@pytest.mark.slow
def test_a_duckdb_1x_client_reads_every_table_and_every_comment(
    published: Published, tmp_path_factory: pytest.TempPathFactory
):
    # kept beside pytest's numbered temporary directories, so later sessions reuse it
    python = _duckdb_1x_python(tmp_path_factory.getbasetemp().parent)
    result = subprocess.run(
        [str(python), "-c", READER_1X, str(published.paths.published_db)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert re.match(r"1\.\d+\.", seen["version"])
    with duckdb.connect(str(published.paths.published_db), read_only=True) as conn:
        tables = conn.execute(
            "select schema_name || '.' || table_name, estimated_size from duckdb_tables() "
            "where database_name = current_database()"
        ).fetchall()
        comments = dict(
            conn.execute(
                "select schema_name || '.' || table_name || '.' || column_name, comment from duckdb_columns() "
                "where database_name = current_database() and schema_name in ('marts', 'audit')"
            ).fetchall()
        )
        rows = {name: conn.execute(f"select count(*) from {name}").fetchall()[0][0] for name, _ in tables}
    assert seen["rows"] == rows and seen["comments"] == comments
    assert {"marts.customers", "marts._data_dictionary", "audit.quarantine", "audit.ingest_ledger"} <= set(rows)
