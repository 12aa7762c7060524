"""The README's generated sections (mart contract, settings) must not drift from their sources."""

from pathlib import Path

import yaml

from orchestration.lib.readme_sections import (
    DBT_PROJECT_FILE,
    README,
    contract_markdown,
    contracted_marts,
    readme_with_sections,
    settings_markdown,
)
from orchestration.lib.settings import dbt_vars


def test_readme_sections_match_their_sources():
    current = README.read_text(encoding="utf-8")
    assert readme_with_sections(current) == current, (
        "README is stale: run `python -m orchestration.lib.readme_sections`"
    )


def test_every_setting_is_in_the_settings_table():
    table = settings_markdown(DBT_PROJECT_FILE)
    for name in dbt_vars():
        assert f"| `{name}` |" in table, name


def test_every_contracted_column_is_typed_and_documented():
    for mart in contracted_marts():
        assert mart.grain.startswith("One row per"), mart.name
        for column in mart.columns:
            assert column.data_type, f"{mart.name}.{column.name} has no data_type"
            assert column.description, f"{mart.name}.{column.name} has no description"


def test_only_enforced_contracts_are_listed_and_grain_stops_at_the_first_clause(tmp_path: Path):
    models = {
        "models": [
            {
                "name": "contracted",
                "description": "One row per thing (see other.key: detail). More text.",
                "config": {"contract": {"enforced": True}},
                "columns": [
                    {"name": "key", "data_type": "varchar", "description": "The | key."},
                    {
                        "name": "tier",
                        "data_type": "varchar",
                        "description": "A or B.",
                        "constraints": [{"type": "not_null"}, {"type": "check", "expression": "tier in ('A', 'B')"}],
                    },
                ],
            },
            {"name": "uncontracted", "description": "One row per other thing.", "columns": []},
        ]
    }
    (tmp_path / "_x__models.yml").write_text(yaml.safe_dump(models), encoding="utf-8")
    marts = contracted_marts(tmp_path)
    assert [mart.name for mart in marts] == ["contracted"]
    assert marts[0].grain == "One row per thing (see other.key: detail)"
    markdown = contract_markdown(marts)
    assert "| `marts.contracted` | One row per thing (see other.key: detail) |" in markdown
    assert "| `key` | varchar |  | The \\| key. |" in markdown
    assert "| `tier` | varchar | not null; `tier in ('A', 'B')` | A or B. |" in markdown
