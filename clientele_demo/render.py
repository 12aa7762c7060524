"""Byte-block rendering: every column of a chunk becomes a NUL-padded byte matrix (one row per record), a file
chunk is the row-major concatenation of those blocks with the padding dropped.

GB18030, UTF-8, CSV and JSON Lines therefore cost the same and no Python loop runs over data rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def const(n: int, text: bytes) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text, np.uint8), (n, len(text)))


def where(mask: np.ndarray, text: bytes) -> np.ndarray:
    block = np.zeros((mask.size, len(text)), np.uint8)
    block[mask] = np.frombuffer(text, np.uint8)
    return block


def blank_rows(block: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    if rows is None or not rows.any():
        return block
    return np.where(rows[:, None], np.uint8(0), block)


_DIGIT_PAIRS = np.array([[48 + i // 10, 48 + i % 10] for i in range(100)], np.uint8).view(np.uint16).ravel()


def digits(values: np.ndarray, width: int | None = None, pad: bool = False) -> np.ndarray:
    """Non-negative integers as right-aligned ASCII digits (two per division); leading zeros blank unless `pad`."""
    values = np.asarray(values)
    top = int(values.max()) if values.size else 0
    if width is None:
        width = len(str(top))
    even = width + width % 2
    out = np.empty((values.size, even), np.uint8)
    pairs = out.view(np.uint16)
    rest = values.astype(np.uint32 if top < 2**32 else np.int64)
    for column in range(even // 2 - 1, -1, -1):
        quotient = rest // 100
        pairs[:, column] = _DIGIT_PAIRS[rest - quotient * 100]
        rest = quotient
    out = out[:, even - width :]
    if not pad and width > 1:
        leading = ~np.logical_or.accumulate(out != ord("0"), axis=1)
        leading[:, -1] = False
        out[leading] = 0
    return out


def grouped_digits(values: np.ndarray, separator: bytes) -> list[np.ndarray]:
    matrix = digits(values)
    width = matrix.shape[1]
    blocks = []
    for column in range(width):
        blocks.append(matrix[:, column : column + 1])
        place = width - 1 - column
        if place and place % 3 == 0:
            blocks.append(where(values >= 10**place, separator))
    return blocks


class Words:
    """A small vocabulary, encoded once per text encoding into a NUL-padded byte matrix."""

    def __init__(self, values: Sequence[str]):
        self.values = tuple(values)
        self._encoded: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for value in self.values:
            if any(ch in value for ch in '"\\\r\n\x00'):
                raise ValueError(f"vocabulary value {value!r} needs escaping; keep demo vocabularies plain")

    def encoded(self, encoding: str) -> tuple[np.ndarray, np.ndarray]:
        if encoding not in self._encoded:
            raw = [value.encode(encoding) for value in self.values]
            matrix = np.zeros((len(raw), max([1, *map(len, raw)])), np.uint8)
            for i, item in enumerate(raw):
                matrix[i, : len(item)] = np.frombuffer(item, np.uint8)
            self._encoded[encoding] = (matrix, np.array([b"," in item for item in raw]))
        return self._encoded[encoding]

    def block(self, idx: np.ndarray, encoding: str, rows: np.ndarray | None = None) -> np.ndarray:
        matrix, _ = self.encoded(encoding)
        block = matrix[np.clip(idx, 0, len(self.values) - 1)]
        return block if rows is None else blank_rows(block, ~rows)

    def needs_quote(self, idx: np.ndarray, encoding: str) -> np.ndarray:
        return self.encoded(encoding)[1][np.clip(idx, 0, len(self.values) - 1)]


@dataclass
class Field:
    """One column of a chunk as byte blocks (n rows each); blanking is applied after assembly."""

    blocks: list[np.ndarray]
    null: np.ndarray | None = None
    quote: np.ndarray | None = None  # CSV: rows whose value contains the delimiter
    is_text: bool = True  # JSON: string (quoted) or number
    replaced: tuple[int, np.ndarray] | None = None  # (original block count, rows showing the replacement)

    def override(self, rows: np.ndarray, replacement: np.ndarray) -> None:
        """Show `replacement` (a block, zero outside `rows`) instead of the value on `rows`."""
        if rows.any():
            self.replaced = (len(self.blocks), rows)
            self.blocks = [*self.blocks, replacement]
            self.null = None if self.null is None else self.null & ~rows
            self.is_text = True

    def pad_with_spaces(self, rows: np.ndarray) -> None:
        if rows.any():
            replaced = None if self.replaced is None else (self.replaced[0] + 1, self.replaced[1])
            self.blocks = [where(rows, b"  "), *self.blocks, where(rows, b" ")]
            self.replaced = replaced


def assemble(pieces: list[np.ndarray | tuple[Field, np.ndarray | None]]) -> np.ndarray:
    """Concatenate byte blocks and fields (with rows to hide) into one NUL-padded row matrix."""
    blocks, blanks, offset = [], [], 0
    for piece in pieces:
        if isinstance(piece, np.ndarray):
            blocks.append(piece)
            offset += piece.shape[1]
            continue
        column, hidden = piece
        start = replaced_end = offset
        for position, block in enumerate(column.blocks):
            if column.replaced is not None and position == column.replaced[0]:
                replaced_end = offset
            blocks.append(block)
            offset += block.shape[1]
        if hidden is not None and hidden.any():
            blanks.append((start, offset, hidden))
        if column.replaced is not None:
            blanks.append((start, replaced_end, column.replaced[1]))
    matrix = np.hstack(blocks)
    for start, end, rows in blanks:
        matrix[np.flatnonzero(rows), start:end] = 0
    return matrix


def compact(matrix: np.ndarray) -> bytes:
    return matrix[matrix != 0].tobytes()


def text_field(words: Words, idx: np.ndarray, encoding: str, null: np.ndarray | None = None) -> Field:
    return Field([words.block(idx, encoding)], null=null, quote=words.needs_quote(idx, encoding))


def int_field(values: np.ndarray, null: np.ndarray | None = None) -> Field:
    return Field([digits(np.where(values < 0, 0, values))], null=null, is_text=False)


def render_csv(fields: list[Field], width_defect: np.ndarray, line_end: bytes) -> bytes:
    n = width_defect.size
    drop_last = width_defect == 1
    pieces: list = []
    for position, column in enumerate(fields):
        last = position == len(fields) - 1
        hidden = column.null if column.null is not None else np.zeros(n, bool)
        if last:
            hidden = hidden | drop_last
        if position:
            pieces.append(where(~drop_last, b",") if last else const(n, b","))
        quote = None if column.quote is None else column.quote & ~hidden
        quoted = quote is not None and quote.any()
        pieces += [where(quote, b'"'), (column, hidden), where(quote, b'"')] if quoted else [(column, hidden)]
    pieces += [where(width_defect == 2, b",n/a"), const(n, line_end)]
    return compact(assemble(pieces))


def render_jsonl(headers: list[str], fields: list[Field]) -> bytes:
    n = fields[0].blocks[0].shape[0]
    pieces: list = []
    for position, (header, column) in enumerate(zip(headers, fields, strict=True)):
        key = ("{" if position == 0 else ",") + json.dumps(header, ensure_ascii=False) + ":"
        null = column.null if column.null is not None else np.zeros(n, bool)
        quote = where(~null, b'"') if column.is_text else np.zeros((n, 0), np.uint8)
        pieces += [const(n, key.encode("utf-8")), quote, (column, null), quote, where(null, b"null")]
    pieces.append(const(n, b"}\n"))
    return compact(assemble(pieces))


def field_strings(column: Field, encoding: str) -> list[str | None]:
    """Per-row Python strings of a field (used for the small XLSX catalogue only)."""
    matrix = assemble([(column, column.null)])
    null = column.null if column.null is not None else np.zeros(matrix.shape[0], bool)
    return [None if gone else bytes(row[row != 0]).decode(encoding) for row, gone in zip(matrix, null, strict=True)]
