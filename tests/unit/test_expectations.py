"""The GX suites catch what they should, with real GX validation on small frames."""

from datetime import date, datetime

import pandas as pd
import pytest

from orchestration.lib.quality import suite_modules, validate

AS_OF = date(2026, 6, 30)


@pytest.fixture(scope="module")
def suites():
    return {suite.name: suite for suite in suite_modules()}


def _outcomes(suites, name: str, frame: pd.DataFrame) -> dict:
    return {outcome.check_name: outcome for outcome in validate(frame, suites[name], AS_OF)}


def _orders(n: int, **overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(n)],
            "customer_id": ["C1"] * n,
            "order_date": [datetime(2026, 1, 1)] * n,
            "amount": [10.0] * n,
            "currency": ["USD"] * n,
            "status": ["completed"] * n,
            "updated_at": [datetime(2026, 1, 2)] * n,
        }
    )
    for column, values in overrides.items():
        frame.loc[: len(values) - 1, column] = values
    return frame


def test_clean_orders_pass_every_expectation(suites):
    outcomes = _outcomes(suites, "raw_orders", _orders(50))
    assert outcomes and all(o.passed for o in outcomes.values())


def test_negative_amounts_block_except_refunds(suites):
    refunds = _orders(50, amount=[-5.0] * 10, status=["refunded"] * 10)
    assert _outcomes(suites, "raw_orders", refunds)["gx_column_values_to_be_between__amount"].passed
    negative = _outcomes(suites, "raw_orders", _orders(50, amount=[-5.0] * 10))[
        "gx_column_values_to_be_between__amount"
    ]
    assert not negative.passed and negative.blocking
    assert negative.metadata["unexpected_count"] == 10
    assert negative.metadata["unexpected_sample"][0] == -5.0


def test_a_few_invalid_rows_within_the_tolerated_share_only_warn(suites):
    outcome = _outcomes(suites, "raw_orders", _orders(5000, amount=[-1.0]))["gx_column_values_to_be_between__amount"]
    assert not outcome.passed and not outcome.blocking
    assert outcome.metadata["unexpected_count"] == 1


def test_dates_outside_1990_to_the_day_after_as_of_block(suites):
    frame = _orders(20, order_date=[datetime(1989, 12, 31), datetime(2026, 7, 2)])
    outcome = _outcomes(suites, "raw_orders", frame)["gx_column_values_to_be_between__order_date"]
    assert not outcome.passed and outcome.blocking and outcome.metadata["unexpected_count"] == 2
    next_day = _orders(20, order_date=[datetime(2026, 7, 1, 23, 0)])
    assert _outcomes(suites, "raw_orders", next_day)["gx_column_values_to_be_between__order_date"].passed


def test_unknown_currencies_and_statuses_warn(suites):
    outcomes = _outcomes(suites, "raw_orders", _orders(20, currency=["XXX"], status=["lost"]))
    for name in ("gx_column_values_to_be_in_set__currency", "gx_column_values_to_be_in_set__status"):
        assert not outcomes[name].passed and not outcomes[name].blocking


def test_survey_scores_out_of_range_block(suites):
    frame = pd.DataFrame(
        {
            "response_id": ["R1", "R2", "R3"],
            "customer_id": ["C1"] * 3,
            "responded_at": [datetime(2026, 1, 1)] * 3,
            "nps_score": [0, 10, 11],
            "csat_score": [1, 5, 0],
        }
    )
    outcomes = _outcomes(suites, "raw_surveys", frame)
    assert not outcomes["gx_column_values_to_be_between__nps_score"].passed
    assert not outcomes["gx_column_values_to_be_between__csat_score"].passed
    assert outcomes["gx_column_values_to_be_between__nps_score"].metadata["unexpected_sample"] == [11]


def test_email_share_below_the_floor_blocks(suites):
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(10)],
            "email": ["a@b.com"] * 7 + ["not-an-email"] * 3,
            "phone": ["+86 138 0000 0000"] * 10,
            "created_at": [datetime(2025, 1, 1)] * 10,
            "updated_at": [datetime(2025, 1, 1)] * 10,
        }
    )
    outcome = _outcomes(suites, "raw_customers", frame)["gx_column_values_to_match_regex__email"]
    assert not outcome.passed and outcome.blocking


def test_no_rows_pass_with_a_note(suites):
    outcomes = validate(_orders(0), suites["raw_orders"], AS_OF)
    assert all(o.passed and o.metadata["rows_validated"] == 0 for o in outcomes)
