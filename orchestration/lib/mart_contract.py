"""The BI contract of the published marts, rendered from the dbt yml (the single source of truth).

`python -m orchestration.lib.mart_contract` refreshes the section of README.md between the markers; a
test fails when the README and the yml disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from orchestration.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT

MARTS_DIR = DBT_PROJECT_DIR / "models" / "marts"
README = PROJECT_ROOT / "README.md"
BEGIN = "<!-- mart-contract:begin (generated from the dbt yml by `python -m orchestration.lib.mart_contract`) -->"
END = "<!-- mart-contract:end -->"


@dataclass(frozen=True)
class MartColumn:
    name: str
    data_type: str
    description: str


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    columns: tuple[MartColumn, ...]

    @property
    def grain(self) -> str:
        """The description's opening clause (up to the first '.' or ':' outside parentheses): its grain."""
        depth = 0
        for position, char in enumerate(self.description):
            depth += {"(": 1, ")": -1}.get(char, 0)
            at_clause_end = position + 1 == len(self.description) or self.description[position + 1] == " "
            if depth == 0 and char in ".:" and at_clause_end:
                return self.description[:position]
        return self.description


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def contracted_marts(marts_dir: Path = MARTS_DIR) -> list[Mart]:
    """Every model under the marts folder with an enforced contract, in name order."""
    marts = []
    for path in sorted(marts_dir.rglob("_*__models.yml")):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            if not model.get("config", {}).get("contract", {}).get("enforced"):
                continue
            columns = tuple(
                MartColumn(column["name"], column.get("data_type", ""), _one_line(column.get("description")))
                for column in model.get("columns", [])
            )
            marts.append(Mart(model["name"], _one_line(model.get("description")), columns))
    return sorted(marts, key=lambda mart: mart.name)


def contract_markdown(marts: list[Mart]) -> str:
    lines = [
        "| mart | grain |",
        "|---|---|",
        *(f"| `marts.{mart.name}` | {mart.grain} |" for mart in marts),
        "",
    ]
    for mart in marts:
        lines += [
            f"<details><summary><code>marts.{mart.name}</code> ({len(mart.columns)} columns)</summary>",
            "",
            mart.description,
            "",
            "| column | type | meaning |",
            "|---|---|---|",
            *(f"| `{c.name}` | {c.data_type} | {c.description} |" for c in mart.columns),
            "",
            "</details>",
            "",
        ]
    return "\n".join(lines).rstrip("\n")


def readme_with_contract(readme_text: str, marts: list[Mart]) -> str:
    start, end = readme_text.index(BEGIN), readme_text.index(END)
    return readme_text[: start + len(BEGIN)] + "\n" + contract_markdown(marts) + "\n" + readme_text[end:]


def write_readme_contract(readme: Path = README) -> bool:
    """Refresh the README section; True when it changed."""
    current = readme.read_text(encoding="utf-8")
    updated = readme_with_contract(current, contracted_marts())
    if updated != current:
        readme.write_text(updated, encoding="utf-8")
    return updated != current


def main() -> int:
    changed = write_readme_contract()
    print("README.md mart contract " + ("updated" if changed else "already current"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
