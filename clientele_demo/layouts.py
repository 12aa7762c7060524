"""How each vendor profile formats its exports beyond what its YAML says (headers and value maps live there)."""

from __future__ import annotations

from dataclasses import dataclass

from clientele_demo.vocabularies import table

FILE_SUFFIX = {"csv": "csv", "jsonl": "jsonl", "xlsx": "xlsx"}


@dataclass(frozen=True)
class Layout:
    language: str  # en | zh: free-text vocabularies (industry, channel, cities, ...)
    country_style: str  # iso | en | zh
    default_encoding: str
    encodings: dict[str, str]  # entity -> encoding when not the default
    formats: dict[str, str]  # entity -> csv | jsonl | xlsx (default csv)
    date_style: str  # iso (2026-03-04) | slash (2026/3/4)
    timestamp_style: str  # seconds (2026-03-04 10:15:00) | offset (2026-03-04T10:15:00+08:00) | minutes
    shift_seconds: int  # the demo timeline is China Standard Time; generic exports are UTC
    thousands: str | None  # taken from the profile YAML
    line_end: bytes
    phone_style: int  # index into formats.PHONE_STYLES
    ids: dict[str, tuple[str, int]]  # record kind -> (prefix, zero-padded digits)


def _ids(text: str) -> dict[str, tuple[str, int]]:
    return {kind: (prefix, int(width)) for kind, prefix, width in table(text)}


LAYOUTS = {
    "generic": Layout(
        language="en",
        country_style="iso",
        default_encoding="utf-8",
        encodings={},
        formats={"products": "xlsx", "interactions": "jsonl"},
        date_style="iso",
        timestamp_style="seconds",
        shift_seconds=-8 * 3600,
        thousands=None,
        line_end=b"\n",
        phone_style=0,
        ids=_ids(
            "customers|CUS-|8; webshop|WEB-|8; orders|SO-|10; interactions|INT-|10; tickets|TKT-|9; "
            "surveys|SRV-|9; products|PRD-|5"
        ),
    ),
    "zoho": Layout(
        language="en",
        country_style="en",
        default_encoding="utf-8",
        encodings={},
        formats={},
        date_style="iso",
        timestamp_style="offset",
        shift_seconds=0,
        thousands=None,
        line_end=b"\n",
        phone_style=1,
        ids=_ids(
            "customers|415086800|10; webshop|WS|8; orders|415086801|10; interactions|415086802|10; "
            "tickets|415086803|10; surveys|415086804|10; products|415086805|10"
        ),
    ),
    "fxiaoke": Layout(
        language="zh",
        country_style="zh",
        default_encoding="gb18030",
        encodings={"surveys": "utf-8-sig"},
        formats={"products": "xlsx"},
        date_style="slash",
        timestamp_style="minutes",
        shift_seconds=0,
        thousands=",",
        line_end=b"\r\n",
        phone_style=2,
        ids=_ids(
            "customers|KH|8; webshop|WX|8; orders|DD|10; interactions|GJ|10; tickets|GD|9; surveys|WJ|9; products|CP|5"
        ),
    ),
}
