"""Blank templates per kind, CSV or XLSX, headed in French or English.

- CSV: UTF-8 with a byte-order mark (so Excel shows accents), separated by ``;`` in French
  (what a French Excel expects) and ``,`` in English; the HTCDS template has the field
  names on row 1 and the labels on row 2, as IOM's.
- XLSX: the data sheet (named after the kind; ``Case Sheet`` for HTCDS), a drop-down list
  on every coded column (codes of the code lists and of the database's regions,
  organisations, shelters, activities and indicators), a ``codes`` sheet listing each code
  with its label, and a ``columns`` sheet saying what each column holds.

A filled template imports as it is (tests/test_ingest_kinds.py round-trips every kind).
"""
from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from dashboard import schema as s
from dashboard.domain import N_
from dashboard.ingest import kinds as K
from dashboard.ingest.htcds import FIELDS

ROWS_WITH_LISTS = 5000  # data rows that get the drop-down lists
TYPE_HELP = {
    "date": N_("Date (YYYY-MM-DD or DD/MM/YYYY)"),
    "int": N_("Whole number"),
    "number": N_("Number"),
    "text": N_("Text"),
    "code": N_("Code"),
    "country": N_("ISO 3166 alpha-2 country code or English name"),
}
REF_TABLES = {"region": s.regions, "organisation": s.organisations, "shelter": s.shelters,
              "activity": s.plan_activities, "indicator": s.indicators}
REF_HELP = {
    "region": N_("A region code (see the codes sheet)"),
    "organisation": N_("An organisation code (see the codes sheet)"),
    "shelter": N_("A shelter code (see the codes sheet)"),
    "activity": N_("A plan activity code (see the codes sheet)"),
    "indicator": N_("A manual indicator code (see the codes sheet)"),
    "case": N_("A case code already in the dashboard"),
    "referral": N_("A referral code already in the dashboard"),
}


def _t(lang: str):
    from dashboard.i18n import translator

    return translator(lang).gettext


def headers(kind: K.Kind, lang: str) -> list[str]:
    """Row 1 of the template: HTCDS field names, else the column labels in ``lang``."""
    if kind.name == "htcds":
        return [c.name for c in kind.columns]
    t = _t(lang)
    return [t(c.label) for c in kind.columns]


def label_row(kind: K.Kind, lang: str) -> list[str]:
    """Row 2 of the HTCDS template: the labels (English as IOM's template; French translated)."""
    t = _t(lang)
    return [t(FIELDS.get(c.name, c.label)) if lang != "en" else FIELDS.get(c.name, c.label) for c in kind.columns]


def reference_codes(conn, ref: str, lang: str = "en") -> list[tuple[str, str]]:
    """(code, label) of a reference table, for the codes sheet and the drop-down lists."""
    if conn is None or ref not in REF_TABLES:
        return []
    table = REF_TABLES[ref]
    suffix = "fr" if lang == "fr" else "en"
    if ref == "indicator":
        stmt = sa.select(table.c.code, table.c[f"label_{suffix}"]).where(table.c.source == "manual")
    elif ref == "activity":
        stmt = sa.select(table.c.code, table.c[f"title_{suffix}"])
    else:
        stmt = sa.select(table.c.code, table.c.name)
    return [(r[0], r[1]) for r in conn.execute(stmt.order_by(table.c.code))]


def codes_of(col: K.Column, lang: str, conn=None) -> list[tuple[str, str]]:
    t = _t(lang)
    if col.type in ("choice", "multi"):
        return [(code, t(col.labels.get(code, code))) for code in col.choices]
    if col.type == "ref":
        return reference_codes(conn, col.ref, lang)
    return []


def describe(kind: K.Kind, lang: str, conn=None) -> list[dict]:
    """One row per column: header, required, what it holds (the page and the columns sheet)."""
    t = _t(lang)
    out = []
    for col, header in zip(kind.columns, headers(kind, lang)):
        if col.type in ("choice", "multi"):
            what = ", ".join(col.choices)
            if col.help:
                what = f"{t(col.help)} — {what}"
        elif col.type == "ref":
            what = t(REF_HELP[col.ref])
        else:
            what = t(col.help) if col.help else t(TYPE_HELP[col.type])
        out.append({"column": header, "required": col.required, "expected": what})
    return out


def csv_template(kind_name: str, lang: str) -> bytes:
    kind = K.get(kind_name)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if lang == "fr" else ",", lineterminator="\r\n")
    writer.writerow(headers(kind, lang))
    if kind.name == "htcds":
        writer.writerow(label_row(kind, lang))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_template(kind_name: str, lang: str, conn=None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    kind = K.get(kind_name)
    _ = _t(lang)
    wb = Workbook()
    ws = wb.active
    ws.title = "Case Sheet" if kind.name == "htcds" else kind.name
    codes_ws = wb.create_sheet("codes")
    cols_ws = wb.create_sheet(_("columns"))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDE7F0")

    ws.append(headers(kind, lang))
    first_data = 2
    if kind.name == "htcds":
        ws.append(label_row(kind, lang))
        first_data = 3
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
    ws.freeze_panes = ws.cell(row=first_data, column=1)

    codes_col = 0
    for i, col in enumerate(kind.columns, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(14, min(40, len(str(ws.cell(1, i).value)) + 4))
        if col.type == "date":
            ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
        codes = codes_of(col, lang, conn)
        if not codes:
            continue
        codes_col += 2
        c_letter, l_letter = get_column_letter(codes_col - 1), get_column_letter(codes_col)
        codes_ws.cell(1, codes_col - 1, ws.cell(1, i).value).font = bold
        codes_ws.cell(1, codes_col, _("Label")).font = bold
        for r, (code, label) in enumerate(codes, start=2):
            codes_ws.cell(r, codes_col - 1, code)
            codes_ws.cell(r, codes_col, label)
        codes_ws.column_dimensions[c_letter].width = max(12, min(30, max(len(c) for c, _ in codes) + 2))
        codes_ws.column_dimensions[l_letter].width = 40
        dv = DataValidation(type="list", formula1=f"=codes!${c_letter}$2:${c_letter}${len(codes) + 1}",
                            allow_blank=True, showDropDown=False)
        if col.type == "multi":  # several codes may be typed, separated by ;
            dv.errorStyle = "information"
        dv.error = _("Pick a code from the list (see the codes sheet).")
        dv.errorTitle = _("Unknown code")
        dv.add(f"{letter}{first_data}:{letter}{first_data + ROWS_WITH_LISTS - 1}")
        ws.add_data_validation(dv)

    cols_ws.append([_("Column"), _("Required"), _("What it holds")])
    for cell in cols_ws[1]:
        cell.font, cell.fill = bold, fill
    for row in describe(kind, lang, conn):
        cols_ws.append([row["column"], _("yes") if row["required"] else _("no"), row["expected"]])
    cols_ws.column_dimensions["A"].width = 32
    cols_ws.column_dimensions["B"].width = 12
    cols_ws.column_dimensions["C"].width = 90
    for row in cols_ws.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def template(kind_name: str, lang: str, fmt: str, conn=None) -> bytes:
    if fmt == "csv":
        return csv_template(kind_name, lang)
    if fmt == "xlsx":
        return xlsx_template(kind_name, lang, conn)
    raise ValueError(f"unknown template format {fmt!r} (csv or xlsx)")


def file_name(kind_name: str, lang: str, fmt: str) -> str:
    return f"template-{kind_name}-{lang}.{fmt}"
