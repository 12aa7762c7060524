"""Test helpers: a raw DuckDB database as ingest leaves it (rows plus an accepted ledger file per entity,
profile and load), and a real `dbt build` of the project on it as of a given date."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.lib.ingest.ledger import ensure_ledger
from orchestration.lib.schema import canonical_schema
from orchestration.lib.settings import DBT_PROJECT_DIR

LINEAGE_TYPES = {"_file_id": "integer", "_source_row": "bigint"}


def write_raw_database(tables: dict[str, pd.DataFrame], database: Path) -> None:
    """Create `raw.<entity>` for every canonical entity with the canonical columns plus lineage, one accepted
    ledger file per entity, profile (`_source_profile`) and load (`_loaded_at`), and insert the rows of
    ``tables`` (entities without rows stay empty)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(database)) as conn:
        ensure_ledger(conn)
        file_id = 0
        for entity, columns in canonical_schema().items():
            typed = {c.name: c.data_type for c in columns} | LINEAGE_TYPES
            conn.execute(
                f"create or replace table raw.{entity} ("
                + ", ".join(f'"{name}" {data_type}' for name, data_type in typed.items())
                + ")"
            )
            frame = tables.get(entity)
            if frame is None or frame.empty:
                continue
            for (profile, loaded_at), rows in frame.groupby(["_source_profile", "_loaded_at"], sort=True):
                file_id += 1
                name = f"{profile}_{entity}_{loaded_at:%Y%m%d}.csv"
                conn.execute(
                    "insert into raw._ingest_ledger (file_id, file_hash, source_file, entity, source_profile, "
                    "file_format, encoding, rows_in_file, rows_loaded, rows_quarantined, loaded_at, state, "
                    "state_changed_at, accepted_seq) values (?, ?, ?, ?, ?, 'csv', 'utf-8', ?, ?, 0, ?, 'accepted', "
                    "?, ?)",
                    [
                        file_id,
                        hashlib.sha256(name.encode()).hexdigest(),
                        name,
                        entity,
                        profile,
                        len(rows),
                        len(rows),
                        loaded_at,
                        loaded_at,
                        file_id,
                    ],
                )
                file_rows = rows.assign(_file_id=file_id, _source_row=np.arange(len(rows)) + 2)
                loaded = file_rows.reindex(columns=list(typed))  # noqa: F841 (scanned by DuckDB)
                conn.execute(f"insert into raw.{entity} by name select * from loaded")


def dbt_build(root: Path, database: Path, as_of: date, selection: list[str] | None = None) -> dict:
    """`dbt build` (unit tests included) of the project on ``database`` as of ``as_of``, target and logs under
    ``root``; fails the test on any error. Returns run_results.json."""
    env = os.environ | {"CLIENTELE_WAREHOUSE": str(database.parent), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    completed = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            *(selection or []),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(root / "target"),
            "--log-path",
            str(root / "logs"),
            "--vars",
            json.dumps({"as_of_date": as_of.isoformat()}),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    return json.loads((root / "target" / "run_results.json").read_text(encoding="utf-8"))
