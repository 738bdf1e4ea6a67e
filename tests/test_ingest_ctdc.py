"""The CTDC export: public layout, victims only, and no released combination rarer than k."""
from __future__ import annotations

import csv
import io
import json
from collections import Counter

import sqlalchemy as sa

from dashboard import schema as s
from dashboard.ingest import ctdc, kinds, run_import
from tests.ingest_support import TODAY, csv_bytes, with_reference

COLS = [c.name for c in kinds.CASES.columns]


def _case(code, year, sex, band, nat, expl, ctrl=None, status="actual"):
    row = dict.fromkeys(COLS)
    row.update(code=code, region="ML-BKO", sex=sex, age_band=band, nationality=nat, trafficking_status=status,
               identified_on=f"{year}-03-01", case_status="active", current_stage="identification",
               exploitation=expl, control_methods=ctrl)
    return [row[c] for c in COLS]


def _fill(engine):
    rows = []
    rows += [_case(f"A-{i}", 2024, "female", "18-20", "ML", "forced_labour", "debt_bondage") for i in range(12)]
    rows += [_case(f"B-{i}", 2024, "male", "30-38", "ML", "forced_labour",
                   "false_promises" if i < 6 else "physical_threats") for i in range(11)]
    rows += [_case(f"C-{i}", 2023, "female", "9-17", "BF", "sexual_exploitation") for i in range(3)]
    rows += [_case(f"D-{i}", 2024, "female", "18-20", "ML", "forced_labour", "debt_bondage", status="not_victim")
             for i in range(5)]
    rows += [_case(f"E-{i}", 2022, "male", "48+", "ML" if i < 6 else "GN", "forced_begging") for i in range(11)]
    with_reference(engine)
    assert run_import(engine, csv_bytes(COLS, rows), "cases", actor="t", today=TODAY).written


def test_k_anonymity_with_generalisation(engine):
    _fill(engine)
    with engine.connect() as conn:
        result = ctdc.export(conn, k=11)
    # victims: A 12 + B 11 + C 3 + E 11 = 37 (D are not victims)
    # A: 12 identical -> released as they are
    # B: 6 + 5 differ by means of control -> means blanked -> 11 identical, released
    # C: 3 alike at every level -> withheld
    # E: 6 ML + 5 GN -> citizenship (and exploitation, means) blanked -> 11, released
    assert (result.cases, result.released, result.withheld, result.generalised) == (37, 34, 3, 22)
    combos = Counter(tuple(sorted(r.items())) for r in result.rows)
    assert min(combos.values()) >= 11 and sorted(combos.values()) == [11, 11, 12]
    by_group = {(r["yearOfRegistration"], r["gender"]): r for r in result.rows}
    a = by_group[(2024, "Woman")]
    assert (a["ageBroad"], a["citizenship"], a["meansDebtBondageEarnings"], a["meansThreats"], a["isForcedLabour"],
            a["isSexualExploit"], a["isOtherExploit"]) == ("18--20", "ML", 1, 0, 1, 0, 0)
    b = by_group[(2024, "Man")]
    assert (b["ageBroad"], b["citizenship"], b["meansFalsePromises"], b["meansThreats"], b["isForcedLabour"]) == \
        ("30--38", "ML", None, None, 1)
    e = by_group[(2022, "Man")]
    assert (e["ageBroad"], e["citizenship"], e["isForcedLabour"], e["isOtherExploit"]) == ("48+", None, None, None)
    assert (2023, "Woman") not in by_group
    assert all(r["CountryOfExploitation"] is None and r["typeOfLabourAgriculture"] is None for r in result.rows)


def test_csv_layout_and_audit(engine):
    _fill(engine)
    data, result = ctdc.export_csv(engine, "admin", k=11)
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert list(rows[0]) == list(ctdc.FIELDS) and len(rows) == result.released == 34
    combos = Counter(tuple(r.values()) for r in rows)
    assert min(combos.values()) >= 11
    with engine.connect() as conn:
        entry = conn.execute(sa.select(s.audit_log.c.action, s.audit_log.c.target, s.audit_log.c.detail)
                             .where(s.audit_log.c.action == "export")).one()
    assert entry[:2] == ("export", "ctdc")
    assert json.loads(entry[2]) == {"k": 11, "cases": 37, "released": 34, "withheld": 3, "generalised": 22}


def test_a_smaller_k_releases_more(engine):
    _fill(engine)
    with engine.connect() as conn:
        result = ctdc.export(conn, k=3)
    # A 12, B 6 and 5, C 3, E 6 and 5: every group reaches 3 as it is
    assert (result.released, result.withheld, result.generalised) == (37, 0, 0)


def test_an_empty_database_exports_a_header(engine):
    with_reference(engine)
    data, result = ctdc.export_csv(engine, "admin")
    assert data.decode().strip() == ",".join(ctdc.FIELDS) and result.cases == 0
