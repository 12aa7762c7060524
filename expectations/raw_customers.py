"""Customer exports: ids present, contact details mostly valid, dates plausible."""

from expectations._common import EMAIL_PATTERN, PHONE_PATTERN, Suite, SuiteContext, expect, setting, tolerated

ASSET = "raw_customers"
TABLE = "raw.customers"
# The columns the suite reads, as SQL over TABLE (dates as timestamps, codes normalised as staging does).
COLUMNS = {
    "customer_id": "customer_id",
    "email": "trim(email)",
    "phone": "trim(phone)",
    "created_at": "cast(created_at as timestamp)",
    "updated_at": "cast(updated_at as timestamp)",
}


def suite(context: SuiteContext) -> Suite:
    return Suite(
        name="raw_customers",
        expectations=[
            expect.ExpectColumnValuesToNotBeNull(column="customer_id"),
            expect.ExpectColumnValuesToMatchRegex(
                column="email", regex=EMAIL_PATTERN, mostly=float(setting("quality_min_valid_email_share"))
            ),
            expect.ExpectColumnValuesToMatchRegex(
                column="phone", regex=PHONE_PATTERN, mostly=float(setting("quality_min_valid_phone_share"))
            ),
            expect.ExpectColumnValuesToBeBetween(
                column="created_at", min_value=context.earliest, max_value=context.latest, mostly=tolerated()
            ),
            expect.ExpectColumnValuesToBeBetween(
                column="updated_at", min_value=context.earliest, max_value=context.latest, mostly=tolerated()
            ),
        ],
    )
