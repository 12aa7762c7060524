"""The load floor: every CSV and JSON Lines export copied into a fresh DuckDB file, and nothing else.

python -m benchmarks.load_floor --inbox <dir> --out load_floor.duckdb

Each file becomes one table as DuckDB's readers detect it: no header mapping, no typing rules, no lineage
columns, no quarantine, no checks. Any pipeline that keeps the raw rows pays at least this; the pipeline's
ingest stage does the same reading plus all of those. XLSX exports (a few KB of products) are left out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

READERS = {".csv": "read_csv", ".jsonl": "read_json"}


def load_inputs(inbox: Path, out: Path) -> dict[str, int]:
    """Copy each readable export in `inbox` into a table of `out`; returns row counts by table."""
    out.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    with duckdb.connect(str(out)) as conn:
        for path in sorted(inbox.iterdir()):
            reader = READERS.get(path.suffix)
            if reader is None or path.name.startswith(("_", ".")):
                continue
            conn.execute(f'create table "{path.stem}" as select * from {reader}(?)', [str(path)])
            counts[path.stem] = conn.execute(f'select count(*) from "{path.stem}"').fetchall()[0][0]
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inbox", required=True, type=Path, help="directory of exports")
    parser.add_argument("--out", required=True, type=Path, help="DuckDB file to write (replaced)")
    args = parser.parse_args(argv)
    for table, rows in load_inputs(args.inbox, args.out).items():
        print(f"{table}: {rows:,} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
