"""Survey exports: ids present, NPS 0-10, CSAT 1-5, dates plausible."""

from expectations._common import Suite, SuiteContext, expect, tolerated

ASSET = "raw_surveys"
TABLE = "raw.surveys"
# The columns the suite reads, as SQL over TABLE (dates as timestamps, codes normalised as staging does).
COLUMNS = {
    "response_id": "response_id",
    "customer_id": "customer_id",
    "responded_at": "cast(responded_at as timestamp)",
    "nps_score": "nps_score",
    "csat_score": "csat_score",
}


def suite(context: SuiteContext) -> Suite:
    return Suite(
        name="raw_surveys",
        expectations=[
            expect.ExpectColumnValuesToNotBeNull(column="response_id"),
            expect.ExpectColumnValuesToNotBeNull(column="customer_id"),
            expect.ExpectColumnValuesToBeBetween(column="nps_score", min_value=0, max_value=10, mostly=tolerated()),
            expect.ExpectColumnValuesToBeBetween(column="csat_score", min_value=1, max_value=5, mostly=tolerated()),
            expect.ExpectColumnValuesToBeBetween(
                column="responded_at", min_value=context.earliest, max_value=context.latest, mostly=tolerated()
            ),
        ],
    )
