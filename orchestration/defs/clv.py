"""Customer lifetime value: BG/NBD + Gamma-Gamma fitted every run between the dbt intermediate and mart layers."""

import dagster as dg
import pandas as pd

from orchestration.defs.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.lib.clv import METHOD_HISTORICAL, score_customers
from orchestration.lib.run_tags import as_of_for
from orchestration.lib.settings import setting

CALIBRATION_MODEL = "int_customers_summarized_for_clv"
CLV_SCHEMA = "clv"
SCORES_KEY = dg.AssetKey("clv_scores")
FITS_KEY = dg.AssetKey("clv_fits")
FALLBACK_CHECK = "clv_models_used"
FIT_DTYPES = {
    "model": "string",
    "parameter": "string",
    "value": "float64",
    "log_likelihood": "float64",
    "n_customers": "int64",
    "converged": "bool",
}


def _write_table(conn, table: str, frame: pd.DataFrame) -> None:
    conn.register("_clv_frame", frame)
    try:
        conn.execute(f"CREATE OR REPLACE TABLE {CLV_SCHEMA}.{table} AS SELECT * FROM _clv_frame")
    finally:
        conn.unregister("_clv_frame")


def _parameter_markdown(fits: pd.DataFrame) -> str:
    if fits.empty:
        return "no model fitted (historical estimate used)"
    rows = "\n".join(
        f"| {r.model} | {r.parameter} | {r.value:.6g} | {r.log_likelihood:.6g} | {r.n_customers:,} | {r.converged} |"
        for r in fits.itertuples()
    )
    return "| model | parameter | value | log-likelihood | customers | converged |\n|---|---|---|---|---|---|\n" + rows


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            SCORES_KEY,
            deps=[CALIBRATION_MODEL],
            description="Per-customer CLV as of the run date in `clv.scores`: P(alive), expected purchases in "
            "30/90/365 days, expected spend per purchase, discounted CLV over the horizon, clv_tier and "
            "clv_method (bg_nbd_gamma_gamma, or historical when the models cannot be trusted).",
            kinds={"python", "duckdb"},
            owners=["team:data-science"],
            group_name="clv",
        ),
        dg.AssetSpec(
            FITS_KEY,
            deps=[CALIBRATION_MODEL],
            description="Fitted BG/NBD (r, alpha in days, a, b) and Gamma-Gamma (p, q, v) parameters in "
            "`clv.fits`, with log-likelihood, customers and convergence.",
            kinds={"python", "duckdb"},
            owners=["team:data-science"],
            group_name="clv",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            FALLBACK_CHECK,
            asset=SCORES_KEY,
            description="Warns when CLV fell back to the historical estimate (too little data, degenerate data "
            "or a fit that did not converge).",
        )
    ],
    pool=WAREHOUSE_POOL,
)
def customer_lifetime_value(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    as_of = as_of_for(context)
    with warehouse.connection(context) as conn:
        summary = conn.execute(f"SELECT * FROM intermediate.{CALIBRATION_MODEL}").to_arrow_table()
        result = score_customers(
            summary,
            as_of,
            horizon_months=int(setting("clv_horizon_months")),
            monthly_discount_rate=float(setting("clv_monthly_discount_rate")),
            min_customers=int(setting("clv_min_customers")),
            min_repeat_customers=int(setting("clv_min_repeat_customers")),
        )
        scores = result.scores.assign(as_of_date=as_of)
        fits = result.fits.astype(FIT_DTYPES).assign(
            as_of_date=as_of, fitted_at=pd.Timestamp.now(tz="UTC").tz_localize(None)
        )
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {CLV_SCHEMA}")
        _write_table(conn, "scores", scores)
        _write_table(conn, "fits", fits)
    methods = scores["clv_method"].value_counts().to_dict()
    yield dg.MaterializeResult(
        asset_key=SCORES_KEY,
        metadata={
            "dagster/row_count": len(scores),
            "as_of_date": as_of.isoformat(),
            "method": result.method,
            "customers_by_method": dg.MetadataValue.json({str(k): int(v) for k, v in methods.items()}),
            "total_clv": float(scores["clv"].sum()) if len(scores) else 0.0,
            "fit_seconds": round(result.timings.get("total", 0.0), 3),
            "warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in result.warnings) or "none"),
        },
    )
    parameters = {f"{r.model}.{r.parameter}": float(r.value) for r in fits.itertuples()}
    yield dg.MaterializeResult(
        asset_key=FITS_KEY,
        metadata={
            "dagster/row_count": len(fits),
            "parameters": dg.MetadataValue.md(_parameter_markdown(fits)),
            **{name: round(value, 6) for name, value in parameters.items()},
            **{f"{m}.log_likelihood": float(g["log_likelihood"].iloc[0]) for m, g in fits.groupby("model")},
            **{f"{m}.converged": bool(g["converged"].iloc[0]) for m, g in fits.groupby("model")},
            "timings_seconds": dg.MetadataValue.json({k: round(v, 3) for k, v in result.timings.items()}),
        },
    )
    yield dg.AssetCheckResult(
        asset_key=SCORES_KEY,
        check_name=FALLBACK_CHECK,
        passed=result.method != METHOD_HISTORICAL,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "method": result.method,
            "warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in result.warnings) or "none"),
        },
    )
