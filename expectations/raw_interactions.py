"""Interaction exports: ids present, dates plausible."""

from expectations._common import Suite, SuiteContext, expect, tolerated

ASSET = "raw_interactions"
TABLE = "raw.interactions"
# The columns the suite reads, as SQL over TABLE (dates as timestamps, codes normalised as staging does).
COLUMNS = {
    "interaction_id": "interaction_id",
    "customer_id": "customer_id",
    "occurred_at": "cast(occurred_at as timestamp)",
}


def suite(context: SuiteContext) -> Suite:
    return Suite(
        name="raw_interactions",
        expectations=[
            expect.ExpectColumnValuesToNotBeNull(column="interaction_id"),
            expect.ExpectColumnValuesToNotBeNull(column="customer_id"),
            expect.ExpectColumnValuesToBeBetween(
                column="occurred_at", min_value=context.earliest, max_value=context.latest, mostly=tolerated()
            ),
        ],
    )
