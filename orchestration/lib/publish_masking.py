"""Masking of e-mails and phone numbers by content, wherever they appear in published text.

Columns marked `meta: {pii: true}` are hashed whole (see publish.py). Every other VARCHAR column of every
published table goes through one rule, so an e-mail used as a CRM id, a lead named after its e-mail or an owner
stored as a phone number never reaches BI in clear text:

1. A whole value (trimmed) that is an e-mail -> `sha256(salt || lower(trim(value)))`: the hash the `email`
   column gets, so a customer id that is an e-mail still joins to the hashed e-mail.
2. A whole value that is a phone number -> `sha256(salt || digits)`, the digits of the value; a bare Chinese
   mobile gets its calling code 86 first. That is the `phone` column's hash (E.164 digits) whenever the value
   carries its country code or is a Chinese mobile.
3. E-mails and phone numbers inside longer text -> a marker `[email:<h>]` / `[phone:<h>]`, where `<h>` is the
   first 16 hex digits of the hash of rule 1 / 2. Values stay distinct (a key "generic:<e-mail>" stays
   unique) and relate to the whole-value hash.

What is an e-mail: `local@domain.tld`, none of the parts holding white space, quotes, brackets, `<>`, `,;:` or
a second `@` (and the last label no dot: "mail a@b.com." ends before the full stop).

What is a phone number (the digits of an id must not qualify, so the rule looks at the form, not at digits):
- international: `+` (optionally in parentheses with the country code) followed by 7-15 digits, optionally
  grouped by single spaces, hyphens, dots or parentheses: `+86 138 1234 5678`, `(+86) 138-1234-5678`,
  `+14155550134`;
- a Chinese mobile standing alone (not glued to letters or digits): `1[3-9]` and 9 more digits, optionally
  grouped 3-4-4 and prefixed by `86`: `13812345678`, `138 1234 5678`, `8613812345678`;
- grouped national forms: `415-555-0134`, `(415) 555 0134`, `415.555.0134` (3-3-4) and Chinese landlines
  `010-12345678`, `0755-1234567`;
- a whole value made only of digits and phone separators whose digits equal the digits of a phone number in
  the customer records as exported (`raw.customers.phone`): a CRM that keys customers by their phone.

Not phones: ids with a prefix or zero padding (`CUS-00000001`, `SO-0000000001`), long numeric ids (19-digit
Zoho ids), order numbers and dates (`20260304001`, `2026-03-04`), amounts. Limits, accepted: an id of exactly
11 digits starting with 13-19 standing alone reads as a Chinese mobile and is hashed; a bare national number
without separators (`4155550134`) inside longer text is kept unless it is a Chinese mobile; numbers written with
a `00` international prefix are recognised only when known from the customer records.

Cost: one regular expression decides for most values (no `@` and no phone form: published as they are); the
whole-value tests and the per-token rewrite run only for the few that match; the known-phone rule is a hash
semi-join on the digits of values made only of digits and separators. No subquery is evaluated per row.
Measured (tests/unit/test_publish_masking.py, 2 shared cores): 1M rows x 5 all-distinct text columns (ids,
names, owners, keys, 19-digit ids; 1% e-mails or phones) 2.4 s masked vs 0.3-0.5 s copied as they are, about
0.4 s per column and million rows, of which the known-phone rule is about half. Low-cardinality columns cost
less: DuckDB evaluates functions once per dictionary entry of a compressed column.
"""

from __future__ import annotations

import os
import secrets

import duckdb

from orchestration.lib.settings import WarehousePaths

SALT_VARIABLE = "clientele_pii_salt"
ENV_PII_SALT = "CLIENTELE_PII_SALT"
KNOWN_PHONES_TABLE = "clientele_known_phone_digits"

_NOT_IN_EMAIL = r"""[^\s@"'<>()\[\]{},;:]"""
_NOT_IN_TLD = r"""[^\s@"'<>()\[\]{},;:.]"""  # a sentence's full stop after an address is not part of it
EMAIL_PATTERN = f"{_NOT_IN_EMAIL}+@{_NOT_IN_EMAIL}+\\.{_NOT_IN_TLD}+"
INTERNATIONAL_PHONE_PATTERN = r"\(?\+\d(?:[ \-.()]{0,2}\d){6,14}"
CHINESE_MOBILE_PATTERN = r"\b(?:86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}\b"
GROUPED_PHONE_PATTERN = r"(?:\(\d{3}\) ?|\b\d{3}[ \-.])\d{3}[ \-.]\d{4}\b|\b0\d{2,3}-\d{7,8}\b"
PHONE_PATTERN = f"{INTERNATIONAL_PHONE_PATTERN}|{CHINESE_MOBILE_PATTERN}|{GROUPED_PHONE_PATTERN}"
# e-mails first: at one position the first alternative that matches wins ("13812345678@qq.com" is an e-mail)
IDENTIFIER_PATTERN = f"{EMAIL_PATTERN}|{PHONE_PATTERN}"
# a whole value that may be a known phone: digits and separators only
PHONE_SHAPED_PATTERN = r"\s*\+?[\d \-.()]{7,22}\s*"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


