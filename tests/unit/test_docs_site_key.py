"""The published dbt docs site is rendered again only when what it shows changed."""

import json
from pathlib import Path

from orchestration.defs.publish import _docs_key


def _manifest(tmp_path: Path, name: str, **changes) -> Path:
    node = {
        "checksum": {"name": "sha256", "checksum": "abc"},
        "description": "Orders.",
        "columns": {"order_key": {"description": "Key."}},
        "depends_on": {"macros": ["macro.a", "macro.b"], "nodes": ["model.x", "model.y"]},
        "compiled_code": "select 1 -- as of 2025-06-30",
    } | changes
    path = tmp_path / name
    path.write_text(json.dumps({"nodes": {"model.clientele.orders": node}}), encoding="utf-8")
    return path


def test_a_build_that_called_other_macros_or_another_as_of_date_keeps_the_page(tmp_path):
    first = _docs_key(_manifest(tmp_path, "a.json"))
    incremental = _docs_key(
        _manifest(
            tmp_path,
            "b.json",
            depends_on={"macros": ["macro.c"], "nodes": ["model.y", "model.x"]},
            compiled_code="select 1 -- as of 2025-07-01",
        )
    )
    assert incremental == first


def test_a_changed_description_or_lineage_renders_it_again(tmp_path):
    first = _docs_key(_manifest(tmp_path, "a.json"))
    assert _docs_key(_manifest(tmp_path, "b.json", description="Orders, one row each.")) != first
    assert _docs_key(_manifest(tmp_path, "c.json", depends_on={"nodes": ["model.x"]})) != first
