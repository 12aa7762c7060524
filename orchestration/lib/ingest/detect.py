"""Find export files in the inbox and recognise each: format, encoding, delimiter, CRM profile, entity.

Every decision is made on evidence from the file itself, and an ambiguity is an error naming the file:
- the format comes from the content (a workbook saved with a `.csv` name is read as the workbook it is);
- the encoding from all of the bytes: valid UTF-8 stays UTF-8; a file that is not valid UTF-8 is GB18030 only
  when it decodes as GB18030 into Chinese text; UTF-8 with a few stray bytes (a Latin-1 row) stays UTF-8 and
  loses only those rows to the quarantine; anything else is refused with the byte offset;
- the columns of a JSON Lines file from all of its records, not the first;
- a header twice, or two headers meaning the same canonical column, is refused; so is a workbook with data on
  more than one sheet.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
import re
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

from orchestration.lib.ingest.errors import IngestError
from orchestration.lib.schema import VendorProfile, canonical_schema, load_profiles

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITER_CANDIDATES = (",", "\t", ";", "|")
READ_BLOCK_BYTES = 16 << 20
EVIDENCE_BYTES = 64 << 20  # enough text to tell Chinese from stray Latin-1 bytes
ZIP_MAGIC = b"PK\x03\x04"
CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
CJK_PATTERN = re.compile(f"[{CJK}]")
# a CJK character wedged between Latin letters: what a Latin-1 byte looks like when read as GB18030
LATIN_NOISE_PATTERN = re.compile(f"(?<=[A-Za-z])[{CJK}](?=[A-Za-z])")
MIN_CJK_SHARE = 0.9
MAX_LATIN_NOISE_SHARE = 0.2
MAX_STRAY_BYTES = 64  # fewer bytes than this that are not UTF-8 (and not Chinese) are stray, not an encoding


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
    note: str | None = None  # what detection decided that a reader should know (e.g. format from content)

    def to_dict(self) -> dict:
        return asdict(self)


def is_ignored(path: Path) -> bool:
    """Names starting with `_` or `.` (manifests, archives, editor files) are not exports."""
    return path.name.startswith(("_", "."))


def list_export_files(inbox: Path) -> tuple[list[Path], list[IngestError]]:
    """Every regular file under the inbox, sorted, and a problem for each entry that cannot be read safely
    (a link pointing outside the inbox, a FIFO, a device): those are never opened."""
    inbox = inbox.resolve()
    if not inbox.is_dir():
        raise IngestError(inbox, "inbox directory does not exist")
    found: list[Path] = []
    problems: list[IngestError] = []
    for path in sorted(inbox.rglob("*")):
        if any(part.startswith(("_", ".")) for part in path.relative_to(inbox).parts):
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(inbox):
            problems.append(IngestError(path, f"symbolic link points outside the inbox ({path.resolve()}); refused"))
            continue
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            problems.append(IngestError(path, f"cannot be read: {exc.strerror}"))
            continue
        if stat.S_ISDIR(mode):
            continue
        if not stat.S_ISREG(mode):
            kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
            problems.append(IngestError(path, f"is {kind}, not a regular file; only regular files are read"))
            continue
        found.append(path)
    return found, problems


def sniff_format(path: Path) -> tuple[str, str | None]:
    """(format, note): by content first (a zip is a workbook), then by suffix."""
    suffix = path.suffix.lower()
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if head.startswith(ZIP_MAGIC):
        if suffix in XLSX_SUFFIXES:
            return "xlsx", None
        return "xlsx", f"read as an XLSX workbook: the content is a workbook although the name ends in {suffix}"
    if suffix in XLSX_SUFFIXES:
        raise IngestError(path, "not a valid XLSX workbook (an .xlsx file must be a zip archive)")
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise IngestError(path, "is a binary file (it holds NUL bytes), not a text export", row=1)
    if suffix in JSONL_SUFFIXES:
        return "jsonl", None
    if suffix in CSV_SUFFIXES:
        return "csv", None
    raise IngestError(
        path,
        f"unsupported file type {suffix or '(no extension)'}; expected one of "
        f"{', '.join(sorted(CSV_SUFFIXES | JSONL_SUFFIXES | XLSX_SUFFIXES))}",
    )


@dataclass(frozen=True)
class _ByteEvidence:
    file_hash: str
    valid_utf8: bool
    first_invalid_offset: int | None
    valid_non_ascii: int  # characters decoded from valid multi-byte UTF-8 sequences (in the evidence prefix)
    invalid_bytes: int  # bytes that are not part of valid UTF-8 (in the evidence prefix)


def _hash_and_utf8(path: Path) -> _ByteEvidence:
    """SHA-256 and UTF-8 validity of the whole file in one read; decoding counts from its first 64 MB."""
    digest = hashlib.sha256()
    strict = codecs.getincrementaldecoder("utf-8")()
    lenient = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    first_invalid = None
    valid_non_ascii = invalid = 0
    offset = 0
    with open(path, "rb") as handle:
        while block := handle.read(READ_BLOCK_BYTES):
            digest.update(block)
            if first_invalid is None:
                try:
                    strict.decode(block)
                except UnicodeDecodeError as exc:
                    first_invalid = offset + exc.start
            if first_invalid is not None and offset < EVIDENCE_BYTES:
                text = lenient.decode(block)
                undecodable = len(block) - len(text.encode("utf-8", "ignore"))
                non_ascii = len(text) - len(text.encode("ascii", "ignore"))
                invalid += undecodable
                valid_non_ascii += non_ascii - undecodable
            offset += len(block)
    if first_invalid is None:
        try:
            strict.decode(b"", final=True)
        except UnicodeDecodeError:
            first_invalid = offset
    return _ByteEvidence(digest.hexdigest(), first_invalid is None, first_invalid, valid_non_ascii, invalid)


def _line_of_offset(path: Path, offset: int) -> int:
    line = 1
    with open(path, "rb") as handle:
        remaining = offset
        while remaining > 0 and (block := handle.read(min(READ_BLOCK_BYTES, remaining))):
            line += block.count(b"\n")
            remaining -= len(block)
    return line


def _gb18030_evidence(path: Path) -> tuple[bool, float, float]:
    """(decodes as GB18030 throughout, CJK share of its non-ASCII characters, share of those wedged between
    Latin letters), the shares from the first 64 MB."""
    decoder = codecs.getincrementaldecoder("gb18030")()
    non_ascii = cjk = latin_noise = 0
    offset = 0
    with open(path, "rb") as handle:
        while block := handle.read(READ_BLOCK_BYTES):
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError:
                return False, 0.0, 0.0
            if offset < EVIDENCE_BYTES:
                non_ascii += len(text) - len(text.encode("ascii", "ignore"))
                cjk += len(text) - len(CJK_PATTERN.sub("", text))
                latin_noise += len(LATIN_NOISE_PATTERN.findall(text))
            offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False, 0.0, 0.0
    if not non_ascii:
        return True, 0.0, 0.0
    return True, cjk / non_ascii, latin_noise / max(cjk, 1)


def detect_encoding(path: Path, evidence: _ByteEvidence | None = None) -> str:
    """utf-8, utf-8-sig or gb18030, decided from all of the bytes, never from a declaration."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise IngestError(path, "UTF-16 text is not supported; export as UTF-8 or GB18030")
    if not head:
        raise IngestError(path, "file is empty (no header row)")
    evidence = evidence or _hash_and_utf8(path)
    if evidence.valid_utf8:
        return "utf-8"
    decodes, cjk_share, noise_share = _gb18030_evidence(path)
    if (
        decodes
        and cjk_share >= MIN_CJK_SHARE
        and noise_share < MAX_LATIN_NOISE_SHARE
        and evidence.valid_non_ascii < evidence.invalid_bytes
    ):
        return "gb18030"
    stray = evidence.invalid_bytes <= max(MAX_STRAY_BYTES, evidence.valid_non_ascii)
    if stray or noise_share >= MAX_LATIN_NOISE_SHARE:
        # UTF-8 text with a few stray bytes (a Latin-1 row): the rows holding them are quarantined with their
        # byte offsets, the others load as the UTF-8 they are
        return "utf-8"
    offset = evidence.first_invalid_offset or 0
    raise IngestError(
        path,
        f"is neither valid UTF-8 nor clean GB18030: the first byte that is not UTF-8 is at offset {offset:,}; "
        "export the file as UTF-8 (or GB18030)",
        row=_line_of_offset(path, offset),
    )


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


