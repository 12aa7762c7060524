"""The public entry point: write a profile's demo exports, chunk by chunk, and their manifest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from clientele_demo.catalogue import build_catalogue
from clientele_demo.context import Context
from clientele_demo.defects import inject_defects
from clientele_demo.history import customer_versions, order_versions
from clientele_demo.identity import webshop_duplicates
from clientele_demo.layouts import LAYOUTS
from clientele_demo.manifest import MANIFEST_NAME, DemoManifest
from clientele_demo.sampling import DAY_SECONDS, size
from clientele_demo.simulation import simulate_chunk
from clientele_demo.vocabularies import INTERACTION_TYPES
from clientele_demo.writer import Export
from orchestration.lib.schema import ENTITIES, load_profiles

CHUNK_CUSTOMERS = 100_000  # customers simulated and written at once: bounds memory, not the result
MAX_CUSTOMERS = 50_000_000
_SIMULATED = ("customers", "orders", "order_lines", "interactions", "tickets", "surveys")


def _add(totals: dict, counts: dict) -> None:
    """Add nested counts into `totals`."""
    for key, value in counts.items():
        if isinstance(value, dict):
            _add(totals.setdefault(key, {}), value)
        else:
            totals[key] = totals.get(key, 0) + value


def generate_demo_exports(
    out_dir: Path,
    customers: int,
    *,
    seed: int = 42,
    profile: str = "generic",
    defects: bool = False,
    end_date: date,
    progress: Callable[[str], None] | None = None,
) -> DemoManifest:
    """Write demo CRM exports for `customers` customers in `profile`'s layout into `out_dir`.

    Main files hold every record as first saved, `*_changes` files the later versions, `*_customers_webshop`
    the webshop's duplicate records. Same arguments give byte-identical files. Returns (and writes to
    `out_dir/_demo_manifest.json`) the manifest: every file with its data rows and, with `defects`, the exact
    count of each defect.
    """
    profiles = load_profiles()
    if profile not in profiles:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(sorted(profiles))}")
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS:,}, got {customers}")
    vendor = profiles[profile]
    missing = [e for e in ENTITIES if e not in vendor.entities]
    if missing:
        raise ValueError(f"profile {profile!r} has no layout for {', '.join(missing)}; cannot write demo data")
    layout = replace(LAYOUTS.get(profile, LAYOUTS["generic"]), thousands=vendor.thousands_separator)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda _message: None)

    interaction_map = vendor.entities["interactions"].value_maps.get("interaction_type")
    allowed = [i for i, v in enumerate(INTERACTION_TYPES) if not interaction_map or v in interaction_map.values()]
    end_day = (end_date - date(1970, 1, 1)).days
    ctx = Context(
        profile=vendor,
        layout=layout,
        end_day=end_day,
        end_seconds=(end_day + 1) * DAY_SECONDS - 1,
        catalogue=build_catalogue(seed),
        interaction_types=np.asarray(allowed),
        counters={
            **dict.fromkeys(("webshop", "orders", "interactions", "tickets", "surveys", "extra_orders", "orphan"), 0),
            "customers_total": customers,
        },
    )
    manifest = DemoManifest(
        profile=profile, seed=seed, customers=customers, end_date=end_date.isoformat(), with_defects=defects
    )
    exports = {entity: Export(out_dir, f"{profile}_{entity}", entity, "main", ctx) for entity in ENTITIES}
    exports["customers_webshop"] = Export(
        out_dir, f"{profile}_customers_webshop", "customers", "identity_duplicates", ctx
    )
    exports["customers_changes"] = Export(out_dir, f"{profile}_customers_changes", "customers", "changed_records", ctx)
    exports["orders_changes"] = Export(out_dir, f"{profile}_orders_changes", "orders", "changed_records", ctx)
    records = dict.fromkeys(ENTITIES, 0)
    identity: dict = {}
    history: dict = {}
    leads = 0
    try:
        catalogue_size = ctx.catalogue["list_cents"].size
        products = {"product": np.arange(catalogue_size)}
        records["products"] = catalogue_size
        product_defects: dict[str, int] = {}
        if defects:
            rng = np.random.default_rng([seed, 2])
            products, product_defects = inject_defects(
                rng, "products", products, exports["products"].file_format, True, None, ctx
            )
        exports["products"].write(products, product_defects)

        for chunk_index, low in enumerate(range(0, customers, CHUNK_CUSTOMERS)):
            count = min(CHUNK_CUSTOMERS, customers - low)
            rng = np.random.default_rng([seed, 0, chunk_index])
            chunk = simulate_chunk(rng, low + 1, count, ctx)
            links = chunk.later_links
            linked = np.zeros(count, bool)
            linked[links.rows] = True
            webshop, webshop_counts, duplicated = webshop_duplicates(rng, chunk.customers, chunk.orders, linked, ctx)
            _add(identity, webshop_counts)
            _add(
                identity,
                {
                    "linked_later": int(links.record.size),
                    "linked_later_by_email": int(links.by_email.sum()),
                    "linked_later_by_phone": int((~links.by_email).sum()),
                },
            )
            leads += int((np.bincount(chunk.orders["customer"], minlength=count) == 0).sum())

            for entity in ("orders", "interactions", "tickets", "surveys"):
                table = chunk.table(entity)
                rows = size(table)
                table["number"] = ctx.counters[entity] + 1 + np.arange(rows, dtype=np.int64)
                ctx.counters[entity] += rows
            chunk.order_lines["order_number"] = chunk.orders["number"][chunk.order_lines["order"]]

            # Records whose e-mail and phone join them to another record keep them; so do their originals.
            identity_fixed = linked.copy()
            identity_fixed[duplicated] = True
            customer_changes, customer_counts = customer_versions(rng, chunk.customers, links, identity_fixed, ctx)
            order_changes, order_counts, changed_orders = order_versions(rng, chunk.orders, ctx)
            _add(history, {"customers": customer_counts, "orders": order_counts})

            # Defects never touch a record with later versions or identity links: the history stays readable.
            changed_customers = np.zeros(count, bool)
            changed_customers[np.isin(chunk.customers["number"], customer_changes["number"])] = True
            protected = {
                "customers": identity_fixed | changed_customers,
                "orders": np.isin(np.arange(size(chunk.orders)), changed_orders),
            }
            for entity in _SIMULATED:
                table = chunk.table(entity)
                records[entity] += size(table)
                found: dict[str, int] = {}
                if defects:
                    table, found = inject_defects(
                        rng, entity, table, exports[entity].file_format, chunk_index == 0, protected.get(entity), ctx
                    )
                exports[entity].write(table, found)
            exports["customers_webshop"].write(webshop)
            exports["customers_changes"].write(customer_changes)
            exports["orders_changes"].write(order_changes)
            report(f"{profile}: {low + count:,} of {customers:,} customers written")
    finally:
        manifest.files = [export.close() for export in exports.values()]
    manifest.records = records
    manifest.leads_without_orders = leads
    manifest.identity_duplicates = identity
    manifest.changed_records = {
        "customers": manifest.file(exports["customers_changes"].record.name).rows,
        "orders": manifest.file(exports["orders_changes"].record.name).rows,
    }
    manifest.history = history
    (out_dir / MANIFEST_NAME).write_text(manifest.to_json(), encoding="utf-8")
    return manifest
