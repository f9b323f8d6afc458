"""Dates as files and first pages write them, read into ISO-like strings ("2019-08-16", "2024")."""

from __future__ import annotations

import re

__all__ = ["MONTHS", "date_in", "pdf_date"]

MONTHS = {
    name: i + 1
    for names in (
        "january february march april may june july august september october november december",
        "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    )
    for i, name in enumerate(names.split())
}
_MONTH = "(" + "|".join(MONTHS) + ")"
_DAY_MONTH_YEAR = re.compile(rf"(?i)\b(\d{{1,2}})(?:\s+de)?\s+{_MONTH}(?:\s+de)?\s+((?:19|20)\d\d)\b")
_MONTH_DAY_YEAR = re.compile(rf"(?i)\b{_MONTH}\s+(\d{{1,2}}),\s+((?:19|20)\d\d)\b")
_MONTH_YEAR = re.compile(rf"(?i)\b{_MONTH}(?:\s+de)?\s+((?:19|20)\d\d)\b")
_YEAR = re.compile(r"(?<![\w./-])((?:19|20)\d\d)(?![\w/-])")
_PDF_DATE = re.compile(r"D?:?((?:19|20)\d\d)(\d\d)?(\d\d)?")


def date_in(text: str, years: bool = True) -> str | None:
    """The first full date written in ``text``, else its first month and year, else (``years``) its first year."""
    found: list[tuple[int, str]] = []
    for m in _DAY_MONTH_YEAR.finditer(text):
        found.append((m.start(), f"{m[3]}-{MONTHS[m[2].lower()]:02d}-{int(m[1]):02d}"))
    for m in _MONTH_DAY_YEAR.finditer(text):
        found.append((m.start(), f"{m[3]}-{MONTHS[m[1].lower()]:02d}-{int(m[2]):02d}"))
    if found:
        return min(found)[1]
    if m := _MONTH_YEAR.search(text):
        return f"{m[2]}-{MONTHS[m[1].lower()]:02d}"
    if years and (m := _YEAR.search(text)):
        return m[1]
    return None


def pdf_date(value: str | None) -> str | None:
    """A PDF date ("D:20240315093000Z") as "2024-03-15"."""
    if not value or not (m := _PDF_DATE.match(value.strip())):
        return None
    return "-".join(part for part in m.groups() if part)
