"""Order line exports: ids present, quantities and amounts not negative."""

from expectations._common import WARNING, Suite, SuiteContext, expect

ASSET = "raw_order_lines"
TABLE = "raw.order_lines"
# The columns the suite reads, as SQL over TABLE (dates as timestamps, codes normalised as staging does).
COLUMNS = {
    "order_id": "order_id",
    "line_number": "line_number",
    "quantity": "cast(quantity as double)",
    "unit_price": "cast(unit_price as double)",
    "line_amount": "cast(line_amount as double)",
}


def suite(context: SuiteContext) -> Suite:
    return Suite(
        name="raw_order_lines",
        expectations=[
            expect.ExpectColumnValuesToNotBeNull(column="order_id"),
            expect.ExpectColumnValuesToNotBeNull(column="line_number"),
            expect.ExpectColumnValuesToBeBetween(column="quantity", min_value=0, severity=WARNING),
            expect.ExpectColumnValuesToBeBetween(column="unit_price", min_value=0, severity=WARNING),
            expect.ExpectColumnValuesToBeBetween(column="line_amount", min_value=0, severity=WARNING),
        ],
    )
