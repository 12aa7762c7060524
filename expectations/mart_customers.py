"""customers mart distributions: most customers are placed on the map."""

from expectations._common import WARNING, Suite, SuiteContext, expect

ASSET = ("marts", "customers")
TABLE = "marts.customers"
# The columns the suite reads, as SQL over TABLE (dates as timestamps, codes normalised as staging does).
COLUMNS = {
    "country_code": "country_code",
    "city_tier": "city_tier",
}


def suite(context: SuiteContext) -> Suite:
    return Suite(
        name="mart_customers",
        expectations=[
            expect.ExpectColumnValuesToNotBeNull(column="country_code", mostly=0.5, severity=WARNING),
            expect.ExpectColumnValuesToNotBeInSet(
                column="city_tier", value_set=["unknown"], mostly=0.5, severity=WARNING
            ),
        ],
    )
