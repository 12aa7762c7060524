"""Entity renderers: a table of one entity -> its canonical columns as byte-block fields, in the layout's style."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from clientele_demo.context import Context
from clientele_demo.defects import BAD_AMOUNTS, BAD_DATES, UNKNOWN_CURRENCIES
from clientele_demo.formats import date_matrix, id_field, local_days, money_field, phone_blocks, timestamp_blocks
from clientele_demo.render import Field, Words, blank_rows, const, digits, int_field, text_field, where
from clientele_demo.sampling import Table, size
from clientele_demo.vocabularies import (
    ALL_CITIES,
    CHANNELS,
    CHINA,
    CHINESE_BRANDS,
    CHINESE_COMPANY_SUFFIXES,
    COMPANY_EMAIL_ROLES,
    COUNTRIES,
    CURRENCIES,
    FIRST_NAMES,
    FOREIGN_BRANDS,
    GIVEN_NAMES,
    INDUSTRIES,
    INTERACTION_CHANNELS,
    INTERACTION_TYPES,
    LAST_NAMES,
    LEAD_SOURCES,
    ORDER_STATUSES,
    OWNERS,
    PERSON_EMAIL_DOMAINS_CN,
    PERSON_EMAIL_DOMAINS_INT,
    PRODUCT_CATEGORIES,
    PRODUCT_GENERATIONS,
    PRODUCT_ITEMS,
    PRODUCT_MODELS,
    SURNAMES,
    SURVEY_COMMENTS,
    TICKET_CATEGORIES,
    TICKET_PRIORITIES,
    TICKET_STATUSES,
    WEBSHOP_SOURCE,
)


def _value_words(
    ctx: Context, entity: str, column: str, canonical: Sequence[str]
) -> tuple[Words, np.ndarray, np.ndarray]:
    """The profile's vendor values for canonical values (reversed value map), as words + offsets."""
    entity_profile = ctx.profile.entities.get(entity)
    value_map = entity_profile.value_maps.get(column, {}) if entity_profile else {}
    options: list[list[str]] = []
    for value in canonical:
        vendor = [k for k, v in value_map.items() if v == value]
        options.append(vendor or [value])
    offsets = np.cumsum([0] + [len(o) for o in options])[:-1]
    return Words([v for o in options for v in o]), offsets, np.array([len(o) for o in options])


_ADDRESSLESS_PERSON_SHARE = 0.05


