"""The meeting pack's tables as an Excel workbook (openpyxl): one sheet per table.

The same :class:`dashboard.export.pack.Pack` as the PDF, so the same protected values: a
count hidden for an aggregate-only viewer stays the text "< k", a withheld median or share
is an empty cell. Numbers stay numbers (percent and day formats), headers are translated,
and a first sheet says what the workbook holds (period, filters, extraction, notices).
"""
from __future__ import annotations

import io
import re
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from dashboard.export.pack import COUNT, DATE, DAYS, INTEGER, NUMBER, PERCENT, TEXT, Pack, Table, is_missing

HEAD_FILL = PatternFill("solid", fgColor="DEE8F1")
BOLD = Font(bold=True)
FORMATS = {COUNT: "#,##0", INTEGER: "#,##0", PERCENT: "0%", DAYS: "0.0", NUMBER: "#,##0.0", DATE: "yyyy-mm-dd"}
_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, used: set[str]) -> str:
    """An Excel sheet name (at most 31 characters, none of []:*?/\\), unique in ``used``."""
    base = _BAD.sub(" ", title).strip()[:31] or "Sheet"
    name, i = base, 2
    while name.lower() in used:
        suffix = f" ({i})"
        name = base[: 31 - len(suffix)] + suffix
        i += 1
    used.add(name.lower())
    return name


def cell_value(value, kind: str):
    """What goes in the cell: numbers as numbers, hidden counts as their text, missing as empty."""
    if isinstance(value, str):
        return value
    if is_missing(value):
        return None
    if kind in (COUNT, INTEGER):
        return int(value)
    if kind in (PERCENT, DAYS, NUMBER):
        return float(value)
    if kind == DATE:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    return value if isinstance(value, (int, float)) else str(value)


def _write_table(ws, table: Table) -> None:
    ws.append([table.title])
    ws["A1"].font = Font(bold=True, size=12)
    if table.note:
        ws.append([table.note])
    ws.append([])
    header_row = ws.max_row + 1
    ws.append([c.label for c in table.columns])
    for cell in ws[header_row]:
        cell.font = BOLD
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [len(c.label) for c in table.columns]
    for i, rec in enumerate(table.df.to_dict("records")):
        row = []
        for j, col in enumerate(table.columns):
            kind = table.kinds[i] if col.kind == "row" and table.kinds else col.kind
            value = cell_value(rec.get(col.key), kind)
            row.append(value)
            widths[j] = max(widths[j], len(str(value)) if value is not None else 0)
        ws.append(row)
        for j, col in enumerate(table.columns):
            kind = table.kinds[i] if col.kind == "row" and table.kinds else col.kind
            cell = ws.cell(row=ws.max_row, column=j + 1)
            if kind in FORMATS and not isinstance(cell.value, str):
                cell.number_format = FORMATS[kind]
            if kind != TEXT:
                cell.alignment = Alignment(horizontal="right")
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 10), 60)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)


def workbook(pack: Pack) -> bytes:
    """The pack's tables as XLSX bytes: an "about" sheet, then one sheet per table."""
    wb = Workbook()
    about = wb.active
    about.title = sheet_name(pack.title, set())
    used = {about.title.lower()}
    about.append([pack.title])
    about["A1"].font = Font(bold=True, size=14)
    about.append([pack.subtitle])
    about.append([])
    for label, value in pack.cover:
        about.append([label, value])
        about.cell(row=about.max_row, column=1).font = BOLD
    about.append([])
    for notice in pack.notices:
        about.append([notice])
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 70
    for table in pack.tables():
        _write_table(wb.create_sheet(sheet_name(table.title, used)), table)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
