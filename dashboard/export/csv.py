"""CSV files people open in Excel: UTF-8 with a byte-order mark (so Excel reads accents),
translated headers, one line per row ending in CRLF (RFC 4180), quotes where needed.

Excel splits on the list separator of the user's regional settings: a comma in English,
a semicolon in French; :func:`separator` gives the one for a language. Text cells that
start with ``=``, ``+``, ``@``, a tab or a carriage return are prefixed with an apostrophe
so that a spreadsheet never runs them as a formula. Dates are written ISO (YYYY-MM-DD),
missing values as empty cells. No streamlit here; what to export, and whether the viewer
may, is the caller's business (case-level lists only through ``@privacy.case_level``
queries, and every export goes to the audit log).
"""
from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd

BOM = "\ufeff"
ENCODING = "utf-8"
_FORMULA_START = ("=", "+", "@", "\t", "\r")


def separator(lang: str) -> str:
    """The separator Excel expects for a language ("," in English, ";" in French)."""
    return ";" if lang == "fr" else ","


def _cell(value):
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if (value.hour, value.minute, value.second) == (0, 0, 0) else value.isoformat(" ", "minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(df: pd.DataFrame, headers: dict[str, str] | None = None, sep: str = ",") -> bytes:
    """The bytes of a CSV file of ``df``: the columns of ``headers`` (column -> translated
    heading), in that order (all columns, headed by their names, without ``headers``)."""
    columns = list(headers) if headers else list(df.columns)
    out = pd.DataFrame({col: pd.Series([_cell(v) for v in df[col].tolist()], dtype=object) for col in columns},
                       columns=columns)
    if headers:
        out.columns = [headers[col] for col in columns]
    buf = io.StringIO()
    buf.write(BOM)
    out.to_csv(buf, index=False, sep=sep, lineterminator="\r\n")
    return buf.getvalue().encode(ENCODING)
