"""Errors that name the file, the row, the column and the reason."""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """Input that cannot be used. Carries where and why, so the message is actionable."""

    def __init__(
        self,
        path: Path | str,
        reason: str,
        *,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.path = str(path)
        self.reason = reason
        self.row = row
        self.column = column
        where = [f"file {self.path}"]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {reason}")
