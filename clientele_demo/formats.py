"""How values look in an export: dates, timestamps, money, record ids and phone numbers, as byte blocks."""

from __future__ import annotations

from functools import cache

import numpy as np

from clientele_demo.layouts import Layout
from clientele_demo.render import Field, Words, blank_rows, const, digits, grouped_digits, where
from clientele_demo.sampling import DAY_SECONDS
from clientele_demo.vocabularies import CHINA, COUNTRIES


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    stamp = days.astype("datetime64[D]")
    months = stamp.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (stamp - months).astype(np.int64) + 1
    return year, month, day


def date_matrix(days: np.ndarray, style: str) -> np.ndarray:
    """Dates as a byte matrix, formatted once per distinct day in range and looked up."""
    if days.size == 0:
        return np.zeros((0, 10), np.uint8)
    first = int(days.min())
    calendar = np.arange(first, int(days.max()) + 1)
    year, month, day = _ymd(calendar)
    n = calendar.size
    if style == "slash":
        parts = [digits(year, 4, pad=True), const(n, b"/"), digits(month), const(n, b"/"), digits(day)]
    else:
        parts = [
            digits(year, 4, True),
            const(n, b"-"),
            digits(month, 2, True),
            const(n, b"-"),
            digits(day, 2, True),
        ]
    return np.hstack(parts)[days - first]


@cache
def _clock_table(style: str) -> np.ndarray:
    """Every second of a day as 'HH:MM:SS' (or 'HH:MM' for the minutes style)."""
    second = np.arange(DAY_SECONDS)
    n = second.size
    parts = [digits(second // 3600, 2, True), const(n, b":"), digits(second // 60 % 60, 2, True)]
    if style != "minutes":
        parts += [const(n, b":"), digits(second % 60, 2, True)]
    return np.hstack(parts)


def local_days(seconds: np.ndarray, layout: Layout) -> np.ndarray:
    """The calendar day of each time in the export's time zone (China time, or UTC for the generic layout)."""
    return ((seconds + layout.shift_seconds) // DAY_SECONDS).astype(np.int64)


def timestamp_blocks(seconds: np.ndarray, layout: Layout) -> list[np.ndarray]:
    days, time_of_day = np.divmod(seconds + layout.shift_seconds, DAY_SECONDS)
    n = seconds.size
    blocks = [
        date_matrix(days, "iso"),
        const(n, b"T" if layout.timestamp_style == "offset" else b" "),
        _clock_table(layout.timestamp_style)[time_of_day],
    ]
    if layout.timestamp_style == "offset":
        blocks.append(const(n, b"+08:00"))
    return blocks


def money_field(cents: np.ndarray, layout: Layout) -> Field:
    units, fraction = np.divmod(np.abs(cents), 100)
    n = cents.size
    if layout.thousands:
        integer = grouped_digits(units, layout.thousands.encode("ascii"))
        quote = units >= 1000 if layout.thousands == "," else None
    else:
        integer, quote = [digits(units)], None
    blocks = [where(cents < 0, b"-"), *integer, const(n, b"."), digits(fraction, 2, pad=True)]
    return Field(blocks, quote=quote, is_text=quote is not None)


def id_field(layout: Layout, kind: str, numbers: np.ndarray, webshop: np.ndarray | None = None) -> Field:
    """Prefix + zero-padded number; customer references may point at webshop records instead."""
    prefix, width = layout.ids[kind]
    if webshop is None or not webshop.any():
        return Field([const(numbers.size, prefix.encode("ascii")), digits(numbers, width, pad=True)])
    web_prefix, web_width = layout.ids["webshop"]
    return Field(
        [
            Words([prefix, web_prefix]).block(webshop.astype(np.int64), "ascii"),
            blank_rows(digits(numbers, width, pad=True), webshop),
            blank_rows(digits(numbers, web_width, pad=True), ~webshop),
        ]
    )


# Phone styles: prefix template, group separator. Chinese numbers in the compact style carry no prefix.
PHONE_STYLES = (("+{cc} ", b" "), ("+{cc}-", b"-"), ("+{cc}", b""), ("(+{cc}) ", b"-"))


def phone_blocks(national: np.ndarray, country: np.ndarray, style: np.ndarray) -> list[np.ndarray]:
    """CN numbers: 138 1234 5678 (11 digits); elsewhere 415 555 0134 (10 digits)."""
    number_digits = digits(national, 11)
    china = country == CHINA
    prefix_blocks = []
    for index, (template, _) in enumerate(PHONE_STYLES):
        rows = style == index
        if not rows.any():
            continue
        words = Words([template.format(cc=c.calling_code) for c in COUNTRIES])
        block = words.block(country, "ascii", rows)
        if index == 2:
            block = blank_rows(block, china)
        prefix_blocks.append(block)
    separators = Words([sep.decode("ascii") for _, sep in PHONE_STYLES]).block(style, "ascii")
    return [
        *prefix_blocks,
        number_digits[:, 0:3],
        blank_rows(separators, ~china),
        number_digits[:, 3:4],
        blank_rows(separators, china),
        number_digits[:, 4:7],
        separators,
        number_digits[:, 7:11],
    ]
