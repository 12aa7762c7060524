"""The manifest `_demo_manifest.json`: every written file with its data rows and exact defect counts, and what
the generator planted (identity duplicates, later versions), so tests can check a load against it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from clientele_demo.defects import LOADABLE_DEFECTS, UNLOADABLE_DEFECTS

MANIFEST_NAME = "_demo_manifest.json"


@dataclass
class DemoFile:
    """One written export file."""

    name: str  # relative to out_dir
    entity: str
    file_format: str  # csv | jsonl | xlsx
    encoding: str  # utf-8 | utf-8-sig | gb18030 | xlsx
    purpose: str  # main | identity_duplicates | changed_records
    rows: int = 0  # data rows (records) in the file, defective ones included
    defects: dict[str, int] = field(default_factory=dict)

    @property
    def unloadable_rows(self) -> int:
        return sum(self.defects.get(kind, 0) for kind in UNLOADABLE_DEFECTS)

    @property
    def loadable_rows(self) -> int:
        return self.rows - self.unloadable_rows

    def to_dict(self) -> dict:
        return {**asdict(self), "unloadable_rows": self.unloadable_rows, "loadable_rows": self.loadable_rows}


@dataclass
class DemoManifest:
    """What `generate_demo_exports` wrote: every file with its row and defect counts, plus the scenarios."""

    profile: str
    seed: int
    customers: int
    end_date: str
    with_defects: bool
    files: list[DemoFile] = field(default_factory=list)
    # entity -> records generated before defects (what a clean load of the main file must contain)
    records: dict[str, int] = field(default_factory=dict)
    leads_without_orders: int = 0
    # webshop duplicates (records, matched_by_email/phone, orders_under_duplicate_id) and records joined to
    # another only by a later version (linked_later, linked_later_by_email/phone)
    identity_duplicates: dict[str, int] = field(default_factory=dict)
    # entity -> rows in its changes file (later versions)
    changed_records: dict[str, int] = field(default_factory=dict)
    # entity -> records with later versions and versions by change (see history.py)
    history: dict[str, dict] = field(default_factory=dict)

    def file(self, name: str) -> DemoFile:
        return next(f for f in self.files if f.name == name)

    def files_for(self, entity: str) -> list[DemoFile]:
        return [f for f in self.files if f.entity == entity]

    def to_json(self) -> str:
        doc = {
            "profile": self.profile,
            "seed": self.seed,
            "customers": self.customers,
            "end_date": self.end_date,
            "with_defects": self.with_defects,
            "defect_kinds": {"unloadable": list(UNLOADABLE_DEFECTS), "loads_dirty": list(LOADABLE_DEFECTS)},
            "files": [f.to_dict() for f in self.files],
            "records": self.records,
            "leads_without_orders": self.leads_without_orders,
            "identity_duplicates": self.identity_duplicates,
            "changed_records": self.changed_records,
            "history": self.history,
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
