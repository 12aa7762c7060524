"""Find export files in the inbox and recognise each: format, encoding, delimiter, CRM profile, entity."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestration.lib.ingest.errors import IngestError
from orchestration.lib.schema import VendorProfile, canonical_schema, load_profiles

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITER_CANDIDATES = (",", "\t", ";", "|")
ENCODING_SAMPLE_BYTES = 4 << 20
ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class DetectedFile:
    """One recognised export file, as scanned. Plain values so it serialises between Dagster steps."""

    path: str
    relative_name: str
    file_format: str  # csv | jsonl | xlsx
    encoding: str  # utf-8 | utf-8-sig | gb18030 | xlsx
    delimiter: str | None
    headers: tuple[str, ...]
    profile: str
    entity: str
    column_positions: tuple[tuple[str, int], ...]  # canonical column -> header position
    size: int
    mtime_ns: int
    file_hash: str

    def to_dict(self) -> dict:
        return asdict(self)


def is_ignored(path: Path) -> bool:
    """Names starting with `_` or `.` (manifests, archives, editor files) are not exports."""
    return path.name.startswith(("_", "."))


def list_export_files(inbox: Path) -> list[Path]:
    """Every candidate export under the inbox, sorted; refuses anything that points outside it."""
    inbox = inbox.resolve()
    if not inbox.is_dir():
        raise IngestError(inbox, "inbox directory does not exist")
    found = []
    for path in sorted(inbox.rglob("*")):
        relative_parts = path.relative_to(inbox).parts
        if any(part.startswith(("_", ".")) for part in relative_parts):
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(inbox):
            raise IngestError(path, f"symbolic link points outside the inbox ({path.resolve()}); refusing it")
        if path.is_dir():
            continue
        found.append(path)
    return found


def sniff_format(path: Path) -> str:
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if suffix in XLSX_SUFFIXES:
        if magic != ZIP_MAGIC:
            raise IngestError(path, "not a valid XLSX workbook (an .xlsx file must be a zip archive)")
        return "xlsx"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise IngestError(
        path,
        f"unsupported file type {suffix or '(no extension)'}; expected one of "
        f"{', '.join(sorted(CSV_SUFFIXES | JSONL_SUFFIXES | XLSX_SUFFIXES))}",
    )


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or GB18030, decided from the bytes, never from a declaration."""
    with open(path, "rb") as fh:
        sample = fh.read(ENCODING_SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise IngestError(path, "UTF-16 text is not supported; export as UTF-8 or GB18030")
    if not sample:
        raise IngestError(path, "file is empty (no header row)")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=False)
        return "gb18030"
    except UnicodeDecodeError:
        # Neither decodes cleanly: treat as UTF-8 so the undecodable rows are quarantined one by one.
        return "utf-8"