def read_jsonl_keys(path: Path, encoding: str) -> tuple[str, ...]:
    """The keys of every JSON object in the file, in the order they first appear (set-based in DuckDB for
    UTF-8; lines that are not objects are left to the load, which quarantines them)."""
    import duckdb

    if encoding.startswith("utf-8"):
        with duckdb.connect() as conn:
            rows = conn.execute(
                """
                SELECT key FROM (
                    SELECT unnest(json_keys(line)) AS key, line_number
                    FROM (
                        SELECT line, row_number() OVER () AS line_number
                        FROM read_csv(?, header = false, columns = {'line': 'VARCHAR'}, delim = chr(0),
                                      quote = '', escape = '', auto_detect = false, max_line_size = 67108864,
                                      ignore_errors = true)
                    )
                    WHERE json_valid(line) AND json_type(line) = 'OBJECT'
                )
                GROUP BY key ORDER BY min(line_number), min(key)
                """,
                [str(path)],
            ).fetchall()
        keys = tuple(row[0] for row in rows)
    else:
        seen: dict[str, None] = {}
        with open(path, encoding=encoding, errors="replace") as handle:
            for line in handle:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    seen.update(dict.fromkeys(record))
        keys = tuple(seen)
    if not keys:
        raise IngestError(path, "holds no JSON object (no record to read columns from)", row=1)
    return keys


