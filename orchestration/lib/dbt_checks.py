"""What each dbt test checks, in words, for the Dagster asset check it becomes: the rule with its bounds,
values or columns, and whether a failure blocks the publication."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SINGULAR_COMMENT = re.compile(r"\{#-?\s*(.*?)\s*-?#\}", re.DOTALL)
REF = re.compile(r"ref\(['\"]([^'\"]+)['\"]\)")


def _ref_name(text: str) -> str:
    found = REF.search(text or "")
    return found.group(1) if found else str(text)


def _rule(test: Mapping[str, Any]) -> str:
    metadata = test.get("test_metadata") or {}
    name = metadata.get("name")
    kwargs = metadata.get("kwargs") or {}
    column = kwargs.get("column_name") or test.get("column_name")
    if name == "not_null":
        return f"{column} is never null"
    if name == "not_null_columns":
        return f"{', '.join(kwargs.get('columns', []))}: never null"
    if name == "unique":
        return f"{column} is unique"
    if name == "accepted_values":
        return f"{column} is one of: {', '.join(str(v) for v in kwargs.get('values', []))}"
    if name == "relationships":
        return f"every {column} exists in {_ref_name(kwargs.get('to', ''))}.{kwargs.get('field')}"
    if name == "accepted_range":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        bounds = " and ".join(
            part for part in (f">= {low}" if low is not None else "", f"<= {high}" if high is not None else "") if part
        )
        return f"{column} is {bounds}"
    if name == "unique_combination_of_columns":
        return f"({', '.join(kwargs.get('combination_of_columns', []))}) is unique"
    if name == "expression_is_true":
        return f"{kwargs.get('expression')} holds for every row"
    if name:
        arguments = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k not in ("model", "column_name"))
        return f"{name}({arguments})" if arguments else name
    comment = SINGULAR_COMMENT.search(test.get("raw_code") or "")
    return " ".join(comment.group(1).split()) if comment else test.get("name", "singular test")


def describe_dbt_test(test: Mapping[str, Any]) -> str:
    """e.g. "dbt test: order_status is one of: completed, cancelled, refunded. Severity warn: reported, does not
    block." from a test node of the manifest."""
    config = test.get("config") or {}
    severity = str(config.get("severity", "error")).lower()
    text = test.get("description") or _rule(test)
    if config.get("where"):
        text += f" (rows where {config['where']})"
    consequence = (
        "Severity error: a failure stops the run before the publication."
        if severity == "error"
        else "Severity warn: reported, does not block."
    )
    return f"dbt test: {text}. {consequence}"
