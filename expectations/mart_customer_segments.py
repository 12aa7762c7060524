"""customer_segments distributions: the Pareto tiers and lifecycle stages are all populated and plausible."""

from expectations._common import WARNING, Suite, SuiteContext, expect

ASSET = ("marts", "customer_segments")
TABLE = "marts.customer_segments"
# The columns the suite reads, as SQL over TABLE (dates as timestamps, codes normalised as staging does).
COLUMNS = {
    "value_tier": "value_tier",
    "lifecycle_stage": "lifecycle_stage",
    "is_tier_a": "cast(value_tier = 'A' as integer)",
    "has_revenue": "cast(value_tier <> 'none' as integer)",
}


def suite(context: SuiteContext) -> Suite:
    return Suite(
        name="mart_customer_segments",
        expectations=[
            expect.ExpectColumnDistinctValuesToContainSet(
                column="value_tier", value_set=["A", "B", "C"], severity=WARNING
            ),
            expect.ExpectColumnDistinctValuesToContainSet(
                column="lifecycle_stage", value_set=["new", "active", "at_risk", "churned"], severity=WARNING
            ),
            # Pareto: tier A (the customers making the top share of revenue) is a minority of customers.
            expect.ExpectColumnMeanToBeBetween(column="is_tier_a", min_value=0.001, max_value=0.5, severity=WARNING),
        ],
    )
