"""Materialization metadata for dbt assets, read from the working database after dbt has released it."""

from __future__ import annotations

import dagster as dg
import duckdb

from orchestration.lib.backtest_metadata import backtest_metadata

SEGMENTS_KEY = dg.AssetKey(["marts", "customer_segments"])
SEGMENT_SUMMARY = "marts.segment_summary"
SEGMENT_DIMENSIONS = ("value_tier", "lifecycle_stage", "rfm_segment", "frequency_tier", "city_tier")
CLV_KEY = dg.AssetKey(["marts", "customer_clv"])
CLV_FITS_KEYS = (dg.AssetKey(["intermediate", "int_clv_models_fitted"]), dg.AssetKey(["marts", "clv_model_fits"]))
CLV_FITS_TABLE = "intermediate.int_clv_models_fitted"
BACKTEST_KEY = dg.AssetKey(["marts", "model_backtest"])
BACKTEST_TABLE = "marts.model_backtest"
BACKTEST_CHOICE_TABLE = "intermediate.int_clv_purchase_models_backtested"
# Assets whose metadata is read from the database after dbt has finished (more than a row count).
DEFERRED_METADATA_KEYS = frozenset({SEGMENTS_KEY, CLV_KEY, *CLV_FITS_KEYS, BACKTEST_KEY})


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return conn.execute(sql, params or []).fetchall()


def _tables(conn: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
    return {(schema, name) for schema, name in _rows(conn, "select schema_name, table_name from duckdb_tables()")}


def _row_counts(conn: duckdb.DuckDBPyConnection, keys: set[dg.AssetKey], tables: set) -> dict[dg.AssetKey, int]:
    """Exact row counts of the table assets (views are skipped: counting them would re-run their query)."""
    counted = [key for key in keys if tuple(key.path) in tables]
    if not counted:
        return {}
    union = " union all ".join(
        f'select {i} as position, count(*) as row_count from "{key.path[0]}"."{key.path[1]}"'
        for i, key in enumerate(counted)
    )
    return {counted[position]: row_count for position, row_count in _rows(conn, union)}


def segment_markdown(conn: duckdb.DuckDBPyConnection) -> str:
    """Segment sizes and revenue shares per dimension, from the segment_summary mart."""
    rows = _rows(
        conn,
        f"""
        select segment_dimension, segment_value, customer_count, customer_share, revenue_share
        from {SEGMENT_SUMMARY}
        where segment_dimension in ({", ".join("?" for _ in SEGMENT_DIMENSIONS)})
        order by segment_dimension, customer_count desc, segment_value
        """,
        list(SEGMENT_DIMENSIONS),
    )
    lines = ["| dimension | segment | customers | customer share | revenue share |", "|---|---|---:|---:|---:|"]
    lines += [
        f"| {dimension} | {value} | {count:,} | {share or 0:.1%} | {revenue or 0:.1%} |"
        for dimension, value, count, share, revenue in rows
    ]
    return "\n".join(lines)


def clv_fit_metadata(conn: duckdb.DuckDBPyConnection) -> dict:
    rows = _rows(
        conn,
        f"""
        select model, parameter, value, log_likelihood, n_customers, converged, used_for_scoring, fit_seconds,
            selection_reason, fit_warnings
        from {CLV_FITS_TABLE} order by model, parameter
        """,
    )
    metadata: dict = {f"{model}.{parameter}": float(value) for model, parameter, value, *_ in rows}
    for model, _, _, log_likelihood, n_customers, converged, used, seconds, *_ in rows:
        metadata[f"{model}.log_likelihood"] = float(log_likelihood)
        metadata[f"{model}.n_customers"] = int(n_customers)
        metadata[f"{model}.converged"] = bool(converged)
        metadata[f"{model}.used_for_scoring"] = bool(used)
        metadata[f"{model}.fit_seconds"] = round(float(seconds), 3)
    reasons = {row[-2] for row in rows if row[-2]}
    if reasons:
        metadata["purchase_model_selection"] = dg.MetadataValue.text("; ".join(sorted(reasons)))
    warnings = {row[-1] for row in rows if row[-1]}
    metadata["fit_warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in sorted(warnings)) or "none")
    if not rows:
        metadata["fit_warnings"] = dg.MetadataValue.md("no model fitted: CLV uses the historical estimate")
    return metadata


def clv_score_metadata(conn: duckdb.DuckDBPyConnection) -> dict:
    by_method = _rows(
        conn, "select clv_method, count(*), sum(clv) from marts.customer_clv group by clv_method order by 1"
    )
    return {
        "customers_by_method": dg.MetadataValue.json({method: int(count) for method, count, _ in by_method}),
        "total_clv": float(sum(total or 0 for *_, total in by_method)),
    }


def _in_tables(table: str, tables: set) -> bool:
    return tuple(table.split(".")) in tables


def materialization_metadata(conn: duckdb.DuckDBPyConnection, keys: set[dg.AssetKey]) -> dict[dg.AssetKey, dict]:
    """Per asset key: `dagster/row_count` for tables, plus segment, CLV and backtest summaries where they apply."""
    tables = _tables(conn)
    metadata: dict[dg.AssetKey, dict] = {
        key: {"dagster/row_count": count} for key, count in _row_counts(conn, keys, tables).items()
    }
    if SEGMENTS_KEY in keys and tuple(SEGMENT_SUMMARY.split(".")) in tables:
        metadata.setdefault(SEGMENTS_KEY, {})["segment_sizes"] = dg.MetadataValue.md(segment_markdown(conn))
    if tuple(CLV_FITS_TABLE.split(".")) in tables:
        fits = clv_fit_metadata(conn)
        for key in CLV_FITS_KEYS:
            if key in keys:
                metadata.setdefault(key, {}).update(fits)
    if CLV_KEY in keys and ("marts", "customer_clv") in tables:
        metadata.setdefault(CLV_KEY, {}).update(clv_score_metadata(conn))
    if BACKTEST_KEY in keys and _in_tables(BACKTEST_TABLE, tables):
        reason = None
        if _in_tables(BACKTEST_CHOICE_TABLE, tables):
            reason = _rows(conn, f"select any_value(selection_reason) from {BACKTEST_CHOICE_TABLE}")[0][0]
        rows = conn.execute(
            f"select model, metric, breakdown, breakdown_value, value, is_chosen, calibration_date, horizon_days "
            f"from {BACKTEST_TABLE}"
        ).df()
        metadata.setdefault(BACKTEST_KEY, {}).update(backtest_metadata(rows, reason))
    return metadata
