"""The canonical raw schema (from the dbt sources yml) and the vendor profiles (YAML data)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from orchestration.lib.settings import ENV_EXTRA_PROFILES, PROFILES_DIR, RAW_SOURCES_YML

ENTITIES = ("customers", "orders", "order_lines", "products", "interactions", "tickets", "surveys")
LINEAGE_COLUMNS = ("_file_id", "_source_row")  # the file's name, hash, profile and load time: raw._ingest_ledger


@dataclass(frozen=True)
class CanonicalColumn:
    name: str
    data_type: str
    required: bool
    description: str = ""
    key: bool = False  # part of the record's key within its source profile
    plausible_max_abs_var: str | None = None  # dbt var bounding the absolute value; beyond it = quarantined


@dataclass(frozen=True)
class EntityProfile:
    """How one CRM names the columns and values of one entity."""

    entity: str
    header_to_column: dict[str, str]
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    module: str | None = None


@dataclass(frozen=True)
class VendorProfile:
    name: str
    description: str
    timezone: str
    date_formats: tuple[str, ...]
    thousands_separator: str | None
    entities: dict[str, EntityProfile]
    source_path: Path
    decimal_separator: str = "."


@cache
def canonical_schema() -> dict[str, tuple[CanonicalColumn, ...]]:
    """Entity -> ordered canonical columns, read from `_crm__sources.yml`."""
    with open(RAW_SOURCES_YML, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    tables = {t["name"]: t for source in doc["sources"] for t in source["tables"]}
    schema = {}
    for entity in ENTITIES:
        columns = []
        for col in tables[entity]["columns"]:
            meta = (col.get("config") or {}).get("meta") or {}
            columns.append(
                CanonicalColumn(
                    name=col["name"],
                    data_type=col["data_type"],
                    required=bool(meta.get("required", False)),
                    description=col.get("description", ""),
                    key=bool(meta.get("key", False)),
                    plausible_max_abs_var=meta.get("plausible_max_abs"),
                )
            )
        schema[entity] = tuple(columns)
    return schema


def entity_keys(entity: str) -> tuple[str, ...]:
    """The columns identifying a record of `entity` within one source profile (`meta.key` in the sources yml)."""
    keys = tuple(column.name for column in canonical_schema()[entity] if column.key)
    if not keys:
        raise ValueError(f"no key column (config.meta.key) for {entity} in the sources yml")
    return keys


def _profile_dirs() -> list[Path]:
    dirs = [PROFILES_DIR]
    extra = os.environ.get(ENV_EXTRA_PROFILES)
    if extra:
        dirs.append(Path(extra))
    return dirs


def _parse_profile(path: Path) -> VendorProfile:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    schema = canonical_schema()
    entities = {}
    for entity, spec in (doc.get("entities") or {}).items():
        if entity not in schema:
            raise ValueError(f"{path}: unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
        spec = spec or {}
        canonical_names = [c.name for c in schema[entity]]
        header_map = spec.get("columns") or {name: name for name in canonical_names}
        unknown = sorted(set(header_map.values()) - set(canonical_names))
        if unknown:
            raise ValueError(f"{path}: entity {entity!r} maps headers to unknown columns {unknown}")
        entities[entity] = EntityProfile(
            entity=entity,
            header_to_column={str(k): v for k, v in header_map.items()},
            value_maps={col: {str(k): str(v) for k, v in m.items()} for col, m in (spec.get("values") or {}).items()},
            module=spec.get("module"),
        )
    return VendorProfile(
        name=doc["name"],
        description=doc.get("description", ""),
        timezone=doc.get("timezone", "UTC"),
        date_formats=tuple(doc.get("date_formats") or ()),
        thousands_separator=doc.get("thousands_separator"),
        entities=entities,
        source_path=path,
        decimal_separator=str(doc.get("decimal_separator", ".")),
    )


@cache
def load_profiles() -> dict[str, VendorProfile]:
    """Every vendor profile: the bundled ones plus any in $CLIENTELE_PROFILES_DIR."""
    profiles: dict[str, VendorProfile] = {}
    for directory in _profile_dirs():
        for path in sorted(directory.glob("*.yaml")):
            profile = _parse_profile(path)
            profiles[profile.name] = profile
    return profiles
