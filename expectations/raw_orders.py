"""Order exports: ids present, amounts not negative except refunds, dates, currencies and statuses known."""

from expectations._common import WARNING, Suite, SuiteContext, expect, fx_currencies, tolerated, vocabulary

ASSET = "raw_orders"
TABLE = "raw.orders"
# The columns the suite reads, as SQL over TABLE (dates as timestamps, codes normalised as staging does).
COLUMNS = {
    "order_id": "order_id",
    "customer_id": "customer_id",
    "order_date": "cast(order_date as timestamp)",
    "amount": "cast(amount as double)",
    "currency": "upper(trim(currency))",
    "status": "lower(trim(status))",
    "updated_at": "cast(updated_at as timestamp)",
}


def suite(context: SuiteContext) -> Suite:
    return Suite(
        name="raw_orders",
        expectations=[
            expect.ExpectColumnValuesToNotBeNull(column="order_id"),
            expect.ExpectColumnValuesToNotBeNull(column="customer_id"),
            expect.ExpectColumnValuesToBeBetween(
                column="amount",
                min_value=0,
                row_condition='status != "refunded"',
                condition_parser="pandas",
                mostly=tolerated(),
            ),
            expect.ExpectColumnValuesToBeBetween(
                column="order_date", min_value=context.earliest, max_value=context.latest, mostly=tolerated()
            ),
            expect.ExpectColumnValuesToBeBetween(
                column="updated_at", min_value=context.earliest, max_value=context.latest, mostly=tolerated()
            ),
            expect.ExpectColumnValuesToBeInSet(column="currency", value_set=list(fx_currencies()), severity=WARNING),
            expect.ExpectColumnValuesToBeInSet(
                column="status", value_set=list(vocabulary("orders", "status")), severity=WARNING
            ),
        ],
    )
