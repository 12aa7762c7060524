"""Counted defects: a few rows per file made dirty or unloadable, each defect on its own row.

Unloadable rows (quarantined by ingest): blank ids, unparseable dates, non-numeric amounts, wrong column counts.
Loadable but dirty: exact duplicates, negative amounts, unknown currencies, orders of unknown customers, stray
whitespace, mixed-case e-mail addresses. Defective copies are scattered among the rows; originals stay.
"""

from __future__ import annotations

import numpy as np

from clientele_demo.context import Context
from clientele_demo.sampling import Table, size, take

DEFECT_RATE = 0.0005  # per defect kind and file; the first chunk always gets at least one
UNLOADABLE_DEFECTS = ("blank_id", "unparseable_date", "non_numeric_amount", "wrong_column_count")
LOADABLE_DEFECTS = (
    "exact_duplicate",
    "negative_amount",
    "unknown_currency",
    "orphan_order",
    "stray_whitespace",
    "mixed_case_email",
)
BAD_DATES = ("2025-02-30", "2025-13-01", "31.04.2024", "not a date")
BAD_AMOUNTS = ("TBD", "#VALUE!", "12O.50", "n/a")
UNKNOWN_CURRENCIES = ("XYZ", "ZZZ", "ABC")

ENTITY_DEFECTS = {  # entity -> (kinds, column that gets stray whitespace)
    "customers": (
        ("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace", "mixed_case_email"),
        "customer_name",
    ),
    "orders": (
        (
            "exact_duplicate",
            "blank_id",
            "unparseable_date",
            "non_numeric_amount",
            "wrong_column_count",
            "negative_amount",
            "unknown_currency",
            "orphan_order",
            "stray_whitespace",
        ),
        "channel",
    ),
    "order_lines": (("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace"), "product_id"),
    "products": (("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace"), "product_name"),
    "interactions": (("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace"), "interaction_type"),
    "tickets": (("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace"), "category"),
    "surveys": (("exact_duplicate", "blank_id", "wrong_column_count", "stray_whitespace"), "customer_id"),
}
_NEW_ORDER_IDS = ("negative_amount", "unknown_currency", "orphan_order")
EXTRA_ORDER_NUMBER_BASE = 9_000_000_000


def inject_defects(
    rng: np.random.Generator,
    entity: str,
    table: Table,
    file_format: str,
    first_chunk: bool,
    protected: np.ndarray | None,
    ctx: Context,
) -> tuple[Table, dict[str, int]]:
    """Mark a few rows dirty and insert a few defective copies; every defect touches its own row."""
    n = size(table)
    kinds = [k for k in ENTITY_DEFECTS[entity][0] if file_format == "csv" or k != "wrong_column_count"]
    usable = table["has_email"] if entity == "customers" else np.ones(n, bool)  # mixed case needs an e-mail
    if protected is not None:
        usable = usable & ~protected
    wanted = {kind: max(int(first_chunk), round(n * DEFECT_RATE)) for kind in kinds}
    pool = rng.permutation(np.flatnonzero(usable))
    if pool.size == 0:
        return table, {}
    table = {
        **table,
        "_blank": np.zeros(n, bool),
        "_spaces": np.zeros(n, bool),
        "_width": np.zeros(n, np.int64),  # 1: last field missing, 2: one field too many
        "_bad_kind": np.full(n, -1),  # 0 date, 1 amount, 2 currency replaced by junk
        "_bad": np.full(n, -1),  # index into the junk vocabulary
    }
    counts: dict[str, int] = {}
    cursor = 0
    sources = {}
    for kind in kinds:
        chosen = min(wanted[kind], pool.size - cursor)
        if chosen <= 0:
            continue
        rows = pool[cursor : cursor + chosen]
        cursor += chosen
        counts[kind] = chosen
        if kind == "stray_whitespace":
            table["_spaces"][rows] = True
        elif kind == "mixed_case_email":
            table["email_case"] = table["email_case"].copy()
            table["email_case"][rows] = 3
        else:
            sources[kind] = rows
    extras = []
    for kind, rows in sources.items():
        copy = take(table, rows)
        k = rows.size
        if kind == "blank_id":
            copy["_blank"][:] = True
        elif kind == "wrong_column_count":
            copy["_width"] = np.where(np.arange(k) % 2 == 0, 1, 2)
        elif kind == "unparseable_date":
            copy["_bad"] = np.arange(k) % len(BAD_DATES)
            copy["_bad_kind"] = np.full(k, 0)
        elif kind == "non_numeric_amount":
            copy["_bad"] = np.arange(k) % len(BAD_AMOUNTS)
            copy["_bad_kind"] = np.full(k, 1)
        elif kind == "unknown_currency":
            copy["_bad"] = np.arange(k) % len(UNKNOWN_CURRENCIES)
            copy["_bad_kind"] = np.full(k, 2)
        elif kind == "negative_amount":
            copy["amount"] = -np.maximum(copy["amount"], 100)
        elif kind == "orphan_order":
            start = ctx.counters["orphan"]
            copy["customer_number"] = ctx.counters["customers_total"] + 1 + np.arange(start, start + k)
            copy["customer_webshop"] = np.zeros(k, bool)
            ctx.counters["orphan"] += k
        if kind in _NEW_ORDER_IDS:
            start = ctx.counters["extra_orders"]
            copy["number"] = EXTRA_ORDER_NUMBER_BASE + np.arange(start + 1, start + 1 + k)
            ctx.counters["extra_orders"] += k
        extras.append(copy)
    if extras:
        extra = {key: np.concatenate([copy[key] for copy in extras]) for key in table}
        k = size(extra)
        # Scatter the copies to random places: extra i lands at (its sorted insertion point + i).
        order = rng.permutation(k)
        landing = np.zeros(n + k, bool)
        landing[np.sort(rng.integers(0, n + 1, k)) + np.arange(k)] = True
        merged = {}
        for key, values in table.items():
            column = np.empty(n + k, values.dtype)
            column[~landing] = values
            column[landing] = extra[key][order]
            merged[key] = column
        table = merged
    return table, counts
