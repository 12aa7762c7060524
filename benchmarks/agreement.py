"""Does an RFM result (floor or pandas) agree row for row with the pipeline's marts?

A result is a Parquet file with one row per customer: anchor_customer_id (the smallest record id of the
customer, as identity resolution keys it), recency_days, frequency, monetary_cents, r_score, f_score,
m_score (null for customers without purchases) and value_tier (A/B/C/none). The pipeline's side is
marts.customer_rfm (purchasers) and marts.customer_segments (value tier of every customer) in the working
database; customer keys are md5('<profile>:<anchor record id>') there.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

COMPARED_COLUMNS = ("recency_days", "frequency", "monetary_cents", "r_score", "f_score", "m_score", "value_tier")
MAX_EXAMPLES = 5


@dataclass
class Agreement:
    customers_in_result: int
    customers_in_pipeline: int
    purchasers_in_result: int
    purchasers_in_pipeline: int
    only_in_result: int
    only_in_pipeline: int
    mismatches: dict[str, int] = field(default_factory=dict)  # column -> rows that differ
    examples: list[dict] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return (
            self.only_in_result == 0
            and self.only_in_pipeline == 0
            and self.purchasers_in_result == self.purchasers_in_pipeline
            and not any(self.mismatches.values())
        )

    def describe(self) -> str:
        if self.agrees:
            return f"agrees on {self.customers_in_result:,} customers ({self.purchasers_in_result:,} purchasers)"
        differing = ", ".join(f"{column} {count:,}" for column, count in self.mismatches.items() if count)
        return (
            f"DISAGREES: {self.only_in_result:,} customers only in the result, {self.only_in_pipeline:,} only in"
            f" the pipeline, purchasers {self.purchasers_in_result:,} vs {self.purchasers_in_pipeline:,};"
            f" differing rows: {differing or 'none'}; examples: {self.examples}"
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "agrees": self.agrees}


def compare_with_pipeline(result: Path, working_db: Path, source_profile: str = "generic") -> Agreement:
    """Full outer join of `result` and the pipeline's RFM and value tiers on the customer key."""
    with duckdb.connect() as conn:
        conn.execute(f"ATTACH '{working_db}' AS pipeline (READ_ONLY)")
        conn.execute(
            """
            CREATE TEMP TABLE compared AS
            WITH result AS (
                SELECT md5(? || ':' || anchor_customer_id) AS customer_key, *
                FROM read_parquet(?)
            ),
            pipeline AS (
                SELECT
                    segments.customer_key,
                    rfm.recency_days,
                    rfm.frequency,
                    CAST(rfm.monetary * 100 AS BIGINT) AS monetary_cents,
                    rfm.r_score,
                    rfm.f_score,
                    rfm.m_score,
                    segments.value_tier
                FROM pipeline.marts.customer_segments AS segments
                LEFT JOIN pipeline.marts.customer_rfm AS rfm USING (customer_key)
            )
            SELECT
                coalesce(result.customer_key, pipeline.customer_key) AS customer_key,
                result.customer_key IS NOT NULL AS in_result,
                pipeline.customer_key IS NOT NULL AS in_pipeline,
                result.anchor_customer_id,
                """
            + ",\n".join(
                f"result.{c} AS result_{c}, pipeline.{c} AS pipeline_{c},"
                f" result.{c} IS DISTINCT FROM pipeline.{c} AS differs_{c}"
                for c in COMPARED_COLUMNS
            )
            + """
            FROM result
            FULL OUTER JOIN pipeline ON result.customer_key = pipeline.customer_key
            """,
            [source_profile, str(result)],
        )
        counts = conn.execute(
            """
            SELECT
                count(*) FILTER (WHERE in_result),
                count(*) FILTER (WHERE in_pipeline),
                count(*) FILTER (WHERE in_result AND result_frequency IS NOT NULL),
                (SELECT count(*) FROM pipeline.marts.customer_rfm),
                count(*) FILTER (WHERE in_result AND NOT in_pipeline),
                count(*) FILTER (WHERE in_pipeline AND NOT in_result),
            """
            + ",\n".join(f"count(*) FILTER (WHERE in_result AND in_pipeline AND differs_{c})" for c in COMPARED_COLUMNS)
            + " FROM compared"
        ).fetchone()
        agreement = Agreement(
            *counts[:6], mismatches={c: int(n) for c, n in zip(COMPARED_COLUMNS, counts[6:], strict=True)}
        )
        if not agreement.agrees:
            differs = " OR ".join(f"differs_{c}" for c in COMPARED_COLUMNS)
            cursor = conn.execute(
                f"SELECT * FROM compared WHERE NOT (in_result AND in_pipeline) OR {differs} "
                f"ORDER BY customer_key LIMIT {MAX_EXAMPLES}"
            )
            names = [d[0] for d in cursor.description]
            agreement.examples = [
                {k: str(v) for k, v in zip(names, row, strict=True) if not k.startswith("differs_")}
                for row in cursor.fetchall()
            ]
    return agreement
