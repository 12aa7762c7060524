"""Count what a text export holds, independently of the parser that loads it.

`scan_text_export` reads the bytes and finds the physical lines, the blank ones, and which lines start a
record: a record is a line, unless a quoted field opened on it runs on to later lines. Quoting follows RFC 4180
as DuckDB and Python's csv module read it: a double quote opens a field only at the start of a field, `""`
inside a quoted field is a literal quote, and a quote elsewhere in an unquoted field is a literal character.
The load reconciles the parser's loaded + rejected records with this count, and numbers rows by these lines.

Vectorised with numpy over blocks of whole lines. A line is looked at on its own only when its quotes need a
decision (an odd number of them, or one that is neither at a field's start or end nor doubled) or when it lies
inside a multi-line field; files without a double quote or a blank line take a byte-counting fast path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BLOCK_BYTES = 16 << 20
NEWLINE, CARRIAGE_RETURN, QUOTE = 10, 13, 34
MAX_REPORTED = 20


@dataclass(frozen=True)
class TextScan:
    """The record structure of a CSV or JSON Lines file, as counted from its bytes.

    Lines are 1-based physical lines. `record_lines` is None when the data records are regular (no blank line
    among them, no multi-line record): record k (0-based) then starts on line `first_record_line + k`.
    """

    physical_lines: int
    records: int  # data records: after the header (CSV), or every non-blank line (JSON Lines)
    first_record_line: int
    header_line: int | None = None  # CSV: the first non-blank line
    header_end_line: int | None = None
    record_lines: np.ndarray | None = None
    line_starts: np.ndarray | None = field(default=None, repr=False)  # byte offset of each physical line
    multiline_records: tuple[tuple[int, int], ...] = ()  # (first line, last line), at most MAX_REPORTED
    multiline_record_count: int = 0
    unterminated_quote_line: int | None = None

    @property
    def leading_blank_lines(self) -> int:
        return (self.header_line or self.first_record_line) - 1

    def line_of_record(self, ordinal: int) -> int:
        """Physical line of data record `ordinal` (0-based)."""
        if self.record_lines is None:
            return self.first_record_line + ordinal
        return int(self.record_lines[ordinal])

    def line_of_byte(self, byte_offset: int) -> int:
        """Physical line (1-based) holding a 0-based byte offset."""
        if self.line_starts is None:
            return -1
        return int(np.searchsorted(self.line_starts, byte_offset, side="right"))


def _fast_count(path: Path) -> tuple[int, bool, bool, bool]:
    """(newlines, any double quote, any blank line after the first, ends with a newline), by byte counting."""
    newlines = 0
    quotes = blank = False
    tail = last = b""
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK_BYTES):
            newlines += block.count(b"\n")
            quotes = quotes or b'"' in block
            joined = tail + block
            blank = blank or b"\n\n" in joined or b"\n\r\n" in joined
            tail, last = block[-2:], block[-1:]
    blank = blank or tail == b"\n\r"  # a last line holding only a carriage return
    return newlines, quotes, blank, last == b"\n"


def _first_line_is_blank(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(2)
    return head[:1] == b"\n" or head == b"\r\n"


class _Lines:
    """Line starts, blank lines and the lines whose quoting needs a decision, read in blocks of whole lines.

    A line needs a decision when it has an odd number of double quotes, or a quote that is neither at the start
    of a field, nor at its end, nor one of a doubled pair: on every other line the quotes open and close fields
    in pairs, so a line entered outside a quoted field also ends outside one.
    """

    def __init__(self, path: Path, delimiter: int, quoted: bool) -> None:
        starts: list[np.ndarray] = []
        blank: list[np.ndarray] = []
        undecided: list[np.ndarray] = []
        lines_so_far = 0
        with open(path, "rb") as handle:
            base, carry = 0, b""
            while True:
                block = handle.read(BLOCK_BYTES)
                data = carry + block
                if not data:
                    break
                cut = data.rfind(b"\n") + 1 if block else len(data)
                if cut == 0:  # a line longer than the block: read on
                    carry = data
                    continue
                arr = np.frombuffer(data[:cut], np.uint8)
                carry = data[cut:]
                local = self._line_starts(arr)
                starts.append(local + base)
                blank.append(self._blank(arr, local) + lines_so_far)
                if quoted and QUOTE in arr:
                    undecided.append(self._undecided(arr, local, delimiter) + lines_so_far)
                base += arr.size
                lines_so_far += local.size
        self.starts = np.concatenate(starts) if starts else np.zeros(0, np.int64)
        self.size = base
        self.blank = np.zeros(self.starts.size, bool)
        if blank:
            self.blank[np.concatenate(blank)] = True
        self.undecided = np.concatenate(undecided) if undecided else np.zeros(0, np.int64)

    @staticmethod
    def _line_starts(arr: np.ndarray) -> np.ndarray:
        newlines = np.flatnonzero(arr == NEWLINE).astype(np.int64)
        return np.concatenate((np.zeros(1, np.int64), newlines[newlines < arr.size - 1] + 1))

    @staticmethod
    def _blank(arr: np.ndarray, local: np.ndarray) -> np.ndarray:
        ends = np.append(local[1:] - 1, arr.size - 1 if arr[-1] == NEWLINE else arr.size)
        lengths = ends - local
        carriage_only = (lengths == 1) & (arr[np.minimum(local, arr.size - 1)] == CARRIAGE_RETURN)
        return np.flatnonzero((lengths == 0) | carriage_only).astype(np.int64)

    @staticmethod
    def _undecided(arr: np.ndarray, local: np.ndarray, delimiter: int) -> np.ndarray:
        quotes = np.flatnonzero(arr == QUOTE)
        line_of = np.searchsorted(local, quotes, side="right") - 1
        previous = arr[np.maximum(quotes - 1, 0)]
        following = arr[np.minimum(quotes + 1, arr.size - 1)]
        following = np.where(quotes + 1 < arr.size, following, NEWLINE)
        at_start = (quotes == local[line_of]) | (previous == delimiter)
        at_end = (following == delimiter) | (following == NEWLINE) | (following == CARRIAGE_RETURN)
        paired = ((following == QUOTE) & (quotes + 1 < arr.size)) | ((previous == QUOTE) & (quotes > 0))
        needs_look = np.bincount(line_of, minlength=local.size) % 2 == 1
        needs_look[line_of[~(at_start | at_end | paired)]] = True
        return np.flatnonzero(needs_look).astype(np.int64)

    def span(self, line: int, ends_with_newline: bool) -> tuple[int, int]:
        end = int(self.starts[line + 1]) - 1 if line + 1 < self.starts.size else self.size
        if line + 1 == self.starts.size and ends_with_newline:
            end = self.size - 1
        return int(self.starts[line]), end


class _QuoteState:
    """Where quoted fields open and close on one line (only for the lines that need a decision)."""

    def __init__(self, path: Path, size: int, delimiter: int) -> None:
        self.data = np.memmap(path, np.uint8, mode="r", shape=(size,)) if size else np.zeros(0, np.uint8)
        self.delimiter = delimiter

    def ends_inside(self, start: int, end: int, inside: bool) -> bool:
        """Whether a quoted field is still open at the end of the line data[start:end]."""
        line = bytes(self.data[start:end]).removesuffix(b"\r")
        position = line.find(b'"')
        while position != -1:
            if inside:
                if line[position + 1 : position + 2] == b'"':
                    position = line.find(b'"', position + 2)
                    continue
                inside = False  # a quote followed by other text also ends the field, as the parsers read it
            elif position == 0 or line[position - 1] == self.delimiter:
                inside = True
            position = line.find(b'"', position + 1)
        return inside


def scan_text_export(path: Path, *, delimiter: str | None = ",", quoted: bool = True) -> TextScan:
    """Scan a CSV file (`quoted`, with its delimiter and a header record) or a JSON Lines file (`quoted=False`:
    a record per non-blank line, no header)."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        return TextScan(0, 0, 1)
    newlines, has_quotes, has_blank, ends_with_newline = _fast_count(path)
    physical = newlines + (0 if ends_with_newline else 1)
    if not (quoted and has_quotes) and not has_blank:  # every line after an optional leading blank one is a record
        leading = 1 if _first_line_is_blank(path) else 0
        if not quoted:
            return TextScan(physical, physical - leading, leading + 1)
        if leading >= physical:
            return TextScan(physical, 0, physical + 1)
        header = leading + 1
        return TextScan(physical, physical - header, header + 1, header, header)

    delimiter_byte = (delimiter or ",").encode()[0]
    lines = _Lines(path, delimiter_byte, quoted)
    record_start = ~lines.blank
    multiline: list[tuple[int, int]] = []
    multiline_count = 0
    unterminated = None
    if lines.undecided.size:
        state = _QuoteState(path, size, delimiter_byte)
        undecided, cursor, count = lines.undecided, 0, lines.starts.size
        while cursor < undecided.size:
            line = int(undecided[cursor])
            if not state.ends_inside(*lines.span(line, ends_with_newline), False):
                cursor += 1
                continue
            first = line
            line += 1
            while line < count and state.ends_inside(*lines.span(line, ends_with_newline), True):
                line += 1
            last = min(line, count - 1)
            record_start[first + 1 : last + 1] = False
            multiline_count += 1
            if len(multiline) < MAX_REPORTED:
                multiline.append((first + 1, last + 1))
            if line >= count:
                unterminated = first + 1
                break
            cursor = int(np.searchsorted(undecided, line, side="right"))
    starts_of_records = (np.flatnonzero(record_start) + 1).astype(np.int64)
    header = header_end = None
    if quoted and starts_of_records.size:
        header = int(starts_of_records[0])
        header_end = int(starts_of_records[1]) - 1 if starts_of_records.size > 1 else physical
        while header_end > header and lines.blank[header_end - 1]:
            header_end -= 1
        starts_of_records = starts_of_records[1:]
    regular = multiline_count == 0 and not lines.blank[header_end or 0 :].any()
    return TextScan(
        physical_lines=physical,
        records=int(starts_of_records.size),
        first_record_line=int(starts_of_records[0]) if starts_of_records.size else physical + 1,
        header_line=header,
        header_end_line=header_end,
        record_lines=None if regular else starts_of_records,
        line_starts=lines.starts,
        multiline_records=tuple(multiline),
        multiline_record_count=multiline_count,
        unterminated_quote_line=unterminated,
    )
