"""The content masking rule of publish_masking.py, in DuckDB: what counts as an e-mail or a phone number (and
what must not), how whole values and embedded ones are published, and a 1M-row run."""

import hashlib
import time

import duckdb
import pytest

from orchestration.lib.publish_masking import install_masking, masked_column

SALT = "salt"
KNOWN_CUSTOMER_PHONES = ["415-555-0134", "+1 212 555 0000"]


def _hash(text: str) -> str:
    return hashlib.sha256((SALT + text).encode()).hexdigest()


@pytest.fixture(scope="module")
def conn() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect()
    conn.execute("create table customer_records (phone varchar)")
    conn.executemany("insert into customer_records values (?)", [[p] for p in KNOWN_CUSTOMER_PHONES])
    install_masking(conn, SALT, "customer_records")
    return conn


def _mask(conn: duckdb.DuckDBPyConnection, value: str | None) -> str | None:
    return conn.execute("select clientele_mask_text(?::varchar)", [value]).fetchall()[0][0]


@pytest.mark.parametrize(
    "value",
    [
        "CUS-00000001",
        "SO-0000000001",
        "4876876000000123456",  # a 19-digit Zoho id
        "20260304001",  # an order number
        "415086800000000123",
        "KH13812345678",  # a mobile's digits glued to a prefix are an id
        "DD0000012345",
        "2026-03-04",
        "2026/3/4",
        "2026-03-04 10:15:00",
        "2026-03-04T10:15:00+08:00",
        "1,234,567.89",
        "12345678.90",
        "-25.00",
        "Customer 12",
        "user at example dot com",
        "@handle",
        "generic:CUS-00000001",
        "",
    ],
)
def test_ordinary_values_are_published_as_they_are(conn, value):
    assert _mask(conn, value) == value


@pytest.mark.parametrize(
    ("value", "hashed_text"),
    [
        ("alice@example.com", "alice@example.com"),
        ("  Alice@Example.COM ", "alice@example.com"),  # the normalised form, as the email column has it
        ("13812345678@qq.com", "13812345678@qq.com"),
        ("+86 138 1234 5678", "8613812345678"),
        ("(+86) 138-1234-5678", "8613812345678"),
        ("+14155550134", "14155550134"),
        ("+1-415-555-0134", "14155550134"),
        ("13812345678", "8613812345678"),  # a bare Chinese mobile gets its calling code
        ("138 1234 5678", "8613812345678"),
        ("8613812345678", "8613812345678"),
        ("415-555-0134", "4155550134"),
        ("(415) 555 0134", "4155550134"),
        ("415.555.0134", "4155550134"),
        ("010-12345678", "01012345678"),
        ("4155550134", "4155550134"),  # no form of its own, but a customer record's phone
        ("12125550000", "12125550000"),
    ],
)
def test_whole_emails_and_phones_are_salted_hashes(conn, value, hashed_text):
    assert _mask(conn, value) == _hash(hashed_text)


def test_embedded_emails_and_phones_are_markers_carrying_the_hash_prefix(conn):
    email, phone = _hash("alice@x.com")[:16], _hash("8613812345678")[:16]
    assert _mask(conn, "generic:alice@x.com") == f"generic:[email:{email}]"
    assert _mask(conn, "Call +86 138 1234 5678 or alice@x.com.") == f"Call [phone:{phone}] or [email:{email}]."
    assert _mask(conn, '{"email":"Alice@x.com","phone":"13812345678"}') == (
        f'{{"email":"[email:{email}]","phone":"[phone:{phone}]"}}'
    )
    assert _mask(conn, "CUS-1,alice@x.com,13812345678,2026-03-04,20260304001") == (
        f"CUS-1,[email:{email}],[phone:{phone}],2026-03-04,20260304001"
    )
    assert _mask(conn, "Rep: 415-555-0134 ext") == f"Rep: [phone:{_hash('4155550134')[:16]}] ext"
    assert _mask(conn, None) is None


def test_masking_off_and_identifier_columns():
    assert masked_column("owner", "VARCHAR", hashed=False, mask=False) == '"owner"'
    assert masked_column("email", "VARCHAR", hashed=True, mask=False) == '"email"'
    assert masked_column("email", "VARCHAR", hashed=True, mask=True) == 'clientele_salted_hash("email") as "email"'
    assert masked_column("amount", "DECIMAL(18,2)", hashed=False, mask=True) == '"amount"'


@pytest.mark.slow
def test_a_million_rows_of_ids_names_and_owners(conn):
    conn.execute(
        """
        create temp table crm as
        select printf('CUS-%08d', i) as customer_id,
               case when i % 100 = 0 then 'user' || i || '@example.com' else 'Customer ' || i end as customer_name,
               case when i % 100 = 1 then '+86 138 0013 ' || lpad((i % 10000)::varchar, 4, '0')
                    else 'Rep ' || (i % 50) end as owner,
               case when i % 100 = 2 then 'generic:lead' || i || '@example.com'
                    else 'generic:' || printf('CUS-%08d', i) end as record_key,
               printf('%019d', 4876876000000000000 + i) as zoho_id
        from range(1000000) t(i)
        """
    )
    columns = ["customer_id", "customer_name", "owner", "record_key", "zoho_id"]
    masked = ", ".join(masked_column(c, "VARCHAR", hashed=False, mask=True) for c in columns)
    started = time.perf_counter()
    conn.execute(f"create temp table crm_masked as select {masked} from crm")
    elapsed = time.perf_counter() - started
    counts = conn.execute(
        """
        select count(*) filter (where customer_id like 'CUS-%'),
               count(*) filter (where length(customer_name) = 64),
               count(*) filter (where length(owner) = 64),
               count(*) filter (where record_key like 'generic:[email:%]'),
               count(*) filter (where zoho_id like '48768760%'),
               count(*) filter (where customer_name like '%@%' or record_key like '%@%')
        from crm_masked
        """
    ).fetchall()[0]
    print(f"masking 1M rows x 5 text columns: {elapsed:.2f} s")
    assert counts == (1_000_000, 10_000, 10_000, 10_000, 1_000_000, 0)
