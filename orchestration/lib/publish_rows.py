"""Publishing the order history by customer: a night replaces the published rows of the customers it rebuilt.

The `orders` mart is incremental (dbt `macros/customer_history/incremental_order_history.sql`): every row carries
`_orders_rebuild_seq`, the build that last wrote its customer's rows. The publication records the newest one it
published (the fingerprint's watermark). The next publication starts from a byte copy of the previous file and
deletes, then writes again from the mart, the rows of:

- the customers with rows newer than the watermark (new, changed, merged or moved orders);
- the customers published but gone from the mart (merged into another, every order moved away);
- the customers with a text value whose masking depends on a known phone number that appeared or disappeared
  since (publish_masking.py's known-phone rule), the only way a row the build did not touch publishes differently.

The per-part fingerprints (row count and sum of row hashes, per order month) are kept exact by subtracting the
rows deleted and adding the rows written, so the month files to rewrite are known without hashing every
published row, and a later publication may still compare them with a fresh fingerprint.

A refund from every month of the history rewrites every month's Parquet file, but only a few percent of the rows
in the DuckDB file. Without what this needs (the bookkeeping columns, a previous fingerprint with the same
schema and a watermark, the previous known phones), the mart is published by part instead (publish.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from orchestration.lib.publish_changes import Fingerprint, TablePlan, fingerprint_select
from orchestration.lib.publish_docs import quote
from orchestration.lib.publish_masking import (
    KNOWN_PHONES_TABLE,
    depends_on_known_phones,
    known_phone_key,
    masked_expression,
)

TOUCHED = "clientele_publish_touched_customers"
PHONES_CHANGED = "clientele_publish_known_phones_changed"


@dataclass(frozen=True)
class RowKey:
    """How a mart is published by row: rows are replaced per `key` value, those rebuilt after the watermark."""

    key: str
    rebuild_seq: str


PUBLISHED_BY_ROW = {"orders": RowKey(key="customer_key", rebuild_seq="_orders_rebuild_seq")}


def watermark(conn: duckdb.DuckDBPyConnection, source: str, mart: str) -> int | None:
    """The newest rebuild in the mart (None when it is not published by row or lacks the bookkeeping)."""
    row_key = PUBLISHED_BY_ROW.get(mart)
    if row_key is None or row_key.rebuild_seq not in _columns(conn, source, mart):
        return None
    (newest,) = conn.execute(f"select max({quote(row_key.rebuild_seq)}) from {source}.marts.{quote(mart)}").fetchone()
    return None if newest is None else int(newest)


def changed_known_phones(conn: duckdb.DuckDBPyConnection, previous_known_phones: str | None, mask: bool) -> int | None:
    """Create the temporary table of the known phone digits added or removed since the previous publication and
    return how many there are; None when that cannot be known (no record of the previous ones)."""
    if not mask:
        conn.execute(f"create or replace temp table {PHONES_CHANGED} as select null::varchar as digits where false")
    elif previous_known_phones is None:
        return None
    else:
        conn.execute(
            f"""
            create or replace temp table {PHONES_CHANGED} as
            (select digits from {KNOWN_PHONES_TABLE} except select digits from {previous_known_phones})
            union
            (select digits from {previous_known_phones} except select digits from {KNOWN_PHONES_TABLE})
            """
        )
    return conn.execute(f"select count(*) from {PHONES_CHANGED}").fetchone()[0]


def publish_by_row(
    conn: duckdb.DuckDBPyConnection,
    source: str,
    mart: str,
    previous: Fingerprint | None,
    schema_key: str,
    select_list: str,
    masking: tuple[set[str], bool],
    phones_changed: int | None,
) -> TablePlan | None:
    """Bring `published.marts.<mart>` up to date by row (see the module's description) and return its plan; or
    return None, having written nothing, when the mart cannot be published that way. `masking` is the columns
    hashed whole and whether masking is on; `phones_changed` what `changed_known_phones` returned."""
    row_key = PUBLISHED_BY_ROW.get(mart)
    columns = _columns(conn, source, mart)
    usable = (
        row_key is not None
        and row_key.key in columns
        and row_key.rebuild_seq in columns
        and previous is not None
        and previous.schema_key == schema_key
        and previous.watermark is not None
        and phones_changed is not None
    )
    if not usable:
        return None
    hashed, mask = masking
    source_table, target = f"{source}.marts.{quote(mart)}", f"published.marts.{quote(mart)}"
    key, rebuild_seq = quote(row_key.key), quote(row_key.rebuild_seq)
    key_type = columns[row_key.key]
    published_source_key = masked_expression("source_key", key_type, hashed=row_key.key in hashed, mask=mask)
    rebuilt = f"{rebuild_seq} > {int(previous.watermark)}"
    if phones_changed:
        rebuilt += "".join(
            f" or {known_phone_key(name)} in (select digits from {PHONES_CHANGED})"
            for name, data_type in columns.items()
            if not name.startswith("_") and depends_on_known_phones(name, data_type, hashed=name in hashed, mask=mask)
        )
    conn.execute(
        f"""
        create or replace temp table {TOUCHED} as
        with

        rebuilt as (
            select distinct {key} as source_key from {source_table} where {rebuilt}
        ),

        held as (
            select {published_source_key} as published_key
            from (select distinct {key} as source_key from {source_table})
        ),

        gone as (
            select distinct {key} as published_key from {target}
            except
            select published_key from held
        )

        select source_key, {published_source_key} as published_key from rebuilt
        union all
        select null, published_key from gone
        """
    )
    replaced = f"(select * from {target} where {key} in (select published_key from {TOUCHED}))"
    removed = _part_sums(conn, replaced, mart)
    conn.execute(f"delete from {target} where {key} in (select published_key from {TOUCHED})")
    conn.execute(
        f"insert into {target} select {select_list} from {source_table} "
        f"where {key} in (select source_key from {TOUCHED})"
    )
    added = _part_sums(conn, replaced, mart)
    parts = dict(previous.parts)
    for part, (count, content) in removed.items():
        held_count, held_content = parts[part]
        parts[part] = (held_count - count, held_content - content)
    for part, (count, content) in added.items():
        held_count, held_content = parts.get(part, (0, 0))
        parts[part] = (held_count + count, held_content + content)
    parts = {part: value for part, value in parts.items() if value[0] > 0}
    changed = frozenset(part for part, value in parts.items() if previous.parts.get(part) != value)
    gone_parts = frozenset(previous.parts) - frozenset(parts)
    return TablePlan(
        mart,
        Fingerprint(schema_key, parts, watermark(conn, source, mart)),
        rewrite_all=False,
        rewrite_parts=changed,
        drop_parts=changed | gone_parts,
        rows_replaced=(sum(count for count, _ in removed.values()), sum(count for count, _ in added.values())),
    )


def _columns(conn: duckdb.DuckDBPyConnection, catalog: str, table: str) -> dict[str, str]:
    return dict(
        conn.execute(
            "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = 'marts' "
            "and table_name = ? order by column_index",
            [catalog, table],
        ).fetchall()
    )


def _part_sums(conn: duckdb.DuckDBPyConnection, relation: str, mart: str) -> dict[str, tuple[int, int]]:
    rows = conn.execute(fingerprint_select(relation, mart)).fetchall()
    return {part: (int(count), int(content)) for part, count, content in rows}
