"""The generated documentation sections (mart contract, settings, benchmark) must not drift from their sources."""

from pathlib import Path

import pytest
import yaml

from orchestration.lib.doc_sections import (
    DBT_PROJECT_FILE,
    SECTIONS,
    GeneratedSection,
    contract_markdown,
    contracted_marts,
    doc_blocks,
    refreshed_files,
    rendered,
    settings_markdown,
    write_doc_sections,
)
from orchestration.lib.settings import PROJECT_ROOT, dbt_vars


@pytest.mark.parametrize(
    "path", sorted({section.path for section in SECTIONS}), ids=lambda path: str(path.relative_to(PROJECT_ROOT))
)
def test_generated_sections_match_their_sources(path: Path):
    current, updated = refreshed_files()[path]
    assert updated == current, (
        f"{path.relative_to(PROJECT_ROOT)} is stale: run `python -m orchestration.lib.doc_sections`"
    )


def test_each_generated_section_lives_in_one_documentation_file_only():
    documents = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
    documents += [section.path for section in SECTIONS if section.path not in documents]
    for section in SECTIONS:
        name_marker = f"<!-- {section.name}:begin"
        holders = [doc for doc in documents if name_marker in doc.read_text(encoding="utf-8")]
        assert holders == [section.path], f"{section.name} is in {holders}, expected only in {section.path}"


def test_a_stale_section_is_rewritten_in_its_own_file_and_nowhere_else(tmp_path: Path):
    first, second = tmp_path / "first.md", tmp_path / "second.md"
    sections = (
        GeneratedSection("alpha", first, lambda: "new alpha"),
        GeneratedSection("beta", first, lambda: "new beta"),
        GeneratedSection("gamma", second, lambda: "new gamma"),
    )
    alpha, beta, gamma = (section.markers for section in sections)
    first.write_text(f"# First\n{alpha[0]}\nold\n{alpha[1]}\ntext\n{beta[0]}\nnew beta\n{beta[1]}\n", encoding="utf-8")
    second.write_text(f"# Second\n{gamma[0]}\nnew gamma\n{gamma[1]}\n", encoding="utf-8")
    second_before = second.read_text(encoding="utf-8")

    assert {path: current != updated for path, (current, updated) in refreshed_files(sections).items()} == {
        first: True,
        second: False,
    }
    assert write_doc_sections(sections) == [first]
    assert first.read_text(encoding="utf-8") == (
        f"# First\n{alpha[0]}\nnew alpha\n{alpha[1]}\ntext\n{beta[0]}\nnew beta\n{beta[1]}\n"
    )
    assert second.read_text(encoding="utf-8") == second_before
    assert write_doc_sections(sections) == []


def test_a_file_without_its_markers_is_an_error(tmp_path: Path):
    orphan = tmp_path / "orphan.md"
    orphan.write_text("# No markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"orphan\.md needs exactly one"):
        refreshed_files((GeneratedSection("alpha", orphan, lambda: "body"),))


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


def test_doc_references_render_from_the_docs_blocks_of_the_models_md_files(tmp_path: Path):
    (tmp_path / "marts").mkdir()
    (tmp_path / "_shared__docs.md").write_text(
        "{% docs key %}\nThe resolved\ncustomer.\n{% enddocs %}\n\n{%- docs tier -%}A or B.{%- enddocs -%}\n",
        encoding="utf-8",
    )
    models = {
        "models": [
            {
                "name": "contracted",
                "description": "One row per key.",
                "config": {"contract": {"enforced": True}},
                "columns": [
                    {"name": "key", "data_type": "varchar", "description": "{{ doc('key') }}"},
                    {"name": "tier", "data_type": "varchar", "description": 'Tier: {{doc("tier")}} (see key).'},
                ],
            }
        ]
    }
    (tmp_path / "marts" / "_x__models.yml").write_text(yaml.safe_dump(models), encoding="utf-8")
    (mart,) = contracted_marts(tmp_path / "marts", tmp_path)
    assert [column.description for column in mart.columns] == ["The resolved customer.", "Tier: A or B. (see key)."]
    with pytest.raises(ValueError, match="no docs block 'missing'"):
        rendered("{{ doc('missing') }}", doc_blocks(tmp_path))


def test_no_mart_description_is_left_as_an_unrendered_doc_reference():
    for mart in contracted_marts():
        for column in mart.columns:
            assert "{{" not in column.description and "doc(" not in column.description, f"{mart.name}.{column.name}"
