"""orders mart distributions: most orders are completed and carry revenue."""

from expectations._common import WARNING, Suite, SuiteContext, expect

ASSET = ("marts", "orders")
TABLE = "marts.orders"
# The columns the suite reads, as SQL over TABLE (dates as timestamps, codes normalised as staging does).
COLUMNS = {
    "is_completed": "cast(is_completed as integer)",
    "net_amount": "cast(net_amount as double)",
}


def suite(context: SuiteContext) -> Suite:
    return Suite(
        name="mart_orders",
        expectations=[
            expect.ExpectColumnMeanToBeBetween(column="is_completed", min_value=0.5, max_value=1, severity=WARNING),
            expect.ExpectColumnMeanToBeBetween(column="net_amount", min_value=0, strict_min=True, severity=WARNING),
        ],
    )
