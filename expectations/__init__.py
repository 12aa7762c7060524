"""Great Expectations suites as code: export hygiene of every raw entity and distributions of the key marts.

Each module defines `ASSET` (the Dagster asset key path it checks), `TABLE` (the relation in the working
database) and `suite(context) -> gx.ExpectationSuite`. Severity is GX's own: `critical` (the default) blocks
the run, `warning` is shown but does not block. dbt tests own keys and relationships; nothing here repeats
them. `orchestration.lib.quality` turns each expectation into a Dagster asset check.
"""

SUITE_MODULES = (
    "raw_customers",
    "raw_orders",
    "raw_order_lines",
    "raw_products",
    "raw_interactions",
    "raw_tickets",
    "raw_surveys",
    "mart_customers",
    "mart_customer_segments",
    "mart_orders",
)
