"""The raw gate: judge every file awaiting acceptance and record the verdict in the ingest ledger.

Files awaiting acceptance are the pending ones (loaded, never judged, also those of a run that died before its
checks) and the held ones (failed before). Every blocking raw check runs over their rows; a file with rows
breaking a blocking rule, too many quarantined rows, or too few rows for a re-export of its name is `held`
with the names of the checks it failed, every other file is `accepted`. A held file's rows that a later file
supersedes (a newer version of the same key) are not judged again, so a corrected export releases it; a held
file re-exported under the same name by a file that passes is `replaced`. Nothing else moves a held file:
every run fails on it, naming it, until an operator releases or unloads it (`clientele files`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from orchestration.lib.ingest import ledger
from orchestration.lib.ingest.values import quote_identifier
from orchestration.lib.quality import ExpectationOutcome, SuiteModule
from orchestration.lib.quality_sql import Lineage, validate_in_duckdb
from orchestration.lib.schema import ENTITIES, entity_keys
from orchestration.lib.settings import setting

QUARANTINE_CHECK = "quarantine_share"
DRIFT_CHECK = "row_count_drift"


@dataclass(frozen=True)
class FileQuarantine:
    file_id: int
    source_file: str
    rows_loaded: int
    rows_quarantined: int
    blocking: bool  # above the tolerated share with enough rows, or nothing loaded at all

    @property
    def share(self) -> float:
        total = self.rows_loaded + self.rows_quarantined
        return self.rows_quarantined / total if total else 0.0


@dataclass
class Judgement:
    """Everything the gate found, per entity, and the verdict per file."""

    suite_outcomes: list[tuple[SuiteModule, list[ExpectationOutcome]]] = field(default_factory=list)
    quarantined_files: dict[str, list[FileQuarantine]] = field(default_factory=dict)
    rows_judged: dict[str, tuple[int, int]] = field(default_factory=dict)  # entity -> (loaded, quarantined)
    shrunken_files: dict[str, list[tuple[int, str, int, int]]] = field(default_factory=dict)
    verdicts: dict[int, tuple[str, tuple[str, ...], str | None]] = field(default_factory=dict)
    file_names: dict[int, str] = field(default_factory=dict)

    @property
    def held(self) -> dict[int, tuple[str, ...]]:
        return {file_id: failed for file_id, (state, failed, _) in self.verdicts.items() if state == ledger.HELD}


def _key_label(entity: str) -> str:
    """SQL labelling a raw row by its key, e.g. "order_id O5" (shown in check samples)."""
    parts = [
        f"'{key} ' || coalesce(cast({quote_identifier(key)} as varchar), '(blank)')" for key in entity_keys(entity)
    ]
    return " || ', ' || ".join(parts)


def awaiting_rows(entity: str, with_held: bool) -> str:
    """The raw rows to judge: every row of a pending file, and the rows of held files that no later file
    supersedes with a newer version of the same key."""
    table = f"{ledger.RAW_SCHEMA}.{quote_identifier(entity)}"
    pending = (
        f"SELECT t.* FROM {table} AS t JOIN {ledger.LEDGER_TABLE} AS l ON l.file_id = t._file_id "
        f"WHERE l.state = '{ledger.PENDING}'"
    )
    if not with_held:
        return f"({pending})"
    same_key = " AND ".join(
        f"trim(CAST(newer.{quote_identifier(k)} AS VARCHAR)) = trim(CAST(t.{quote_identifier(k)} AS VARCHAR))"
        for k in entity_keys(entity)
    )
    live = ", ".join(f"'{s}'" for s in (*ledger.AWAITING_STATES, *ledger.USABLE_STATES))
    held = f"""
        SELECT t.* FROM {table} AS t JOIN {ledger.LEDGER_TABLE} AS l ON l.file_id = t._file_id
        WHERE l.state = '{ledger.HELD}' AND NOT EXISTS (
            SELECT 1 FROM {table} AS newer JOIN {ledger.LEDGER_TABLE} AS nl ON nl.file_id = newer._file_id
            WHERE newer._file_id > t._file_id AND nl.state IN ({live})
              AND nl.source_profile = l.source_profile AND {same_key}
        )"""
    return f"({pending} UNION ALL {held})"


def _quarantine_by_file(
    conn: duckdb.DuckDBPyConnection, awaiting: list[ledger.LedgerEntry]
) -> dict[str, list[FileQuarantine]]:
    max_share = float(setting("quality_max_quarantine_share"))
    min_rows = int(setting("quality_min_quarantined_rows"))
    found: dict[str, list[FileQuarantine]] = {}
    for entry in awaiting:
        total = entry.rows_loaded + entry.rows_quarantined
        share = entry.rows_quarantined / total if total else 0.0
        if share <= max_share:
            continue
        blocking = entry.rows_quarantined >= min_rows or entry.rows_loaded == 0
        found.setdefault(entry.entity, []).append(
            FileQuarantine(entry.file_id, entry.source_file, entry.rows_loaded, entry.rows_quarantined, blocking)
        )
    return found


def _shrunken_files(
    conn: duckdb.DuckDBPyConnection, file_ids: list[int], max_drop: float
) -> dict[str, list[tuple[int, str, int, int]]]:
    """Per entity: the given files that re-export an earlier file (same name) with too few rows."""
    rows = conn.execute(
        f"""
        WITH awaiting AS (
            SELECT file_id, entity, source_file, rows_in_file FROM {ledger.LEDGER_TABLE}
            WHERE list_contains($file_ids, file_id)
        ),
        previous AS (
            SELECT awaiting.file_id, arg_max(earlier.rows_in_file, earlier.file_id) AS rows_before
            FROM awaiting
            JOIN {ledger.LEDGER_TABLE} AS earlier
              ON earlier.source_file = awaiting.source_file AND earlier.file_id < awaiting.file_id
            GROUP BY awaiting.file_id
        )
        SELECT entity, file_id, source_file, rows_in_file, rows_before
        FROM awaiting JOIN previous USING (file_id)
        WHERE rows_in_file < (1 - $max_drop) * rows_before
        ORDER BY entity, file_id
        """,
        {"file_ids": file_ids, "max_drop": max_drop},
    ).fetchall()
    shrunken: dict[str, list[tuple[int, str, int, int]]] = {}
    for entity, file_id, name, now, before in rows:
        shrunken.setdefault(entity, []).append((int(file_id), name, int(now), int(before)))
    return shrunken


def _replaced(entries: list[ledger.LedgerEntry]) -> set[int]:
    """Held files re-exported later under the same name: the later file is judged instead."""
    later = {}
    for entry in entries:
        if entry.state in (*ledger.AWAITING_STATES, *ledger.USABLE_STATES):
            key = (entry.entity, entry.source_file)
            later[key] = max(later.get(key, 0), entry.file_id)
    return {
        entry.file_id
        for entry in entries
        if entry.state == ledger.HELD and later.get((entry.entity, entry.source_file), 0) > entry.file_id
    }


def judge(conn: duckdb.DuckDBPyConnection, raw_suites: list[SuiteModule], as_of: date) -> Judgement:
    """Run every blocking raw check over the files awaiting acceptance and decide each file's state."""
    judgement = Judgement()
    every_file = ledger.entries(conn)
    judgement.file_names = {entry.file_id: entry.source_file for entry in every_file}
    replaced = _replaced(every_file)
    for file_id in replaced:
        judgement.verdicts[file_id] = (ledger.REPLACED, (), "a later export of the same name replaces it")
    if replaced:  # their rows are not judged again: the later export is
        ledger.set_states(conn, dict(judgement.verdicts), ledger.now_utc())
    awaiting = [e for e in every_file if e.state in ledger.AWAITING_STATES and e.file_id not in replaced]
    loaded_days = [entry.loaded_at.date() for entry in awaiting]
    loaded_on = max(loaded_days) if loaded_days else None
    held_entities = {entry.entity for entry in awaiting if entry.state == ledger.HELD}
    for suite in raw_suites:
        entity = suite.table.removeprefix(f"{ledger.RAW_SCHEMA}.")
        lineage = Lineage(key_label=_key_label(entity), file_names=judgement.file_names)
        outcomes = validate_in_duckdb(
            conn,
            suite,
            as_of,
            loaded_on=loaded_on,
            relation=awaiting_rows(entity, entity in held_entities),
            lineage=lineage,
        )
        judgement.suite_outcomes.append((suite, outcomes))
    for entity in ENTITIES:
        mine = [e for e in awaiting if e.entity == entity]
        judgement.rows_judged[entity] = (sum(e.rows_loaded for e in mine), sum(e.rows_quarantined for e in mine))
    judgement.quarantined_files = _quarantine_by_file(conn, awaiting)
    judgement.shrunken_files = _shrunken_files(
        conn, [e.file_id for e in awaiting], float(setting("quality_max_row_count_drop"))
    )

    failed: dict[int, list[str]] = {entry.file_id: [] for entry in awaiting}
    for suite, outcomes in judgement.suite_outcomes:
        for outcome in outcomes:
            if outcome.passed or not outcome.blocking:
                continue
            for file_id in outcome.unexpected_by_file:
                failed.setdefault(file_id, []).append(f"{suite.asset_path[-1]} / {outcome.check_name}")
    for entity, files in judgement.quarantined_files.items():
        for file in files:
            if file.blocking:
                failed[file.file_id].append(f"raw_{entity} / {QUARANTINE_CHECK}")
    for entity, files in judgement.shrunken_files.items():
        for file_id, *_ in files:
            failed[file_id].append(f"raw_{entity} / {DRIFT_CHECK}")
    for entry in awaiting:
        checks = tuple(failed.get(entry.file_id, ()))
        if checks:
            judgement.verdicts[entry.file_id] = (ledger.HELD, checks, "failed blocking checks")
        else:
            judgement.verdicts[entry.file_id] = (ledger.ACCEPTED, (), None)
    return judgement
