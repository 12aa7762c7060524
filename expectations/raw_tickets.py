"""Support ticket exports: ids present, dates plausible and ordered, statuses known."""

from expectations._common import WARNING, Suite, SuiteContext, expect, tolerated, vocabulary

ASSET = "raw_tickets"
TABLE = "raw.tickets"
# The columns the suite reads, as SQL over TABLE (dates as timestamps, codes normalised as staging does).
COLUMNS = {
    "ticket_id": "ticket_id",
    "customer_id": "customer_id",
    "opened_at": "cast(opened_at as timestamp)",
    "resolved_at": "cast(resolved_at as timestamp)",
    "status": "lower(trim(status))",
}


def suite(context: SuiteContext) -> Suite:
    return Suite(
        name="raw_tickets",
        expectations=[
            expect.ExpectColumnValuesToNotBeNull(column="ticket_id"),
            expect.ExpectColumnValuesToNotBeNull(column="customer_id"),
            expect.ExpectColumnValuesToBeBetween(
                column="opened_at", min_value=context.earliest, max_value=context.latest, mostly=tolerated()
            ),
            expect.ExpectColumnValuesToBeBetween(
                column="resolved_at", min_value=context.earliest, max_value=context.latest, mostly=tolerated()
            ),
            expect.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="resolved_at",
                column_B="opened_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                severity=WARNING,
            ),
            expect.ExpectColumnValuesToBeInSet(
                column="status", value_set=list(vocabulary("tickets", "status")), severity=WARNING
            ),
        ],
    )