def _unit_hash(numbers: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per record number (Knuth's multiplicative hash)."""
    return ((numbers.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(2**32)) / 2**32


def _vendor_field(ctx: Context, entity: str, column: str, canonical: Sequence[str], idx, key, encoding) -> Field:
    """Vendor value per row; canonical values with several vendor spellings alternate by `key`."""
    words, offsets, counts = _value_words(ctx, entity, column, canonical)
    return text_field(words, offsets[idx] + key % counts[idx], encoding)


def _lang(ctx: Context, pairs: Sequence[tuple], en: int = 0, zh: int = 1) -> Words:
    return Words([p[zh] if ctx.layout.language == "zh" else p[en] for p in pairs])


def _customer_fields(t: Table, ctx: Context, encoding: str) -> dict[str, Field]:
    layout, n = ctx.layout, size(t)
    zh = layout.language == "zh"
    company, country = t["company"], t["country"]
    china = country == CHINA
    space = const(n, b" ")
    a, b, c = t["name_a"], t["name_b"], t["name_c"]
    person_cn, person_int = ~company & china, ~company & ~china
    company_cn, company_int = company & china, company & ~china
    name_blocks, name_quote = [], np.zeros(n, bool)

    def part(words: Words, idx: np.ndarray, rows: np.ndarray) -> np.ndarray:
        nonlocal name_quote
        name_quote = name_quote | (words.needs_quote(idx, encoding) & rows)
        return words.block(idx, encoding, rows)

    surnames = Words([s[0] if zh else s[1] for s in SURNAMES])
    given = Words([g[0] if zh else g[1] for g in GIVEN_NAMES])
    if zh:
        name_blocks += [part(surnames, a, person_cn), part(given, b, person_cn)]
    else:
        name_blocks += [part(surnames, a, person_cn), blank_rows(space, ~person_cn), part(given, b, person_cn)]
    name_blocks += [
        part(Words(FIRST_NAMES), a, person_int),
        blank_rows(space, ~person_int),
        part(Words([x[0] for x in LAST_NAMES]), b, person_int),
    ]
    city_short = Words([x.city_zh if zh else x.city_en for x in ALL_CITIES])
    brands = Words([x[0] if zh else x[1] for x in CHINESE_BRANDS])
    words_cn = Words([x[3] if zh else x[2] for x in INDUSTRIES])
    suffix_cn = Words([x[0] if zh else x[1] for x in CHINESE_COMPANY_SUFFIXES])
    gap = blank_rows(space, ~company_cn) if not zh else np.zeros((n, 0), np.uint8)
    name_blocks += [
        part(city_short, t["city"], company_cn),
        gap,
        part(brands, a, company_cn),
        gap,
        part(words_cn, b, company_cn),
        gap,
        part(suffix_cn, c, company_cn),
    ]
    name_blocks += [
        part(Words(FOREIGN_BRANDS), a, company_int),
        blank_rows(space, ~company_int),
        part(Words([x[2] for x in INDUSTRIES]), b, company_int),
        blank_rows(space, ~company_int),
        part(Words([x.company_suffix for x in COUNTRIES]), country, company_int),
    ]
    fields = {"customer_name": Field(name_blocks, quote=name_quote)}
    fields["customer_id"] = id_field(layout, "customers", t["number"], t["webshop"])
    fields["customer_type"] = _vendor_field(
        ctx, "customers", "customer_type", ("company", "person"), (~company).astype(np.int64), t["number"], encoding
    )

    # E-mail: local part @ domain, lower case, then the per-row case variant.
    ascii_ = "ascii"
    number_digits = digits(t["email_number"])
    local = [
        Words([g[1].lower() for g in GIVEN_NAMES]).block(b, ascii_, person_cn),
        Words([x.lower() for x in FIRST_NAMES]).block(a, ascii_, person_int),
        where(~company, b"."),
        Words([s[1].lower() for s in SURNAMES]).block(a, ascii_, person_cn),
        Words([x[1] for x in LAST_NAMES]).block(b, ascii_, person_int),
        Words(COMPANY_EMAIL_ROLES).block(t["email_domain"], ascii_, company),
        number_digits,
        const(n, b"@"),
        Words(PERSON_EMAIL_DOMAINS_CN).block(t["email_domain"], ascii_, person_cn),
        Words(PERSON_EMAIL_DOMAINS_INT).block(t["email_domain"], ascii_, person_int),
        Words([x[1].lower() for x in CHINESE_BRANDS]).block(a, ascii_, company_cn),
        Words([x.lower().replace(" ", "") for x in FOREIGN_BRANDS]).block(a, ascii_, company_int),
        Words([x[4] for x in INDUSTRIES]).block(b, ascii_, company),
        where(company, b"."),
        Words([x.tld for x in COUNTRIES]).block(country, ascii_, company),
    ]
    email = np.hstack(local)
    case = t["email_case"]
    letters = (email >= 97) & (email <= 122)
    first_letter = np.zeros_like(letters)
    first_letter[np.arange(n), np.argmax(email != 0, axis=1)] = True
    upper = (case == 1)[:, None] | ((case >= 2)[:, None] & first_letter)
    upper |= (case == 3)[:, None] & (np.arange(email.shape[1]) % 3 == 0)[None, :]
    email = np.where(upper & letters, email - 32, email).astype(np.uint8)
    padded = t["email_padded"]
    fields["email"] = Field([where(padded, b" "), email, where(padded, b"  ")], null=~t["has_email"])
    fields["phone"] = Field(phone_blocks(t["national"], country, t["phone_style"]), null=~t["has_phone"])
    country_words = {
        "iso": [x.iso for x in COUNTRIES],
        "en": [x.name_en for x in COUNTRIES],
        "zh": [x.name_zh for x in COUNTRIES],
    }[layout.country_style]
    # About 5% of the persons never gave an address: no country, province or city in any version. Drawn by
    # hashing the record number, so the random stream (and every other value of the demo) stays the same.
    no_address = ~company & ~t["webshop"] & (_unit_hash(t["number"]) < _ADDRESSLESS_PERSON_SHARE)
    fields["country"] = text_field(Words(country_words), country, encoding, null=no_address)
    fields["province"] = text_field(
        Words([x.province_zh if zh else x.province_en for x in ALL_CITIES]), t["city"], encoding, null=no_address
    )
    city_names = [x.city_zh + ("市" if x.country == "CN" else "") if zh else x.city_en for x in ALL_CITIES]
    fields["city"] = text_field(Words(city_names), t["city"], encoding, null=no_address)
    fields["industry"] = text_field(_lang(ctx, INDUSTRIES), t["industry"], encoding, null=t["industry"] < 0)
    fields["owner"] = text_field(_lang(ctx, OWNERS, en=1, zh=0), t["owner"], encoding, null=t["owner"] < 0)
    fields["lead_source"] = text_field(_lang(ctx, [*LEAD_SOURCES, WEBSHOP_SOURCE]), t["lead_source"], encoding)
    fields["created_at"] = Field(timestamp_blocks(t["created"], layout))
    fields["updated_at"] = Field(timestamp_blocks(t["updated"], layout))
    return fields


def _order_fields(t: Table, ctx: Context, encoding: str) -> dict[str, Field]:
    layout = ctx.layout
    fields = {
        "order_id": id_field(layout, "orders", t["number"]),
        "customer_id": id_field(layout, "customers", t["customer_number"], t["customer_webshop"]),
        # The day the order was placed where the export's clock runs, so ordered_at falls on order_date.
        "order_date": Field([date_matrix(local_days(t["time"], layout), layout.date_style)]),
        "ordered_at": Field(timestamp_blocks(t["time"], layout)),
        "amount": money_field(t["amount"], layout),
        "currency": text_field(Words(CURRENCIES), t["currency"], encoding),
        "status": _vendor_field(ctx, "orders", "status", ORDER_STATUSES, t["status"], t["number"], encoding),
        "channel": text_field(_lang(ctx, CHANNELS), t["channel"], encoding),
        "updated_at": Field(timestamp_blocks(t["updated"], layout)),
    }
    if "_bad_kind" in t:
        for kind, column, vocabulary in (
            (0, "order_date", BAD_DATES),
            (1, "amount", BAD_AMOUNTS),
            (2, "currency", UNKNOWN_CURRENCIES),
        ):
            rows = t["_bad_kind"] == kind
            fields[column].override(rows, Words(vocabulary).block(t["_bad"], encoding, rows))
    return fields


def _line_fields(t: Table, ctx: Context, encoding: str) -> dict[str, Field]:
    layout = ctx.layout
    return {
        "order_id": id_field(layout, "orders", t["order_number"]),
        "line_number": int_field(t["line_number"]),
        "product_id": id_field(layout, "products", t["product"] + 1),
        "quantity": int_field(t["quantity"]),
        "unit_price": money_field(t["unit_cents"], layout),
        "line_amount": money_field(t["line_cents"], layout),
    }


def _product_fields(t: Table, ctx: Context, encoding: str) -> dict[str, Field]:
    layout, catalogue = ctx.layout, ctx.catalogue
    zh = layout.language == "zh"
    idx = t["product"]
    items = [item[1] if zh else item[0] for item in PRODUCT_ITEMS]
    item_index = catalogue["category"][idx] * (len(PRODUCT_ITEMS) // len(PRODUCT_CATEGORIES)) + catalogue["item"][idx]
    n = idx.size
    name = [
        Words(items).block(item_index, encoding),
        const(n, b" "),
        Words([m[0] for m in PRODUCT_MODELS]).block(catalogue["model"][idx], encoding),
        const(n, b" "),
        Words([g[0] for g in PRODUCT_GENERATIONS]).block(catalogue["generation"][idx], encoding),
    ]
    return {
        "product_id": id_field(layout, "products", idx + 1),
        "product_name": Field(name),
        "category": text_field(_lang(ctx, PRODUCT_CATEGORIES), catalogue["category"][idx], encoding),
        "list_price": money_field(catalogue["list_cents"][idx], layout),
    }


def _interaction_fields(t: Table, ctx: Context, encoding: str) -> dict[str, Field]:
    layout = ctx.layout
    return {
        "interaction_id": id_field(layout, "interactions", t["number"]),
        "customer_id": id_field(layout, "customers", t["customer_number"]),
        "occurred_at": Field(timestamp_blocks(t["time"], layout)),
        "interaction_type": _vendor_field(
            ctx, "interactions", "interaction_type", INTERACTION_TYPES, t["type"], t["number"], encoding
        ),
        "channel": text_field(_lang(ctx, INTERACTION_CHANNELS), t["channel"], encoding),
    }


def _ticket_fields(t: Table, ctx: Context, encoding: str) -> dict[str, Field]:
    layout = ctx.layout
    open_ = t["resolved"] < 0
    return {
        "ticket_id": id_field(layout, "tickets", t["number"]),
        "customer_id": id_field(layout, "customers", t["customer_number"]),
        "opened_at": Field(timestamp_blocks(t["opened"], layout)),
        "resolved_at": Field(timestamp_blocks(np.maximum(t["resolved"], 0), layout), null=open_),
        "status": _vendor_field(ctx, "tickets", "status", TICKET_STATUSES, t["status"], t["number"], encoding),
        "priority": _vendor_field(ctx, "tickets", "priority", TICKET_PRIORITIES, t["priority"], t["number"], encoding),
        "category": text_field(_lang(ctx, TICKET_CATEGORIES), t["category"], encoding),
    }


def _survey_fields(t: Table, ctx: Context, encoding: str) -> dict[str, Field]:
    layout = ctx.layout
    return {
        "response_id": id_field(layout, "surveys", t["number"]),
        "customer_id": id_field(layout, "customers", t["customer_number"]),
        "responded_at": Field(timestamp_blocks(t["time"], layout)),
        "nps_score": int_field(t["nps"], null=t["nps"] < 0),
        "csat_score": int_field(t["csat"], null=t["csat"] < 0),
        "comment": text_field(_lang(ctx, SURVEY_COMMENTS), t["comment"], encoding, null=t["comment"] < 0),
    }


RENDERERS: dict[str, Callable[[dict, Context, str], dict[str, Field]]] = {
    "customers": _customer_fields,
    "orders": _order_fields,
    "order_lines": _line_fields,
    "products": _product_fields,
    "interactions": _interaction_fields,
    "tickets": _ticket_fields,
    "surveys": _survey_fields,
}
ID_COLUMNS = {
    "customers": "customer_id",
    "orders": "order_id",
    "order_lines": "order_id",
    "products": "product_id",
    "interactions": "interaction_id",
    "tickets": "ticket_id",
    "surveys": "response_id",
}
