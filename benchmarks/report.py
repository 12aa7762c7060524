"""Benchmark results: the machine, derived costs (fixed overhead, marginal cost per million orders), markdown."""

from __future__ import annotations

import itertools
import os
import platform
import sys
from importlib import metadata

from benchmarks.stages import STAGES

MILLION = 1_000_000
GIB = 1024**3

# The targets of the nightly-cost issue (2 cores, 24 GB); reported, never asserted. They replace the first
# benchmark issue's (60 s end to end, marginal cost 3x the floor), which stay in the table as "reference" rows.
TARGET_NIGHTLY_SHARE = 0.25
TARGET_FULL_BUILD_LARGE_S = 200.0
TARGET_PEAK_RSS_BYTES = 6 * 10**9  # "6 GB"
TARGET_FIXED_OVERHEAD_S = 30.0
REFERENCE_MARGINAL_VS_FLOOR = 3.0
REFERENCE_CLV_1M_CUSTOMERS_S = 10.0

CONTENDERS = ("pipeline", "floor", "pandas", "load_floor")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_bytes() -> int:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_description() -> dict:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(_memory_bytes() / GIB, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "duckdb": _version("duckdb"),
        "dbt_core": _version("dbt-core"),
        "dbt_duckdb": _version("dbt-duckdb"),
        "dagster": _version("dagster"),
        "pandas": _version("pandas"),
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


def _slope(points: list[tuple[int, float]]) -> float | None:
    """Seconds per million orders between the two largest sizes measured."""
    if len(points) < 2:
        return None
    (x0, y0), (x1, y1) = sorted(points)[-2:]
    return (y1 - y0) / (x1 - x0) * MILLION if x1 != x0 else None


def _series(sizes: dict, key: str) -> list[tuple[int, float]]:
    points = []
    for result in sizes.values():
        value = result.get(key, {}) or {}
        if value.get("ok") and result.get("orders"):
            points.append((result["orders"], value["wall_seconds"]))
    return points


def derive(sizes: dict) -> dict:
    """Fixed overhead (intercept at the smallest size) and marginal seconds per million orders, per contender."""
    derived = {}
    for contender in CONTENDERS:
        points = _series(sizes, contender)
        slope = _slope(points)
        all_slopes = [(y1 - y0) / (x1 - x0) * MILLION for (x0, y0), (x1, y1) in itertools.pairwise(sorted(points))]
        smallest = min(points) if points else None
        fixed = None
        if smallest and all_slopes:
            fixed = smallest[1] - all_slopes[0] * smallest[0] / MILLION
        derived[contender] = {
            "marginal_seconds_per_million_orders": slope,
            "marginal_by_interval": all_slopes,
            "fixed_overhead_seconds": fixed,
            "smallest_size_seconds": smallest[1] if smallest else None,
        }
    pipeline, floor = derived["pipeline"], derived["floor"]
    if pipeline["marginal_seconds_per_million_orders"] and floor["marginal_seconds_per_million_orders"]:
        derived["pipeline_marginal_vs_floor"] = (
            pipeline["marginal_seconds_per_million_orders"] / floor["marginal_seconds_per_million_orders"]
        )
    return derived


def _pipeline_seconds(result: dict) -> float | None:
    pipeline = result.get("pipeline") or {}
    return pipeline.get("wall_seconds") if pipeline.get("ok") else None


def targets(sizes: dict, derived: dict) -> list[dict]:
    """Each target with the measured value and whether it is met (None = not measured)."""
    large = sizes.get("large", {})
    peaks = [r["pipeline"]["peak_rss_bytes"] / GIB for r in sizes.values() if r.get("pipeline")]
    nights = {size: sizes.get(size, {}).get("nightly") or {} for size in ("large", "medium", "small")}
    nightly = next(
        ((size, night["share_of_full_build"]) for size, night in nights.items()
         if night.get("share_of_full_build") is not None and night["pipeline"].get("ok")),
        (None, None),
    )  # fmt: skip
    checks = [
        (f"1% nightly re-run vs full build ({nightly[0] or '-'})", nightly[1], TARGET_NIGHTLY_SHARE, "share", True),
        ("full build, 10M orders", _pipeline_seconds(large), TARGET_FULL_BUILD_LARGE_S, "s", True),
        ("peak RSS (largest size run)", max(peaks) if peaks else None, TARGET_PEAK_RSS_BYTES / GIB, "GiB", True),
        ("fixed overhead (intercept at the smallest size)", derived["pipeline"]["fixed_overhead_seconds"],
         TARGET_FIXED_OVERHEAD_S, "s", True),
        ("reference: marginal cost per 1M orders vs floor", derived.get("pipeline_marginal_vs_floor"),
         REFERENCE_MARGINAL_VS_FLOOR, "x", True),
        ("reference: CLV fit on 1M customers", (large.get("stages") or {}).get("stages", {}).get("clv"),
         REFERENCE_CLV_1M_CUSTOMERS_S, "s", False),
    ]  # fmt: skip
    return [
        {
            "target": name,
            "measured": measured,
            "limit": round(limit, 2),
            "unit": unit,
            "met": None if measured is None else (measured <= limit if inclusive else measured < limit),
        }
        for name, measured, limit, unit, inclusive in checks
    ]


def _seconds(value) -> str:
    return "–" if value is None else f"{value:,.1f} s"


def _measured(entry: dict | None) -> str:
    if not entry:
        return "–"
    text = f"{entry['wall_seconds']:,.1f} s / {entry['peak_rss_bytes'] / GIB:.2f} GiB"
    return text if entry.get("ok") else f"FAILED ({text})"


def markdown(results: dict) -> str:
    machine = results["machine"]
    sizes = results["sizes"]
    lines = [
        "# Clientele benchmark",
        "",
        f"Run {results['finished_at']} on {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB RAM"
        f" ({machine['os']}); Python {machine['python']}, DuckDB {machine['duckdb']}, dbt-core {machine['dbt_core']},"
        f" dbt-duckdb {machine['dbt_duckdb']}, Dagster {machine['dagster']}, pandas {machine['pandas']}."
        f" Load average at start: {machine['load_average_at_start']}.",
        "",
        "`make bench` (`python -m benchmarks.run`): demo exports in the generic profile, `clientele run` on a fresh"
        " warehouse and a new `DAGSTER_HOME` (its databases created and dbt parsed beforehand, as a nightly run finds"
        " them; process start, imports and Dagster start included), stages from Dagster's event log and dbt's"
        " run_results.json; peak RSS summed over the process tree. Floor = `benchmarks/floor.sql` in DuckDB,"
        " pandas = `benchmarks/pandas_rfm.py`; both checked row for row against `marts.customer_rfm` and the"
        " value tiers of `marts.customer_segments`. Load floor = `benchmarks/load_floor.py`: every CSV and JSON Lines"
        " export copied into a new DuckDB file as DuckDB's readers detect it, nothing else (the least any"
        " pipeline that keeps the raw rows pays).",
        "",
        "| size | orders | pipeline total | "
        + " | ".join(STAGES)
        + " | peak RSS | orders/s | floor (time / RSS) | pandas (time / RSS) | load floor (time / RSS) | agree"
        + " | nightly 1% |",
        "|" + "---|" * (len(STAGES) + 10),
    ]
    for size, result in sizes.items():
        pipeline = result.get("pipeline") or {}
        stages = (result.get("stages") or {}).get("stages", {})
        nightly = result.get("nightly") or {}
        agree = result.get("agreement") or {}
        agreement = (
            " ".join(f"{name}:{'yes' if outcome.get('agrees') else 'NO'}" for name, outcome in agree.items()) or "–"
        )
        nightly_text = "–"
        if nightly.get("pipeline"):
            share = nightly.get("share_of_full_build")
            nightly_text = f"{nightly['pipeline']['wall_seconds']:,.1f} s" + (f" ({share:.0%})" if share else "")
            nightly_text = nightly_text if nightly["pipeline"].get("ok") else f"FAILED ({nightly_text})"
        lines.append(
            f"| {size} | {result.get('orders', 0):,} | "
            + ("" if pipeline.get("ok") else "FAILED ")
            + f"{_seconds(pipeline.get('wall_seconds'))} | "
            + " | ".join(_seconds(stages.get(stage)) for stage in STAGES)
            + f" | {pipeline.get('peak_rss_bytes', 0) / GIB:.2f} GiB"
            + f" | {result.get('orders_per_second', 0):,.0f}"
            + f" | {_measured(result.get('floor'))} | {_measured(result.get('pandas'))}"
            + f" | {_measured(result.get('load_floor'))}"
            + f" | {agreement} | {nightly_text} |"
        )
    derived = results["derived"]
    lines += [
        "",
        "| contender | fixed overhead (intercept at smallest size) | marginal s per 1M orders (largest interval)"
        " | per interval |",
        "|---|---|---|---|",
    ]
    for contender in CONTENDERS:
        d = derived[contender]
        per = ", ".join(f"{s:,.1f}" for s in d["marginal_by_interval"]) or "–"
        lines.append(
            f"| {contender} | {_seconds(d['fixed_overhead_seconds'])}"
            f" | {_seconds(d['marginal_seconds_per_million_orders'])} | {per} |"
        )
    lines += ["", "| target | measured | limit | met |", "|---|---|---|---|"]
    for row in results["targets"]:
        measured = "–" if row["measured"] is None else f"{row['measured']:,.2f} {row['unit']}"
        met = {True: "yes", False: "**no**", None: "not measured"}[row["met"]]
        lines.append(f"| {row['target']} | {measured} | {row['limit']} {row['unit']} | {met} |")
    lines += [
        "",
        "Stages: startup = process start to run start (imports, dbt manifest, definitions, run creation); checks ="
        " quality-check steps + dbt tests; dbt = dbt step minus tests and CLV (seeds, SQL models, dbt start, parse,"
        " event handling); clv = dbt Python models; other = gaps between steps and teardown.",
        "",
    ]
    return "\n".join(lines)
