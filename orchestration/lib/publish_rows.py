"""Publishing the order history by row: a night deletes and writes again only the published orders that changed.

The `orders` mart is incremental (dbt `macros/customer_history/incremental_order_history.sql`): every row carries
`_orders_rebuild_seq`, the build that last wrote its order history row. A publication keeps, in the working
database, the hash of every published order as the mart had it, unmasked (`audit.publish_row_hashes_orders`:
order key, customer key, row hash), and records the newest rebuild it published (the fingerprint's watermark).
The next publication starts from a byte copy of the previous file and compares with those hashes:

- the orders of the customers with a row rebuilt since the watermark: new or different ones are written, the
  published ones they replace or that are gone are deleted; the customer's orders equal to the published ones
  stay;
- the orders of the customers published but gone from the mart (merged into another, every order moved away)
  are deleted;
- orders with a text value whose masking depends on a known phone number that appeared or disappeared since
  (publish_masking.py's known-phone rule) are written again: the only way a row the build did not touch
  publishes differently. Masking depends otherwise on the salt, which is part of the schema key.

The per-part fingerprints (row count and sum of row hashes, per order month) are kept exact by subtracting the
published rows deleted and adding the rows written, so the month files to rewrite are known without hashing
every published row, and a later publication may still compare them with a fresh fingerprint. The stored hashes
change in the transaction that records the publication (`record_rows`), like the fingerprints.

A refund in every month of the history still rewrites every month's Parquet file; the DuckDB file changes in
the changed orders only. Without what this needs (the bookkeeping column, a previous fingerprint with the same
schema and a watermark, the stored hashes, the previous known phones), the mart is published by part instead and
its hashes are stored afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from orchestration.lib.publish_audit import table_exists
from orchestration.lib.publish_changes import Fingerprint, TablePlan, fingerprint_select
from orchestration.lib.publish_docs import quote
from orchestration.lib.publish_masking import (
    BOOKKEEPING_PREFIX,
    KNOWN_PHONES_TABLE,
    depends_on_known_phones,
    known_phone_key,
    masked_expression,
)

PHONES_CHANGED = "clientele_publish_known_phones_changed"


@dataclass(frozen=True)
class RowKey:
    """How a mart is published by row: `key` identifies a row, `group` the rows rebuilt together (rebuild
    sequence in `rebuild_seq`)."""

    key: str
    group: str
    rebuild_seq: str


PUBLISHED_BY_ROW = {"orders": RowKey(key="order_key", group="customer_key", rebuild_seq="_orders_rebuild_seq")}


def hashes_table(mart: str) -> str:
    return f"audit.publish_row_hashes_{mart}"


def _candidates(mart: str) -> str:
    return f"clientele_publish_candidates_{mart}"


def _added(mart: str) -> str:
    return f"clientele_publish_added_{mart}"


def _removed(mart: str) -> str:
    return f"clientele_publish_removed_{mart}"


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
        and {row_key.key, row_key.group, row_key.rebuild_seq} <= set(columns)
        and previous is not None
        and previous.schema_key == schema_key
        and previous.watermark is not None
        and phones_changed is not None
        and table_exists(conn, "working", *hashes_table(mart).split("."))
    )
    if not usable:
        return None
    hashed, mask = masking
    source_table, target, held = (
        f"{source}.marts.{quote(mart)}",
        f"published.marts.{quote(mart)}",
        f"working.{hashes_table(mart)}",
    )
    key, group = quote(row_key.key), quote(row_key.group)
    published = [name for name in columns if not name.startswith(BOOKKEEPING_PREFIX)]
    row_hash = f"hash({', '.join(map(quote, published))})"
    published_key = masked_expression("row_key", columns[row_key.key], hashed=row_key.key in hashed, mask=mask)
    remasked = "false"
    if phones_changed:
        remasked = (
            " or ".join(
                f"{known_phone_key(name)} in (select digits from {PHONES_CHANGED})"
                for name in published
                if depends_on_known_phones(name, columns[name], hashed=name in hashed, mask=mask)
            )
            or "false"
        )
    # the rows of the rebuilt customers and the rows masking now publishes differently, hashed once
    conn.execute(
        f"""
        create or replace temp table {_candidates(mart)} as
        with

        rebuilt_groups as (
            select distinct {group} as group_key from {source_table}
            where {quote(row_key.rebuild_seq)} > {int(previous.watermark)}
        )

        select
            {key} as row_key,
            {group} as group_key,
            {row_hash} as row_hash,
            {group} in (select group_key from rebuilt_groups) as rebuilt,
            {remasked} as remasked
        from {source_table}
        where {group} in (select group_key from rebuilt_groups) or ({remasked})
        """
    )
    conn.execute(
        f"""
        create or replace temp table {_added(mart)} as
        select row_key, group_key, row_hash
        from {_candidates(mart)} as candidates
        where remasked or not exists (
            select 1 from {held} as held
            where held.row_key = candidates.row_key and held.row_hash = candidates.row_hash
        )
        """
    )
    conn.execute(
        f"""
        create or replace temp table {_removed(mart)} as
        with

        rebuilt as (
            select row_key, group_key, row_hash from {_candidates(mart)} where rebuilt
        ),

        gone_groups as (
            select group_key from {held}
            except
            select {group} from {source_table}
        ),

        stale as (
            select held.row_key
            from {held} as held
            where
                (
                    held.group_key in (select group_key from rebuilt)
                    or held.group_key in (select group_key from gone_groups)
                )
                and not exists (
                    select 1 from rebuilt where rebuilt.row_key = held.row_key and rebuilt.row_hash = held.row_hash
                )
            union
            select held.row_key from {held} as held where held.row_key in (select row_key from {_added(mart)})
        )

        select row_key, {published_key} as published_key
        from stale
        """
    )
    deleted = f"(select * from {target} where {key} in (select published_key from {_removed(mart)}))"
    removed = _part_sums(conn, deleted, mart)
    conn.execute(f"delete from {target} where {key} in (select published_key from {_removed(mart)})")
    conn.execute(
        f"insert into {target} select {select_list} from {source_table} "
        f"where {key} in (select row_key from {_added(mart)})"
    )
    written = f"(select * from {target} where {key} in (select {published_key} from {_added(mart)}))"
    added = _part_sums(conn, written, mart)
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


def record_rows(conn: duckdb.DuckDBPyConnection, source: str, plans: dict[str, TablePlan]) -> None:
    """Bring the stored row hashes in line with what was published (call inside the transaction that records the
    publication): the changes of a mart published by row, all rows of one written another way; none for a mart
    that cannot be published by row."""
    for mart, row_key in PUBLISHED_BY_ROW.items():
        table = f"working.{hashes_table(mart)}"
        plan = plans.get(mart)
        columns = _columns(conn, source, mart) if plan is not None else {}
        if plan is None or not {row_key.key, row_key.group, row_key.rebuild_seq} <= set(columns):
            conn.execute(f"drop table if exists {table}")
        elif plan.rows_replaced is not None:
            conn.execute(f"delete from {table} where row_key in (select row_key from {_removed(mart)})")
            conn.execute(f"insert into {table} select row_key, group_key, row_hash from {_added(mart)}")
        else:
            published = [name for name in columns if not name.startswith(BOOKKEEPING_PREFIX)]
            conn.execute(
                f"create or replace table {table} as select {quote(row_key.key)} as row_key, "
                f"{quote(row_key.group)} as group_key, hash({', '.join(map(quote, published))}) as row_hash "
                f"from {source}.marts.{quote(mart)}"
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
