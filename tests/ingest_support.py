"""Helpers for the import tests: reference data, a dump of every table, filled templates,
and a generator of large case files (also used by benchmarks/ingest_100k.py)."""
from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta

import sqlalchemy as sa

from dashboard import schema
from dashboard.ingest import kinds, templates
from dashboard.profiles import load_profile
from dashboard.reference import load_reference

TODAY = date(2025, 6, 30)
HASH_KEY = "test-hash-key-0123456789abcdef-0123456789"


def with_reference(engine):
    """Load the Mali profile (regions, organisations, shelters, plan, projects)."""
    with engine.begin() as conn:
        load_reference(conn, load_profile("mali"))
    return engine


def dump(engine) -> dict[str, list[tuple]]:
    """Every table's rows, sorted: two dumps are equal when nothing changed."""
    out = {}
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def text_values(engine) -> list[str]:
    """Every non-empty value of every text column of every table (for leak searches)."""
    found = []
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            cols = [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text))]
            if not cols:
                continue
            for row in conn.execute(sa.select(*cols)):
                found.extend(str(v) for v in row if v)
    return found


def ids(engine, table: sa.Table, **where) -> list[int]:
    with engine.connect() as conn:
        stmt = sa.select(table.c.id)
        for k, v in where.items():
            stmt = stmt.where(table.c[k] == v)
        return list(conn.execute(stmt).scalars())


def csv_bytes(header: list[str], rows: list[list], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode(encoding)


def filled_xlsx_template(kind: str, lang: str, rows: list[list], conn=None) -> bytes:
    """The kind's XLSX template with ``rows`` typed under the header."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(templates.template(kind, lang, "xlsx", conn)))
    ws = wb.worksheets[0]
    start = 3 if kind == "htcds" else 2
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            ws.cell(start + i, j + 1, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def filled_csv_template(kind: str, lang: str, rows: list[list]) -> bytes:
    """The kind's CSV template (BOM, ; in French) with ``rows`` appended."""
    data = templates.template(kind, lang, "csv").decode("utf-8-sig")
    delimiter = ";" if lang == "fr" else ","
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for r in rows:
        w.writerow(["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in r])
    return ("\ufeff" + data + buf.getvalue()).encode("utf-8")


def header(kind: str, lang: str = "en") -> list[str]:
    return templates.headers(kinds.get(kind), lang)


# ---------------------------------------------------------------- large files
REGIONS = ["ML-BKO", "ML-1", "ML-2", "ML-3", "ML-4", "ML-5", "ML-6", "ML-7"]
ORGS = ["POL-BKO", "GEND-KYS", "POL-SKS", "DNDS", "APDF", "BNCE", "SAMU", "IOM-ML"]


def case_rows(n: int, seed: int = 1, prefix: str = "GEN", today: date = TODAY) -> list[list]:
    """``n`` valid case rows in the column order of the cases template."""
    rng = random.Random(seed)
    bands = ["0-8", "9-17", "18-20", "21-23", "24-26", "27-29", "30-38", "39-47", "48+", "unknown"]
    expl = ["forced_labour", "sexual_exploitation", "forced_begging", "forced_marriage", "servitude"]
    ctrl = ["debt_bondage", "false_promises", "physical_threats", "withholds_documents", "takes_earnings"]
    first = today - timedelta(days=5 * 365)
    rows = []
    for i in range(n):
        closed = rng.random() < 0.3
        stage = "closed" if closed else rng.choice(["identification", "immediate_assistance", "protection",
                                                    "return_reintegration"])
        rows.append([
            f"{prefix}-{i:07d}", rng.choice(REGIONS), rng.choice(["female", "female", "female", "male"]),
            rng.choice(bands), rng.choice(["ML", "ML", "ML", "BF", "CI", "GN"]),
            rng.choice(["possible", "actual", "actual"]), rng.choice(["police", "ngo", None]),
            (first + timedelta(days=rng.randrange(5 * 365))).isoformat(), rng.choice(ORGS),
            rng.choice(["closed", "closed_referred"]) if closed else rng.choice(["active", "follow_up"]),
            rng.choice(ORGS), stage, ";".join(rng.sample(expl, rng.choice([1, 1, 2]))),
            ";".join(rng.sample(ctrl, rng.choice([0, 1, 2, 3]))),
        ])
    return rows


def case_csv(n: int, seed: int = 1, prefix: str = "GEN") -> bytes:
    return csv_bytes([c.name for c in kinds.CASES.columns], case_rows(n, seed, prefix))


def case_xlsx(n: int, seed: int = 1, prefix: str = "GEN") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("cases")
    ws.append([c.name for c in kinds.CASES.columns])
    for r in case_rows(n, seed, prefix):
        r[7] = date.fromisoformat(r[7])
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
