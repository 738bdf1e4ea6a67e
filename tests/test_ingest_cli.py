"""The command line shares the page's code path: import (and --dry-run), templates, CTDC export."""
from __future__ import annotations

import csv
import io

import openpyxl
import sqlalchemy as sa

from dashboard import schema as s
from dashboard.cli import main
from tests.ingest_support import case_csv, dump, with_reference


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_import_dry_run_then_import(sqlite_engine, tmp_path, capsys):
    with_reference(sqlite_engine)
    path = tmp_path / "cases.csv"
    path.write_bytes(case_csv(25))
    before = dump(sqlite_engine)
    assert main(["--db", _url(sqlite_engine), "import", str(path), "--kind", "cases", "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "cases: inserted 25, updated 0, unchanged 0" in out.out and "Dry run: nothing was written." in out.out
    assert "Checking every row" in out.err and "100.0%" in out.err  # the progress bar
    assert dump(sqlite_engine) == before

    assert main(["--db", _url(sqlite_engine), "import", str(path), "--kind", "cases"]) == 0
    assert "Imported 25 rows." in capsys.readouterr().out
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(s.cases)).scalar() == 25
        audit = conn.execute(sa.select(s.audit_log.c.username, s.audit_log.c.action, s.audit_log.c.target)).all()
    assert audit == [("cli", "import", "cases.csv")]


def test_import_reports_problems_and_fails(sqlite_engine, tmp_path, capsys):
    with_reference(sqlite_engine)
    path = tmp_path / "bad.csv"
    path.write_text("code,region,sex,age_band,trafficking_status,identified_on,case_status,current_stage\n"
                    "B-1,ML-99,female,18-20,actual,2025-01-15,active,identification\n", encoding="utf-8")
    before = dump(sqlite_engine)
    assert main(["--db", _url(sqlite_engine), "import", str(path), "--kind", "cases", "--lang", "fr"]) == 1
    out = capsys.readouterr().out
    assert "Nothing was written. Problems found: 1" in out
    assert "row 2 | region | ML-99 | expected: un code ou un nom de région connu" in out
    assert dump(sqlite_engine) == before


def test_templates_command(sqlite_engine, tmp_path):
    with_reference(sqlite_engine)
    out = tmp_path / "t.xlsx"
    assert main(["--db", _url(sqlite_engine), "templates", "--kind", "shelter_stays", "--lang", "fr", "--format", "xlsx",
                 "--out", str(out)]) == 0
    wb = openpyxl.load_workbook(out)
    assert [c.value for c in wb["shelter_stays"][1]] == ["Code du dossier", "Centre d'hébergement", "Date d'entrée",
                                                         "Date de sortie", "Destination à la sortie"]
    assert wb["codes"]["A2"].value == "SH-BKO-1"  # the shelters of the database
    out_csv = tmp_path / "t.csv"
    assert main(["--db", _url(sqlite_engine), "templates", "--kind", "cases", "--lang", "en", "--format", "csv",
                 "--out", str(out_csv)]) == 0
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbfCase code,Region,Sex,")


def test_export_ctdc_command(sqlite_engine, tmp_path, capsys):
    with_reference(sqlite_engine)
    assert main(["--db", _url(sqlite_engine), "import", "/dev/null", "--kind", "cases"]) == 1  # empty: refused
    path = tmp_path / "cases.csv"
    path.write_bytes(case_csv(300))
    alike = tmp_path / "alike.csv"  # 30 cases alike but for their code: released whatever the random ones do
    header, *rows = case_csv(30, prefix="ALIKE").decode().splitlines()
    first = rows[0].split(",", 1)[1]
    alike.write_text("\n".join([header] + [f"ALIKE-{i}," + first for i in range(30)]) + "\n")
    for f in (path, alike):
        assert main(["--db", _url(sqlite_engine), "import", str(f), "--kind", "cases"]) == 0
    out = tmp_path / "ctdc.csv"
    assert main(["--db", _url(sqlite_engine), "export", "ctdc", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert f"CTDC export (k = 11): {len(rows)} of" in said
    from collections import Counter

    assert len(rows) >= 30 and min(Counter(tuple(r.values()) for r in rows).values()) >= 11