def read_xlsx_header(path: Path) -> tuple[str, ...]:
    """The first sheet's header; a workbook with data on any other sheet is refused (every sheet is read or
    the file is refused, never half-loaded)."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        first_row = next(iter(workbook.get_sheet_by_index(0).iter_rows()), None)
        others = []
        for index, name in enumerate(workbook.sheet_names[1:], start=1):
            rows = [r for r in workbook.get_sheet_by_index(index).iter_rows() if any(v not in (None, "") for v in r)]
            if rows:
                others.append(f"'{name}' ({len(rows):,} rows)")
    except Exception as exc:  # calamine raises its own error types for corrupt workbooks
        raise IngestError(path, f"cannot read XLSX workbook: {exc}") from exc
    if not first_row or not any(str(v).strip() for v in first_row):
        raise IngestError(path, "first worksheet is empty (no header row)")
    if others:
        raise IngestError(
            path,
            f"the workbook holds data on more than one sheet (also {', '.join(others)}); "
            "export one sheet per file so that no rows are left behind",
        )
    return tuple("" if v is None else str(v) for v in first_row)


def _normalise_header(header: str) -> str:
    return header.replace("\ufeff", "").strip().casefold()


def _ambiguous_headers(path: Path, headers: tuple[str, ...], lookup: dict[str, str]) -> None:
    """Refuse a header twice, or two headers that mean the same canonical column."""
    meaning: dict[str, list[int]] = {}
    for position, header in enumerate(headers):
        column = lookup.get(_normalise_header(header))
        if column is not None:
            meaning.setdefault(column, []).append(position)
    for column, positions in meaning.items():
        if len(positions) > 1:
            where = " and ".join(f"{headers[p]!r} (column {p + 1})" for p in positions)
            raise IngestError(
                path,
                f"headers {where} both map to {column}; which one to load is ambiguous, so the file is refused",
                row=1,
                column=column,
            )


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
                candidates.append((score, profile.name, entity, positions, lookup))
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
    _ambiguous_headers(path, headers, best[4])
    ordered = tuple(sorted(best[3].items(), key=lambda item: item[1]))
    return best[1], best[2], ordered


def file_sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def detect_file(path: Path, inbox: Path, profiles: dict[str, VendorProfile] | None = None) -> DetectedFile:
    stat_before = path.stat()
    file_format, note = sniff_format(path)
    delimiter = None
    if file_format == "xlsx":
        encoding = "xlsx"
        file_hash = file_sha256(path)
        headers = read_xlsx_header(path)
    else:
        evidence = _hash_and_utf8(path)
        file_hash = evidence.file_hash
        encoding = detect_encoding(path, evidence)
        if file_format == "csv":
            delimiter, headers = read_csv_header(path, encoding)
        else:
            headers = read_jsonl_keys(path, encoding)
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
        size=stat_before.st_size,
        mtime_ns=stat_before.st_mtime_ns,
        file_hash=file_hash,
        note=note,
    )


def scan_inbox(inbox: Path) -> list[DetectedFile]:
    """Detect every export in the inbox. Any unusable file stops the scan with an error naming it."""
    profiles = load_profiles()
    paths, problems = list_export_files(inbox)
    if problems:
        raise problems[0]
    return [detect_file(path, inbox, profiles) for path in paths]
