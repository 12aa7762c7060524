"""The README's mart contract is generated from the dbt yml and must not drift from it."""

from pathlib import Path

import yaml

from orchestration.lib.mart_contract import README, contract_markdown, contracted_marts, readme_with_contract


def test_readme_contract_matches_the_dbt_yml():
    current = README.read_text(encoding="utf-8")
    assert readme_with_contract(current, contracted_marts()) == current, (
        "README mart contract is stale: run `python -m orchestration.lib.mart_contract`"
    )


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
                "columns": [{"name": "key", "data_type": "varchar", "description": "The | key."}],
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
    assert "| `key` | varchar | The \\| key. |" in markdown
