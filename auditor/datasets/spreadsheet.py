"""Cells of the csv files the app writes, safe to open in a spreadsheet, and read back exactly."""

from __future__ import annotations

# A spreadsheet reads a cell that starts with one of these as a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote_prefix(value: str) -> bool:
    """Whether a cell would be read as a formula, or is the quoted form of one ("'=…"), and so gets a "'" prefix."""
    return value.startswith(_FORMULA_START) or (value.startswith("'") and _needs_quote_prefix(value[1:]))


def spreadsheet_safe(value: str) -> str:
    """The cell as exports write it: a value a spreadsheet would run as a formula gets a leading "'".

    `from_spreadsheet_safe` undoes it exactly, so an export imports back unchanged whatever the names hold.
    """
    return "'" + value if _needs_quote_prefix(value) else value


def from_spreadsheet_safe(value: str) -> str:
    """The value `spreadsheet_safe` was given (a cell without the prefix is returned as it is)."""
    return value[1:] if value.startswith("'") and _needs_quote_prefix(value[1:]) else value
