"""Product catalogue exports: ids present, prices not negative."""

from expectations._common import Suite, SuiteContext, expect, tolerated

ASSET = "raw_products"
TABLE = "raw.products"
# The columns the suite reads, as SQL over TABLE (dates as timestamps, codes normalised as staging does).
COLUMNS = {
    "product_id": "product_id",
    "list_price": "cast(list_price as double)",
}


def suite(context: SuiteContext) -> Suite:
    return Suite(
        name="raw_products",
        expectations=[
            expect.ExpectColumnValuesToNotBeNull(column="product_id"),
            expect.ExpectColumnValuesToBeBetween(column="list_price", min_value=0, mostly=tolerated()),
        ],
    )
