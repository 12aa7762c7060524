"""The inbox as the sensors see it: which export files are new (by content hash), and archiving them."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from orchestration.lib.ingest import ledger
from orchestration.lib.ingest.detect import file_sha256, list_export_files


@dataclass
class InboxCursor:
    """Content hashes already seen, and a stat cache so unchanged files are not hashed again."""

    hashes: set[str] = field(default_factory=set)
    stats: dict[str, list] = field(default_factory=dict)  # relative path -> [size, mtime_ns, sha256]

    @classmethod
    def parse(cls, text: str | None) -> InboxCursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(set(data.get("hashes", [])), dict(data.get("stats", {})))

    def dump(self) -> str:
        return json.dumps({"hashes": sorted(self.hashes), "stats": self.stats}, separators=(",", ":"))


def loaded_hashes(working_db: Path) -> set[str]:
    """Content hashes in the ingest ledger. Best effort: empty when the database is missing or a run is writing
    it (DuckDB refuses readers then); the sensor's cursor still remembers what it saw."""
    if not working_db.exists():
        return set()
    try:
        with duckdb.connect(str(working_db), read_only=True) as conn:
            return ledger.loaded_hashes(conn)
    except duckdb.IOException:
        return set()


def new_export_files(
    inbox: Path, cursor: InboxCursor, already_loaded: set[str] | frozenset[str] = frozenset()
) -> tuple[dict[str, str], InboxCursor]:
    """Files whose content was neither seen by the sensor nor loaded before: {relative path: sha256}, and the
    updated cursor (unchanged files, by size and mtime, are not hashed again)."""
    inbox = inbox.resolve()
    stats: dict[str, list] = {}
    new: dict[str, str] = {}
    new_digests: set[str] = set()
    paths, _ = list_export_files(inbox)  # entries that are not regular files are the run's to report
    for path in paths:
        relative = path.relative_to(inbox).as_posix()
        stat = path.stat()
        cached = cursor.stats.get(relative)
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            digest = cached[2]
        else:
            digest = file_sha256(path)
        stats[relative] = [stat.st_size, stat.st_mtime_ns, digest]
        if digest not in cursor.hashes and digest not in already_loaded and digest not in new_digests:
            new[relative] = digest
            new_digests.add(digest)
    loaded_here = {digest for _, _, digest in stats.values()} & set(already_loaded)
    return new, InboxCursor(cursor.hashes | loaded_here | new_digests, stats)


def file_set_key(hashes: dict[str, str]) -> str:
    """One run key per set of new contents (names do not matter)."""
    return hashlib.sha256("\n".join(sorted(set(hashes.values()))).encode()).hexdigest()[:32]


def archive_files(inbox: Path, archive_dir: Path, files: dict[str, str]) -> list[Path]:
    """Copy each loaded file (relative path -> sha256) to the archive, verify the copy, then remove it from the
    inbox. A file whose content changed since it was loaded stays where it is."""
    archived = []
    for relative, digest in sorted(files.items()):
        source = inbox / relative
        if not source.is_file() or file_sha256(source) != digest:
            continue
        target = archive_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        if file_sha256(target) != digest:
            raise OSError(f"archive copy of {source} does not match its content; the original is kept")
        source.unlink()
        archived.append(target)
    return archived
