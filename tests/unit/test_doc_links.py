"""Every relative link in the README and the documentation points at a file that exists, and a link to a heading
of a markdown file at a heading that exists there (GitHub's anchors), so moving a section cannot strand a link."""

import re
from pathlib import Path

import pytest

from orchestration.lib.settings import PROJECT_ROOT

DOCUMENTS = sorted(
    [PROJECT_ROOT / "README.md", *(PROJECT_ROOT / "docs").glob("*.md"), PROJECT_ROOT / "benchmarks" / "README.md"]
)
FENCED_BLOCK = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _prose(text: str) -> str:
    """The text without code: a bracket in a mermaid diagram or a code span is no link."""
    return INLINE_CODE.sub("", FENCED_BLOCK.sub("", text))


def _anchors(markdown: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped (letters of any script, digits, _ and - kept),
    spaces to hyphens."""
    text = FENCED_BLOCK.sub("", markdown.read_text(encoding="utf-8"))
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-") for heading in headings}


def local_links(document: Path) -> list[str]:
    return [
        target for target in LINK.findall(_prose(document.read_text(encoding="utf-8"))) if not URL_SCHEME.match(target)
    ]


def broken_links(document: Path) -> list[str]:
    broken = []
    for target in local_links(document):
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    return broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(PROJECT_ROOT)))
def test_relative_links_resolve(document: Path):
    assert broken_links(document) == []


def test_the_readme_links_every_document():
    linked = {(PROJECT_ROOT / target.partition("#")[0]).resolve() for target in local_links(PROJECT_ROOT / "README.md")}
    assert {path.resolve() for path in DOCUMENTS} - {(PROJECT_ROOT / "README.md").resolve()} <= linked


def test_a_broken_link_or_anchor_is_reported_and_code_is_not_a_link(tmp_path: Path):
    (tmp_path / "other.md").write_text("# Other\n\n## The `backtest` in every run\n", encoding="utf-8")
    document = tmp_path / "index.md"
    document.write_text(
        "# Index\n\n[ok](other.md#the-backtest-in-every-run) [self](#index) [web](https://example.com/x.md)\n"
        "[gone](missing.md) [bad anchor](other.md#nowhere) `[code](missing.md)`\n\n"
        "```mermaid\nA[box](missing.md)\n```\n",
        encoding="utf-8",
    )
    assert broken_links(document) == ["missing.md: no such file", "other.md#nowhere: no heading #nowhere in other.md"]
