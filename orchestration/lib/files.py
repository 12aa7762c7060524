"""`clientele files`: what the ingest ledger holds, and releasing or unloading a held file.

Both actions take the warehouse writer lock, are recorded in `raw._ledger_actions` with who and why, and take
effect at the next run: a released file's rows reach staging; an unloaded file's rows are gone (when they had
been staged, the next build rebuilds staging from scratch).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from orchestration.lib.dbt_project import request_full_refresh
from orchestration.lib.ingest import ledger
from orchestration.lib.ingest.load import connect
from orchestration.lib.locking import exclusive_writer
from orchestration.lib.settings import WarehousePaths


class FileCommandError(Exception):
    """A file command that cannot be done, with the reason (printed without a stack trace)."""


def _paths(warehouse: Path) -> WarehousePaths:
    paths = WarehousePaths(Path(warehouse))
    if not paths.working_db.exists():
        raise FileCommandError(f"no working database at {paths.working_db}: nothing has been loaded yet")
    return paths


def list_files(warehouse: Path, states: Iterable[str] | None = None) -> str:
    paths = _paths(warehouse)
    with exclusive_writer(paths.writer_lock, holder="clientele files list"):
        conn = connect(paths.working_db)
        try:
            found = ledger.entries(conn, states)
        finally:
            conn.close()
    if not found:
        return "no files" + (f" in state {', '.join(states)}" if states else "")
    lines = [f"{'id':>5}  {'state':<9} {'entity':<13} {'rows':>10} {'loaded':>10} {'quarant.':>9}  file"]
    for entry in found:
        lines.append(
            f"{entry.file_id:>5}  {entry.state:<9} {entry.entity:<13} {entry.rows_in_file:>10,} "
            f"{entry.rows_loaded:>10,} {entry.rows_quarantined:>9,}  {entry.source_file}"
        )
        if entry.failed_checks:
            lines.append(f"{'':>17}failed: {', '.join(entry.failed_checks)}")
        if entry.load_note:
            lines.append(f"{'':>17}note: {entry.load_note}")
    return "\n".join(lines)


def release_file(warehouse: Path, reference: str | None, *, reason: str, actor: str) -> str:
    paths = _paths(warehouse)
    if not reference:
        raise FileCommandError("name the file to release (id, name or content hash; see `clientele files`)")
    with exclusive_writer(paths.writer_lock, holder=f"clientele files release {reference}"):
        conn = connect(paths.working_db)
        try:
            entry = ledger.release(conn, reference, reason=reason, actor=actor)
        except (LookupError, ValueError) as error:
            raise FileCommandError(str(error)) from None
        finally:
            conn.close()
    return (
        f"released {entry.source_file} (file id {entry.file_id}); its rows reach staging in the next run. "
        f"Recorded in raw._ledger_actions."
    )


def unload_file(warehouse: Path, reference: str | None, *, reason: str, actor: str) -> str:
    paths = _paths(warehouse)
    if not reference:
        raise FileCommandError("name the file to unload (id, name or content hash; see `clientele files`)")
    with exclusive_writer(paths.writer_lock, holder=f"clientele files unload {reference}"):
        conn = connect(paths.working_db)
        try:
            entry, removed = ledger.unload(conn, reference, reason=reason, actor=actor)
        except (LookupError, ValueError) as error:
            raise FileCommandError(str(error)) from None
        finally:
            conn.close()
        if entry.state in ledger.USABLE_STATES:  # its rows were staged: staging is rebuilt without them
            request_full_refresh(paths.dbt_target_dir)
    return (
        f"unloaded {entry.source_file} (file id {entry.file_id}): {removed:,} rows removed; the ledger keeps the "
        "file as unloaded, so the same content is not loaded again. Recorded in raw._ledger_actions."
    )
