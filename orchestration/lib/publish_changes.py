"""What a publication must rewrite: content fingerprints of the published marts, compared with the last
publication's.

A mart's fingerprint is taken over what would be published (its masked rows): per part, the row count and the
sum of the rows' hashes (order-independent, duplicates counted), plus a schema key (column names, types and the
masking applied). A partitioned mart (`orders`, by order month) has one part per month, so a night that touched
three months rewrites three months; every other mart is one part. Fingerprints of the live publication are kept
in the working database (`audit.publish_fingerprints`) and replaced in the transaction that records the
publication, so they always describe the file readers see. With them: for a mart published by row
(publish_rows.py), the newest rebuild it published (the watermark); and the known phone numbers the masking
used (`audit.publish_known_phones`), whose changes decide which untouched rows masking would now publish
differently.

A publication is built from the previous one only when that one is intact and is the one the fingerprints
describe; otherwise everything is written afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from hashlib import sha256

import duckdb

from orchestration.lib.publish_audit import table_exists
from orchestration.lib.publish_docs import quote

FINGERPRINTS = "audit.publish_fingerprints"
FINGERPRINT_COLUMNS = """(
    run_id varchar not null,
    table_name varchar not null,
    part varchar not null,
    schema_key varchar not null,
    row_count bigint not null,
    content_hash hugeint not null,
    watermark bigint
)"""
KNOWN_PHONES = "audit.publish_known_phones"
WHOLE_TABLE = ""  # the part of an unpartitioned mart
# mart -> (partition column published in Parquet, its expression over the mart's columns)
PARTITIONED = {"orders": ("order_month", "strftime(order_date, '%Y-%m')")}


@dataclass(frozen=True)
class Fingerprint:
    schema_key: str
    parts: dict[str, tuple[int, int]]  # part -> (row count, content hash)
    watermark: int | None = None  # a mart published by row: the newest rebuild it holds (publish_rows.py)

    @property
    def row_count(self) -> int:
        return sum(rows for rows, _ in self.parts.values())


@dataclass(frozen=True)
class TablePlan:
    """How one mart reaches the new publication."""

    table: str
    fingerprint: Fingerprint  # no parts yet: a fresh publication takes them from what it wrote
    rewrite_all: bool = True
    rewrite_parts: frozenset[str] = frozenset()  # parts to write (new or changed)
    drop_parts: frozenset[str] = frozenset()  # parts to delete (changed or gone)
    rows_replaced: tuple[int, int] | None = None  # published by row: (rows deleted, rows written)

    @property
    def unchanged(self) -> bool:
        return not self.rewrite_all and not self.rewrite_parts and not self.drop_parts

    def describe(self) -> str:
        """What the publication wrote for this mart, for the run's metadata."""
        if self.rewrite_all:
            return "written"
        if self.unchanged and not any(self.rows_replaced or ()):
            return "unchanged"
        parts = f"{len(self.drop_parts | self.rewrite_parts)} of {len(self.fingerprint.parts)} parts rewritten"
        if self.rows_replaced is None:
            return parts
        deleted, written = self.rows_replaced
        return f"{deleted:,} rows deleted and {written:,} written; {parts}"


@dataclass(frozen=True)
class PreviousFingerprints:
    run_id: str
    as_of: date
    tables: dict[str, Fingerprint] = field(default_factory=dict)
    known_phones: str | None = None  # the known phone digits the masking used (a relation), when recorded


def part_expression(table: str) -> str:
    return PARTITIONED[table][1] if table in PARTITIONED else f"'{WHOLE_TABLE}'"


def schema_key(
    conn: duckdb.DuckDBPyConnection, catalog: str, table: str, select_list: str, docs: str = "", masking: str = ""
) -> str:
    """Column names and types of the source, the select list that masks them, what else decides the masking
    (the salt's digest) and the documentation the Parquet footers carry: equal keys, equal files for equal rows."""
    columns = conn.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = 'marts' "
        "and table_name = ? order by column_index",
        [catalog, table],
    ).fetchall()
    return sha256(repr((columns, select_list, docs, masking)).encode()).hexdigest()


