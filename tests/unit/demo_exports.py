"""Reading demo exports back as a reader sees them (tests of clientele_demo share these)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

from clientele_demo import DemoManifest
from orchestration.lib.schema import load_profiles

END = date(2026, 3, 4)
CUSTOMERS = 1500
PROFILES = ("generic", "zoho", "fxiaoke")
CHINA_TIME = timezone(timedelta(hours=8))
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")


def read_records(path: Path, file_format: str, encoding: str) -> tuple[list[str], list[list[str]]]:
    """Headers and records exactly as a reader sees them (None/empty cells as '')."""
    if file_format == "xlsx":
        from python_calamine import CalamineWorkbook

        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
        cells = [["" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v)) for v in r] for r in rows]
        return cells[0], cells[1:]
    text = path.read_bytes().decode(encoding)
    if file_format == "jsonl":
        records = [json.loads(line) for line in text.splitlines()]
        headers = list(records[0])
        return headers, [["" if r[h] is None else str(r[h]) for h in headers] for r in records]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def by_header(headers: list[str], rows: list[list[str]], profile: str, entity: str) -> list[dict[str, str]]:
    """Rows of the right width as canonical column -> raw text."""
    header_map = load_profiles()[profile].entities[entity].header_to_column
    return [{header_map[h]: v for h, v in zip(headers, row, strict=True)} for row in rows if len(row) == len(headers)]


def load(out: Path, manifest: DemoManifest, name: str) -> tuple[list[str], list[list[str]]]:
    record = manifest.file(name)
    return read_records(out / name, record.file_format, record.encoding)


def file_named(manifest: DemoManifest, entity: str, purpose: str = "main") -> str:
    return next(f.name for f in manifest.files_for(entity) if f.purpose == purpose)


def records_of(out: Path, manifest: DemoManifest, entity: str, purpose: str = "main") -> list[dict[str, str]]:
    """The canonical records of the entity's file with that purpose (main, changed_records, ...)."""
    return by_header(*load(out, manifest, file_named(manifest, entity, purpose)), manifest.profile, entity)


def main_file(manifest: DemoManifest, entity: str) -> str:
    return file_named(manifest, entity)


def parses_as_date(text: str) -> bool:
    return parse_date(text) is not None


def parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            pass
    return None


def parse_time(text: str, profile: str) -> datetime:
    """A timestamp of the profile's exports as an aware datetime (generic: UTC; fxiaoke: China time)."""
    if profile == "zoho":
        return datetime.fromisoformat(text)
    if profile == "fxiaoke":
        return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=CHINA_TIME)
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def local_date(moment: datetime, profile: str) -> date:
    """The calendar day of a moment in the time zone the profile's exports use."""
    return moment.astimezone(UTC if profile == "generic" else CHINA_TIME).date()


def as_decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None


def phone_digits(text: str) -> str:
    return re.sub(r"\D", "", text)
