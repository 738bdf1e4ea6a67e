"""Reading uploaded files: encodings, delimiters, XLSX cell types, formulas, row numbers."""
from __future__ import annotations

import io
from datetime import date, datetime

from dashboard.ingest import readers, run_import
from tests.ingest_support import TODAY, dump, with_reference


def _xlsx(rows, title="cases") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_utf8_with_and_without_bom():
    for data in ("code,région\nA,Ségou\n".encode("utf-8"), "\ufeffcode,région\nA,Ségou\n".encode("utf-8")):
        sheet = readers.read(data)
        assert sheet.headers == ["code", "région"] and sheet.rows == [(2, ["A", "Ségou"])] and sheet.notes == []


def test_cp1252_is_read_with_a_warning():
    sheet = readers.read("code;région\nA;Ségou\n".encode("cp1252"))
    assert sheet.rows == [(2, ["A", "Ségou"])]
    assert [n.message for n in sheet.notes][0].startswith("The file is not in UTF-8: it was read as Windows-1252")


def test_utf16_from_excel_unicode_text():
    sheet = readers.read("code\trégion\nA\tSégou\n".encode("utf-16"))
    assert sheet.delimiter == "\t" and sheet.rows == [(2, ["A", "Ségou"])]


def test_delimiters_are_sniffed():
    for delim in (",", ";", "\t", "|"):
        sheet = readers.read(f"a{delim}b{delim}c\n1{delim}2,5{delim}3\n".encode())
        assert sheet.delimiter == delim, delim
        assert len(sheet.headers) == 3
    # a comma inside values does not fool it: semicolons split the header into more columns
    sheet = readers.read(b"code;exploitation;region\nA;forced_labour,servitude;ML-1\n")
    assert sheet.delimiter == ";" and sheet.rows[0][1] == ["A", "forced_labour,servitude", "ML-1"]
    sheet = readers.read(b"sep=;\ncode;region\nA;B\n")
    assert sheet.headers == ["code", "region"] and sheet.rows == [(2, ["A", "B"])]  # Excel hides the sep= line


def test_row_numbers_are_those_of_the_spreadsheet():
    sheet = readers.read(b"\ncode,region\nA,B\n,\nC,D\n")  # a blank line first, a blank row in the middle
    assert sheet.header_row == 2 and [n for n, _ in sheet.rows] == [3, 5]
    sheet = readers.read(_xlsx([["code", "region"], ["A", "B"], [None, None], ["C", "D"]]))
    assert [n for n, _ in sheet.rows] == [2, 4]


def test_xlsx_keeps_cell_types_and_refuses_formulas():
    sheet = readers.read(_xlsx([["code", "date", "n"], ["A", datetime(2025, 1, 31), 3], ["B", "=A2", "=1+1"]]))
    assert sheet.fmt == "xlsx" and sheet.rows[0] == (2, ["A", datetime(2025, 1, 31), 3])
    assert [(p.row, p.column, p.value) for p in sheet.problems] == [(3, "B3", "=A2"), (3, "C3", "=1+1")]


def test_the_sheet_named_after_the_kind_is_read():
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "notes"
    wb.active.append(["nothing here"])
    wb.create_sheet("cases").append(["code"])
    buf = io.BytesIO()
    wb.save(buf)
    assert readers.read(buf.getvalue(), sheet_names=("cases",)).headers == ["code"]
    assert readers.read(buf.getvalue()).headers == ["nothing here"]


def test_unreadable_files():
    assert readers.read(b"PK\x03\x04garbage").problems[0].expected.startswith("a readable .xlsx workbook")
    assert readers.read(b"\x00\x01\x02binary\x00").problems[0].expected.startswith("a CSV or XLSX file")


def test_a_cp1252_file_imports_and_says_so(engine):
    with_reference(engine)
    row = "C-1;Ségou;female;18-20;actual;2025-01-15;active;identification"
    data = ("code;region;sex;age_band;trafficking_status;identified_on;case_status;current_stage\n" + row + "\n")
    report = run_import(engine, data.encode("cp1252"), "cases", actor="t", today=TODAY)
    assert report.written and report.counts["cases"].inserted == 1  # "Ségou" matched the region's name
    texts = [n.text() for n in report.notes]
    assert any("Windows-1252" in t for t in texts) and "Read as a CSV file separated by semicolons." in texts


def test_excel_dates_and_serials_in_xlsx_import(engine):
    with_reference(engine)
    header = ["code", "region", "sex", "age_band", "trafficking_status", "identified_on", "case_status",
              "current_stage"]
    rows = [["X-1", "ML-1", "male", "48+", "possible", datetime(2025, 1, 15), "active", "identification"],
            ["X-2", "ML-1", "male", "48+", "possible", 45322, "active", "identification"],  # serial of 2024-01-31
            ["X-3", "ML-1", "male", "48+", "possible", "15/01/2025", "active", "identification"]]
    before = dump(engine)
    report = run_import(engine, _xlsx([header] + rows), "cases", actor="t", today=TODAY)
    assert report.problems == [] and report.counts["cases"].inserted == 3
    import sqlalchemy as sa

    from dashboard import schema as s
    with engine.connect() as conn:
        got = dict(conn.execute(sa.select(s.cases.c.code, s.cases.c.identified_on)).all())
    assert got == {"X-1": date(2025, 1, 15), "X-2": date(2024, 1, 31), "X-3": date(2025, 1, 15)}
    assert dump(engine) != before