MACROS = f"""
create or replace temp macro clientele_salted_hash(text) as sha256(getvariable('{SALT_VARIABLE}') || text);
create or replace temp macro clientele_digits(text) as regexp_replace(text, '[^0-9]', '', 'g');
create or replace temp macro clientele_phone_digits(text) as
    case when regexp_full_match(trim(text), {_literal(CHINESE_MOBILE_PATTERN)})
            and not clientele_digits(text) like '86%'
        then '86' || clientele_digits(text)
        else clientele_digits(text)
    end;
create or replace temp macro clientele_known_phone_key(text) as
    case when regexp_full_match(text, {_literal(PHONE_SHAPED_PATTERN)}) then clientele_digits(text) end;
create or replace temp macro clientele_token_marker(token) as
    case when contains(token, '@')
        then '[email:' || left(clientele_salted_hash(lower(token)), 16) || ']'
        else '[phone:' || left(clientele_salted_hash(clientele_phone_digits(token)), 16) || ']'
    end;
create or replace temp macro clientele_mask_embedded(text) as array_to_string(
    list_transform(
        list_zip(
            regexp_split_to_array(text, {_literal(IDENTIFIER_PATTERN)}),
            regexp_extract_all(text, {_literal(IDENTIFIER_PATTERN)})
        ),
        lambda pair: pair[1] || coalesce(clientele_token_marker(pair[2]), '')
    ),
    ''
);
create or replace temp macro clientele_mask_text(text) as
    case
        when text is null then null
        when contains(text, '@') or regexp_matches(text, {_literal(PHONE_PATTERN)}) then
            case
                when regexp_full_match(trim(text), {_literal(EMAIL_PATTERN)})
                    then clientele_salted_hash(lower(trim(text)))
                when regexp_full_match(trim(text), {_literal(PHONE_PATTERN)})
                    then clientele_salted_hash(clientele_phone_digits(text))
                else clientele_mask_embedded(text)
            end
        when clientele_known_phone_key(text) in (select digits from {KNOWN_PHONES_TABLE})
            then clientele_salted_hash(clientele_digits(text))
        else text
    end;
"""


def install_masking(conn: duckdb.DuckDBPyConnection, salt: str, customer_records: str | None) -> None:
    """Create the masking macros in `conn` (temporary, this connection only) with the salt bound as a variable.

    `customer_records` is a relation with the customers' exported `phone` column (`raw.customers`), or None
    when there is none yet: the known-phone rule then matches nothing.
    """
    conn.execute(f"set variable {SALT_VARIABLE} = ?", [salt])
    source = (
        f"select distinct clientele_digits(phone) as digits from {customer_records} where phone is not null"
        if customer_records
        else "select null::varchar as digits where false"
    )
    conn.execute("create or replace temp macro clientele_digits(text) as regexp_replace(text, '[^0-9]', '', 'g')")
    conn.execute(
        f"create or replace temp table {KNOWN_PHONES_TABLE} as select digits from ({source}) "
        "where length(digits) between 7 and 15"
    )
    conn.execute(MACROS)


def masked_expression(name: str, data_type: str, *, hashed: bool, mask: bool) -> str:
    """The value column `name` is published as: hashed whole (pii), masked by content (text), or as is."""
    quoted = '"' + name.replace('"', '""') + '"'
    if not mask:
        return quoted
    if hashed:
        return f"clientele_salted_hash({quoted})"
    if data_type == "VARCHAR":
        return f"clientele_mask_text({quoted})"
    return quoted


def masked_column(name: str, data_type: str, *, hashed: bool, mask: bool) -> str:
    """Select expression publishing column `name` under its own name (see `masked_expression`)."""
    quoted = '"' + name.replace('"', '""') + '"'
    expression = masked_expression(name, data_type, hashed=hashed, mask=mask)
    return quoted if expression == quoted else f"{expression} as {quoted}"


def depends_on_known_phones(name: str, data_type: str, *, hashed: bool, mask: bool) -> bool:
    """Whether the published value of column `name` can change with the known phone numbers alone."""
    return mask and not hashed and data_type == "VARCHAR"


def known_phone_key(name: str) -> str:
    """The digits by which a value of column `name` would match a known phone number (null when it cannot)."""
    return 'clientele_known_phone_key("' + name.replace('"', '""') + '")'


BOOKKEEPING_PREFIX = "_"  # a mart's columns named "_..." serve incremental builds and are not published


def masked_select_list(
    conn: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str, *, hashed: set[str], mask: bool
) -> str:
    """Every column of `catalog.schema.table` but the bookkeeping ones, in order, as `masked_column` publishes
    it."""
    columns = conn.execute(
        "select column_name, data_type from duckdb_columns() where database_name = ? and schema_name = ? "
        "and table_name = ? and not starts_with(column_name, ?) order by column_index",
        [catalog, schema, table, BOOKKEEPING_PREFIX],
    ).fetchall()
    if not columns:
        raise LookupError(f"{schema}.{table} is missing from {catalog}")
    return ", ".join(masked_column(name, data_type, hashed=name in hashed, mask=mask) for name, data_type in columns)


def pii_salt(paths: WarehousePaths) -> str:
    """Salt from CLIENTELE_PII_SALT, else one generated once per warehouse (kept beside it, never published)."""
    if os.environ.get(ENV_PII_SALT):
        return os.environ[ENV_PII_SALT]
    salt_file = paths.warehouse_dir / ".pii_salt"
    if not salt_file.exists():
        paths.warehouse_dir.mkdir(parents=True, exist_ok=True)
        salt_file.write_text(secrets.token_hex(16), encoding="utf-8")
        salt_file.chmod(0o600)
    return salt_file.read_text(encoding="utf-8").strip()