def _first_line(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        line = fh.readline()
        while line and not line.strip():
            line = fh.readline()
    return line


def read_csv_header(path: Path, encoding: str) -> tuple[str, tuple[str, ...]]:
    line = _first_line(path, encoding)
    if not line.strip():
        raise IngestError(path, "file is empty (no header row)")
    delimiter = max(DELIMITER_CANDIDATES, key=line.count)
    if line.count(delimiter) == 0:
        delimiter = ","
    headers = next(csv.reader(io.StringIO(line), delimiter=delimiter))
    return delimiter, tuple(headers)


def read_jsonl_header(path: Path, encoding: str) -> tuple[str, ...]:
    line = _first_line(path, encoding)
    if not line.strip():
        raise IngestError(path, "file is empty (no JSON record)")
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise IngestError(path, f"first record is not valid JSON ({exc.msg})", row=1) from exc
    if not isinstance(record, dict):
        raise IngestError(path, "first record is not a JSON object", row=1)
    return tuple(record.keys())


def read_xlsx_header(path: Path) -> tuple[str, ...]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        first_row = next(iter(sheet.iter_rows()), None)
    except Exception as exc:  # calamine raises its own error types for corrupt workbooks
        raise IngestError(path, f"cannot read XLSX workbook: {exc}") from exc
    if not first_row or not any(str(v).strip() for v in first_row):
        raise IngestError(path, "first worksheet is empty (no header row)")
    return tuple("" if v is None else str(v) for v in first_row)


def _normalise_header(header: str) -> str:
    return header.replace("\ufeff", "").strip().casefold()


def match_profile(
    path: Path, headers: tuple[str, ...], profiles: dict[str, VendorProfile] | None = None
) -> tuple[str, str, tuple[tuple[str, int], ...]]:
    """(profile, entity, canonical column -> position) for the best-matching header map.

    A candidate must contain every required canonical column; among candidates the one that explains
    the largest share of the file's headers wins. No candidate: the error lists what the closest misses.
    """
    profiles = profiles if profiles is not None else load_profiles()
    schema = canonical_schema()
    normalised = [_normalise_header(h) for h in headers]
    candidates = []
    closest = None
    for profile in profiles.values():
        for entity, entity_profile in profile.entities.items():
            lookup = {_normalise_header(k): v for k, v in entity_profile.header_to_column.items()}
            positions: dict[str, int] = {}
            for position, header in enumerate(normalised):
                column = lookup.get(header)
                if column is not None and column not in positions:
                    positions[column] = position
            required = [c.name for c in schema[entity] if c.required]
            missing = [c for c in required if c not in positions]
            score = (len(positions) / max(len(headers), 1), len(positions))
            if not missing:
                candidates.append((score, profile.name, entity, positions))
            elif positions and (closest is None or score > closest[0]):
                reverse = {v: k for k, v in entity_profile.header_to_column.items()}
                closest = (score, profile.name, entity, [f"{reverse.get(c, c)} ({c})" for c in missing])
    candidates.sort(key=lambda c: c[0], reverse=True)
    if candidates and closest is not None and closest[0][1] > candidates[0][0][1]:
        # A partial match explains more headers than any complete one: most likely that entity with
        # columns missing (an orders file without amounts must not load as customers).
        candidates = []
    if not candidates:
        if closest is None:
            raise IngestError(
                path,
                f"headers {list(headers)} match no CRM profile ({', '.join(sorted(profiles))}); "
                "add a profile YAML or rename the columns to the canonical names",
            )
        _, profile_name, entity, missing = closest
        raise IngestError(
            path,
            f"headers match no CRM profile; closest is {profile_name}/{entity}, "
            f"which is missing required columns: {', '.join(missing)}",
        )
    best = candidates[0]
    if len(candidates) > 1 and candidates[1][0] == best[0] and candidates[1][2] != best[2]:
        raise IngestError(
            path,
            f"headers match {best[1]}/{best[2]} and {candidates[1][1]}/{candidates[1][2]} equally well; "
            "make the profiles distinguishable",
        )
    ordered = tuple(sorted(best[3].items(), key=lambda item: item[1]))
    return best[1], best[2], ordered


def file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def detect_file(path: Path, inbox: Path, profiles: dict[str, VendorProfile] | None = None) -> DetectedFile:
    stat = path.stat()
    file_format = sniff_format(path)
    delimiter = None
    if file_format == "xlsx":
        encoding = "xlsx"
        headers = read_xlsx_header(path)
    else:
        encoding = detect_encoding(path)
        if file_format == "csv":
            delimiter, headers = read_csv_header(path, encoding)
        else:
            headers = read_jsonl_header(path, encoding)
    profile, entity, positions = match_profile(path, headers, profiles)
    return DetectedFile(
        path=str(path.resolve()),
        relative_name=str(path.resolve().relative_to(inbox.resolve())),
        file_format=file_format,
        encoding=encoding,
        delimiter=delimiter,
        headers=headers,
        profile=profile,
        entity=entity,
        column_positions=positions,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        file_hash=file_sha256(path),
    )


def scan_inbox(inbox: Path) -> list[DetectedFile]:
    """Detect every export in the inbox. Any unusable file stops the scan with an error naming it."""
    profiles = load_profiles()
    return [detect_file(path, inbox, profiles) for path in list_export_files(inbox)]