def fingerprint_select(relation: str, table: str) -> str:
    """Per part of `relation` (a subquery or table with the published columns): row count and content hash."""
    return (
        f"select {part_expression(table)} as part, count(*) as row_count, "
        f"coalesce(sum(hash(published_rows)::hugeint), 0) as content_hash from {relation} as published_rows group by 1"
    )


def fingerprint(conn: duckdb.DuckDBPyConnection, relation: str, table: str, key: str) -> Fingerprint:
    rows = conn.execute(fingerprint_select(relation, table)).fetchall()
    return Fingerprint(key, {part: (int(count), int(content)) for part, count, content in rows})


def load_previous(conn: duckdb.DuckDBPyConnection, as_of: date) -> PreviousFingerprints | None:
    """The fingerprints of the live publication (as of `as_of`), from `working`, or None when there are none."""
    if not table_exists(conn, "working", "audit", "publish_fingerprints"):
        return None
    conn.execute(f"alter table working.{FINGERPRINTS} add column if not exists watermark bigint")
    rows = conn.execute(
        f"select run_id, table_name, part, schema_key, row_count, content_hash, watermark from working.{FINGERPRINTS}"
    ).fetchall()
    if not rows or len({row[0] for row in rows}) != 1:
        return None
    tables: dict[str, Fingerprint] = {}
    for _, table, part, key, count, content, watermark in rows:
        current = tables.setdefault(table, Fingerprint(key, {}, watermark))
        current.parts[part] = (int(count), int(content))
    known_phones = f"working.{KNOWN_PHONES}" if table_exists(conn, "working", "audit", "publish_known_phones") else None
    return PreviousFingerprints(rows[0][0], as_of, tables, known_phones)


def plan(table: str, new: Fingerprint, previous: Fingerprint | None) -> TablePlan:
    if previous is None or previous.schema_key != new.schema_key:
        return TablePlan(table, new)
    changed = {part for part, value in new.parts.items() if previous.parts.get(part) != value}
    gone = set(previous.parts) - set(new.parts)
    if table not in PARTITIONED:
        return TablePlan(table, new, rewrite_all=bool(changed or gone))
    return TablePlan(
        table,
        new,
        rewrite_all=False,
        rewrite_parts=frozenset(changed),
        drop_parts=frozenset(changed | gone),
    )


def save(
    conn: duckdb.DuckDBPyConnection, run_id: str, fingerprints: dict[str, Fingerprint], known_phones: str | None
) -> None:
    """Replace the stored fingerprints and known phones (`known_phones`: the relation the masking used, None when
    nothing was masked); call inside the transaction that records the publication."""
    conn.execute(f"create table if not exists working.{FINGERPRINTS} {FINGERPRINT_COLUMNS}")
    conn.execute(f"delete from working.{FINGERPRINTS}")
    rows = [
        (run_id, table, part, value.schema_key, count, content, value.watermark)
        for table, value in fingerprints.items()
        for part, (count, content) in value.parts.items()
    ]
    if rows:
        conn.executemany(f"insert into working.{FINGERPRINTS} values (?, ?, ?, ?, ?, ?, ?)", rows)
    if known_phones is None:
        conn.execute(f"drop table if exists working.{KNOWN_PHONES}")
    else:
        conn.execute(f"create or replace table working.{KNOWN_PHONES} as select digits from {known_phones}")


def part_filter(table: str, parts: frozenset[str]) -> str:
    literals = ", ".join("'" + part.replace("'", "''") + "'" for part in sorted(parts))
    return f"{part_expression(table)} in ({literals})" if parts else "false"


def quoted_table(catalog: str, table: str) -> str:
    return f"{catalog}.marts.{quote(table)}"


def parquet_select(parquet_dir, table: str) -> str:
    """A query reading a published mart back from its Parquet set with the mart's own columns (a partitioned
    mart's partition column left out)."""
    if table in PARTITIONED:
        column = PARTITIONED[table][0]
        files = f"{parquet_dir}/{table}/*/*.parquet"
        return f"select * exclude ({column}) from read_parquet('{files}', hive_partitioning = true)"
    return f"select * from read_parquet('{parquet_dir}/{table}.parquet')"
