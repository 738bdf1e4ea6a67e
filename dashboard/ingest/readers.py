"""Read an uploaded file into a header and numbered rows, whatever its shape.

- **CSV**: UTF-8 (with or without BOM) or UTF-16 (Excel "Unicode text"); anything else is
  read as Windows-1252 with a note (accents may be wrong). The delimiter is found among
  ``,`` ``;`` tab and ``|`` (and Excel's ``sep=`` first line). Every value stays text.
- **XLSX** (openpyxl, read-only, streaming): cells keep their type (dates as ``datetime``,
  numbers as numbers, so date serials can be converted); a formula is refused and named by
  its cell. The sheet read is the one named after the kind (``Case Sheet`` for HTCDS),
  else the first.

Row numbers are those the user sees in a spreadsheet: the header is row 1 (or the row it
stands on), blank rows are skipped but keep their number.
"""
from __future__ import annotations

import codecs
import csv
import io
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dashboard.domain import N_
from dashboard.ingest.report import Note, Problem

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": N_("commas"), ";": N_("semicolons"), "\t": N_("tabs"), "|": N_("vertical bars")}
HEADER_SCAN = 10  # the header is the first non-blank row among the first ten


@dataclass
class Sheet:
    fmt: str  # csv | xlsx
    headers: list[str] = field(default_factory=list)
    header_row: int = 1
    rows: list[tuple[int, list]] = field(default_factory=list)  # (row number, cells)
    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    delimiter: str | None = None
    sheet_name: str | None = None


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read(source, file_name: str = "", sheet_names: tuple[str, ...] = ()) -> Sheet:
    """``source``: bytes, a path, or a binary file object."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        file_name = file_name or path.name
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        data = source.read()
    if data[:4] == b"PK\x03\x04":
        return read_xlsx(data, sheet_names)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        sheet = Sheet("xls")
        sheet.problems.append(Problem(None, None, file_name or None,
                                      N_("an .xlsx or .csv file: this is the old Excel .xls format; "
                                         "open it in Excel and save it as .xlsx")))
        return sheet
    return read_csv(data)


# ---------------------------------------------------------------- CSV
def decode(data: bytes) -> tuple[str, list[Note]]:
    notes: list[Note] = []
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), notes
        except UnicodeDecodeError:
            pass
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), notes
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode("utf-8"), notes
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("cp1252")
        notes.append(Note(N_("The file is not in UTF-8: it was read as Windows-1252 (cp1252). Check that accented "
                             "letters look right below; to be sure, save it as \"CSV UTF-8\"."), warning=True))
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        notes.append(Note(N_("The file is not in UTF-8: it was read as Latin-1. Check that accented letters look "
                             "right below; to be sure, save it as \"CSV UTF-8\"."), warning=True))
    return text, notes


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the header into the most columns, consistently."""
    best, best_score = ",", (0, 0)
    sample = "\n".join(lines)
    for delim in DELIMITERS:
        records = list(csv.reader(io.StringIO(sample), delimiter=delim))
        records = [r for r in records if any(cell.strip() for cell in r)]
        if not records:
            continue
        width = len(records[0])
        consistent = sum(1 for r in records[1:] if len(r) == width)
        score = (width if width > 1 else 0, consistent)
        if score > best_score:
            best, best_score = delim, score
    return best


def read_csv(data: bytes) -> Sheet:
    sheet = Sheet("csv")
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        sheet.problems.append(Problem(None, None, None, N_("a CSV or XLSX file: this file is not text")))
        return sheet
    text, sheet.notes = decode(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    first_nl = text.find("\n")
    first = text[: first_nl if first_nl >= 0 else len(text)].strip()
    delimiter = None
    if first.lower().startswith("sep=") and len(first) == 5:
        delimiter = first[4]
        text = text[first_nl + 1:] if first_nl >= 0 else ""
    if delimiter is None:
        delimiter = sniff_delimiter(text.splitlines()[:30])
    sheet.delimiter = delimiter
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header_found = False
    for number, record in enumerate(reader, start=1):
        if not header_found:
            if any(cell.strip() for cell in record):
                sheet.headers = [cell.strip() for cell in record]
                sheet.header_row = number
                header_found = True
            continue
        if any(cell.strip() for cell in record):
            sheet.rows.append((number, record))
    if delimiter != ",":
        sheet.notes.append(Note(N_("Read as a CSV file separated by {delimiter}."),
                                {"delimiter": DELIMITER_NAMES.get(delimiter, repr(delimiter))}))
    return sheet


# ---------------------------------------------------------------- XLSX
def read_xlsx(data: bytes, sheet_names: tuple[str, ...] = ()) -> Sheet:
    import openpyxl
    from openpyxl.utils import get_column_letter

    sheet = Sheet("xlsx")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Data Validation extension is not supported"
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - any unreadable workbook is reported the same way
        sheet.problems.append(Problem(None, None, None, N_("a readable .xlsx workbook: this file could not be opened")))
        return sheet
    try:
        wanted = {n.casefold() for n in sheet_names}
        ws = next((wb[n] for n in wb.sheetnames if n.casefold() in wanted), None) or wb.worksheets[0]
        sheet.sheet_name = ws.title
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # some writers store a wrong "used range"; read every row
        header_found = False
        formulas = 0
        for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
            if not header_found:
                if any(not is_blank(v) for v in row):
                    sheet.headers = ["" if v is None else str(v).strip() for v in row]
                    sheet.header_row = number
                    header_found = True
                elif number >= HEADER_SCAN:
                    break
                continue
            if not any(not is_blank(v) for v in row):
                continue
            cells = list(row)
            for i, v in enumerate(cells):
                if _is_formula(v):
                    formulas += 1
                    if formulas <= 200:
                        sheet.problems.append(Problem(number, f"{get_column_letter(i + 1)}{number}",
                                                      str(v)[:80], N_("a typed value, not a formula: copy the cell and "
                                                                      "paste it as a value")))
                    cells[i] = None
            sheet.rows.append((number, cells))
        if formulas > 200:
            sheet.problems.append(Problem(None, None, None, N_("no formulas: {n} cells in all hold a formula"),
                                          {"n": formulas}))
    finally:
        wb.close()
    return sheet


def _is_formula(value) -> bool:
    if isinstance(value, str):
        return value.startswith("=") and len(value) > 1
    if isinstance(value, (int, float, datetime)) or value is None:
        return False
    return type(value).__name__ in ("ArrayFormula", "DataTableFormula")
