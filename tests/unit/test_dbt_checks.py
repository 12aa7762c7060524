"""What a dbt test's Dagster check says, in words."""

from orchestration.lib.dbt_checks import describe_dbt_test


def test_a_combined_not_null_test_names_every_column_and_blocks():
    test = {
        "test_metadata": {"name": "not_null_columns", "kwargs": {"columns": ["order_key", "order_date"]}},
        "config": {"severity": "ERROR"},
    }
    description = describe_dbt_test(test)
    assert "order_key, order_date: never null" in description
    assert "stops the run before the publication" in description


def test_a_warning_test_says_it_does_not_block():
    test = {
        "test_metadata": {"name": "not_null", "kwargs": {"column_name": "amount"}},
        "config": {"severity": "warn"},
    }
    assert describe_dbt_test(test).endswith("Severity warn: reported, does not block.")
