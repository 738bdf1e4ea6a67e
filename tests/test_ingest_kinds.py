"""Every kind round-trips from its own template: fill it, import it, read back exact values;
import it again (the other format, the other language): nothing changes; a corrected file
updates what it names."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from dashboard import schema as s
from dashboard.i18n import translator
from dashboard.ingest import kinds, run_import
from tests.ingest_support import (TODAY, dump, filled_csv_template, filled_xlsx_template, header,
                                  with_reference)

D = date

CASES = [
    ["RT-1", "ML-BKO", "female", "18-20", "ML", "actual", "police", D(2025, 1, 15), "POL-BKO", "active", "APDF",
     "protection", "forced_labour;sexual_exploitation", "debt_bondage"],
    ["RT-2", "ML-1", "male", "9-17", "BF", "possible", None, D(2024, 12, 1), None, "closed", "DNDS", "closed",
     "forced_begging", None],
    ["RT-3", "Kayes", "Feminine", "0--8", None, "Actual victim", None, D(2025, 2, 1), "GEND-KYS", "Follow up",
     None, "return_reintegration", None, None],
]
REFERRALS = [
    ["RF-1", "RT-1", "POL-BKO", "APDF", "additional_services", "shelter", D(2025, 1, 15), D(2025, 1, 16),
     D(2025, 1, 20), "accepted", None, D(2025, 1, 22)],
    ["RF-2", "RT-2", "DNDS", "CAT-BKO", "other", None, D(2025, 1, 10), None, D(2025, 1, 13), "declined",
     "no_capacity", None],
]

# kind -> rows typed into its template
ROWS = {
    "cases": CASES,
    "stage_events": [
        ["RT-1", "identification", D(2025, 1, 15), "POL-BKO", None],
        ["RT-1", "judgement", D(2025, 3, 1), "PJS-BKO", "conviction"],
        ["RT-2", "closed", D(2025, 2, 1), None, None],
    ],
    "referrals": REFERRALS,
    "services": [
        ["SV-1", "RT-1", "RF-1", "shelter", "APDF", D(2025, 1, 22), D(2025, 2, 22)],
        ["SV-2", "RT-2", None, "medical", "CHU-GT", D(2025, 1, 5), None],
    ],
    "shelter_stays": [
        ["RT-1", "SH-BKO-1", D(2025, 1, 22), D(2025, 2, 22), "family"],
        ["RT-2", "SH-BKO-2", D(2025, 1, 5), None, None],
    ],
    "shelter_capacity": [  # the profile's open period of SH-BKO-2 is closed, a new one opens
        ["SH-BKO-2", D(2020, 1, 1), D(2025, 1, 1), 10, 0, 10, 0],
        ["SH-BKO-2", D(2025, 1, 1), None, 14, 0, 12, 0],
    ],
    "activity_updates": [
        ["ML-PREV-1.1", D(2024, 3, 1), "in_progress", "Started", 1000.5],
        ["ML-PREV-1.1", D(2025, 1, 10), "completed", "Final report filed", 2500],
        ["ML-PREV-1.2", D(2024, 6, 1), "delayed", None, None],
    ],
    "indicator_values": [
        ["CMP-ML-2.1.3", D(2025, 1, 1), D(2025, 3, 31), "female", 12, None],
        ["CMP-ML-2.1.3", D(2025, 1, 1), D(2025, 3, 31), "male", 8, None],
        ["CMP-ML-1.2.2", D(2024, 10, 1), D(2024, 12, 31), "all", 45.5, "Survey of 40 staff"],
    ],
    "htcds": [
        ["POL-BKO", "Awa", "Demo", D(2000, 5, 1), "Feminine", "Mali", "Actual victim of trafficking", "Police",
         "Debt bondage", "Forced labour", "Active", "APDF", D(2025, 1, 15), "Additional Services Required",
         "CAT-BKO", "Additional Services Required", D(2025, 1, 20)],
        ["APDF", "Moussa", "Demo", None, "Masculine", "BF", None, None, None, None, "Closed", None,
         D(2025, 2, 3), None, None, None, None],
    ],
}
# inserted rows per table (the first import)
INSERTED = {
    "cases": {"cases": 3},
    "stage_events": {"stage_events": 3},
    "referrals": {"referrals": 2},
    "services": {"services": 2},
    "shelter_stays": {"shelter_stays": 2},
    "shelter_capacity": {"shelter_capacity": 1},
    "activity_updates": {"activity_status_history": 3, "plan_activities": 0},
    "indicator_values": {"indicator_values": 4},  # female 12 + male 8 -> a total of 20 is derived
    "htcds": {"cases": 2, "referrals": 2, "stage_events": 2},
}


def _base(engine, kind: str) -> None:
    """Reference data; the cases (and referrals) the dependent kinds point at."""
    with_reference(engine)
    if kind in ("cases", "htcds", "shelter_capacity", "activity_updates", "indicator_values"):
        return
    for k, rows in (("cases", CASES), ("referrals", REFERRALS)):
        if k == "referrals" and kind != "services":
            continue
        report = run_import(engine, filled_csv_template(k, "en", rows), k, actor="t", today=TODAY)
        assert report.written, report.problems


def _import(engine, data, kind, **kw):
    return run_import(engine, data, kind, actor="tester", today=TODAY, hash_key="k" * 32, **kw)


def _read(engine, kind):
    with engine.connect() as conn:
        return READERS[kind](conn)


def _org(conn, code):
    return conn.execute(sa.select(s.organisations.c.id).where(s.organisations.c.code == code)).scalar()


def _region(conn, code):
    return conn.execute(sa.select(s.regions.c.id).where(s.regions.c.code == code)).scalar()


def _case(conn, code):
    return conn.execute(sa.select(s.cases.c.id).where(s.cases.c.code == code)).scalar()


def _cases(conn):
    c = s.cases.c
    rows = conn.execute(sa.select(c.code, c.region_id, c.sex, c.age_band, c.is_minor, c.nationality, c.is_foreign,
                                  c.trafficking_status, c.status_decided_by, c.identified_on, c.identified_by_org_id,
                                  c.case_status, c.owner_org_id, c.current_stage, c.source).order_by(c.code)).all()
    expl = conn.execute(sa.select(s.cases.c.code, s.case_exploitation.c.exploitation_type)
                        .join(s.cases, s.cases.c.id == s.case_exploitation.c.case_id)).all()
    ctrl = conn.execute(sa.select(s.cases.c.code, s.case_control_methods.c.method)
                        .join(s.cases, s.cases.c.id == s.case_control_methods.c.case_id)).all()
    return [tuple(r) for r in rows], sorted(tuple(r) for r in expl), sorted(tuple(r) for r in ctrl)


READERS = {
    "cases": _cases,
    "stage_events": lambda conn: sorted(tuple(r) for r in conn.execute(
        sa.select(s.cases.c.code, s.stage_events.c.stage, s.stage_events.c.occurred_on,
                  s.stage_events.c.organisation_id, s.stage_events.c.outcome)
        .join(s.cases, s.cases.c.id == s.stage_events.c.case_id))),
    "referrals": lambda conn: [tuple(r) for r in conn.execute(
        sa.select(s.referrals).order_by(s.referrals.c.code)).all()],
    "services": lambda conn: [tuple(r)[1:] for r in conn.execute(sa.select(s.services).order_by(s.services.c.code))],
    "shelter_stays": lambda conn: [tuple(r)[1:] for r in conn.execute(
        sa.select(s.shelter_stays).order_by(s.shelter_stays.c.entered_on))],
    "shelter_capacity": lambda conn: [tuple(r)[1:] for r in conn.execute(
        sa.select(s.shelter_capacity).where(s.shelter_capacity.c.shelter_id == sa.select(s.shelters.c.id).where(
            s.shelters.c.code == "SH-BKO-2").scalar_subquery()).order_by(s.shelter_capacity.c.valid_from))],
    "activity_updates": lambda conn: (
        [tuple(r) for r in conn.execute(sa.select(s.plan_activities.c.code, s.activity_status_history.c.changed_on,
                                                  s.activity_status_history.c.status,
                                                  s.activity_status_history.c.evidence_note,
                                                  s.activity_status_history.c.budget_spent,
                                                  s.activity_status_history.c.recorded_by)
                                        .join(s.plan_activities)
                                        .order_by(s.plan_activities.c.code, s.activity_status_history.c.changed_on))],
        [tuple(r) for r in conn.execute(sa.select(s.plan_activities.c.code, s.plan_activities.c.status,
                                                  s.plan_activities.c.budget_spent)
                                        .where(s.plan_activities.c.code.in_(["ML-PREV-1.1", "ML-PREV-1.2"]))
                                        .order_by(s.plan_activities.c.code))]),
    "indicator_values": lambda conn: sorted((tuple(r) for r in conn.execute(
        sa.select(s.indicators.c.code, s.indicator_values.c.period_start, s.indicator_values.c.period_end,
                  s.indicator_values.c.sex, s.indicator_values.c.value, s.indicator_values.c.note,
                  s.indicator_values.c.recorded_by).join(s.indicators))), key=repr),
    "htcds": lambda conn: (_cases(conn), [tuple(r) for r in conn.execute(
        sa.select(s.referrals.c.from_org_id, s.referrals.c.to_org_id, s.referrals.c.reason, s.referrals.c.sent_on,
                  s.referrals.c.decided_on, s.referrals.c.outcome, s.referrals.c.days_to_decision)
        .order_by(s.referrals.c.sent_on))]),
}


def _expected(conn, kind):
    o, r, c = (lambda x: _org(conn, x)), (lambda x: _region(conn, x)), (lambda x: _case(conn, x))
    if kind == "cases":
        return (
            [("RT-1", r("ML-BKO"), "female", "18-20", False, "ML", False, "actual", "police", D(2025, 1, 15),
              o("POL-BKO"), "active", o("APDF"), "protection", "import"),
             ("RT-2", r("ML-1"), "male", "9-17", True, "BF", True, "possible", None, D(2024, 12, 1), None, "closed",
              o("DNDS"), "closed", "import"),
             # "Kayes" is the region's name, "Feminine" HTCDS, "0--8" CTDC, labels for the status
             ("RT-3", r("ML-1"), "female", "0-8", True, None, None, "actual", None, D(2025, 2, 1), o("GEND-KYS"),
              "follow_up", None, "return_reintegration", "import")],
            [("RT-1", "forced_labour"), ("RT-1", "sexual_exploitation"), ("RT-2", "forced_begging")],
            [("RT-1", "debt_bondage")],
        )
    if kind == "stage_events":
        return [("RT-1", "identification", D(2025, 1, 15), o("POL-BKO"), None),
                ("RT-1", "judgement", D(2025, 3, 1), o("PJS-BKO"), "conviction"),
                ("RT-2", "closed", D(2025, 2, 1), None, None)]
    if kind == "referrals":
        ids = dict(conn.execute(sa.select(s.referrals.c.code, s.referrals.c.id)).all())
        # RF-1: acknowledged 1 day after sending, decided after 5, first service after 7
        # RF-2: decided after 3 days (Jan 10 -> Jan 13), no acknowledgement, no service
        return [(ids["RF-1"], "RF-1", c("RT-1"), o("POL-BKO"), o("APDF"), "additional_services", "shelter",
                 D(2025, 1, 15), D(2025, 1, 16), D(2025, 1, 20), "accepted", None, D(2025, 1, 22), 1, 5, 7),
                (ids["RF-2"], "RF-2", c("RT-2"), o("DNDS"), o("CAT-BKO"), "other", None, D(2025, 1, 10), None,
                 D(2025, 1, 13), "declined", "no_capacity", None, None, 3, None)]
    if kind == "services":
        rf1 = conn.execute(sa.select(s.referrals.c.id).where(s.referrals.c.code == "RF-1")).scalar()
        return [("SV-1", c("RT-1"), rf1, "shelter", o("APDF"), D(2025, 1, 22), D(2025, 2, 22)),
                ("SV-2", c("RT-2"), None, "medical", o("CHU-GT"), D(2025, 1, 5), None)]
    if kind == "shelter_stays":
        sh = dict(conn.execute(sa.select(s.shelters.c.code, s.shelters.c.id)).all())
        return [(c("RT-2"), sh["SH-BKO-2"], D(2025, 1, 5), None, None),
                (c("RT-1"), sh["SH-BKO-1"], D(2025, 1, 22), D(2025, 2, 22), "family")]
    if kind == "shelter_capacity":
        sh = conn.execute(sa.select(s.shelters.c.id).where(s.shelters.c.code == "SH-BKO-2")).scalar()
        return [(sh, D(2020, 1, 1), D(2025, 1, 1), 10, 0, 10, 0), (sh, D(2025, 1, 1), None, 14, 0, 12, 0)]
    if kind == "activity_updates":
        return ([("ML-PREV-1.1", D(2024, 3, 1), "in_progress", "Started", Decimal("1000.50"), "tester"),
                 ("ML-PREV-1.1", D(2025, 1, 10), "completed", "Final report filed", Decimal("2500.00"), "tester"),
                 ("ML-PREV-1.2", D(2024, 6, 1), "delayed", None, None, "tester")],
                # the latest entry sets the activity's status, and its budget spent
                [("ML-PREV-1.1", "completed", Decimal("2500.00")), ("ML-PREV-1.2", "delayed", None)])
    if kind == "indicator_values":
        q1 = (D(2025, 1, 1), D(2025, 3, 31))
        return [("CMP-ML-1.2.2", D(2024, 10, 1), D(2024, 12, 31), "all", 45.5, "Survey of 40 staff", "tester"),
                ("CMP-ML-2.1.3", *q1, "all", 20.0, None, "tester"),  # 12 + 8, derived as the update form does
                ("CMP-ML-2.1.3", *q1, "female", 12.0, None, "tester"),
                ("CMP-ML-2.1.3", *q1, "male", 8.0, None, "tester")]
    if kind == "htcds":
        from dashboard.ingest.htcds import case_code, person_hash

        key = "k" * 32
        awa = case_code(key, person_hash(key, "Awa", "Demo", D(2000, 5, 1)))
        moussa = case_code(key, person_hash(key, "Moussa", "Demo", None))
        cases = sorted([
            # born 2000-05-01, identified 2025-01-15: 24 years old
            (awa, r("ML-BKO"), "female", "24-26", False, "ML", False, "actual", "police", D(2025, 1, 15),
             o("POL-BKO"), "active", o("POL-BKO"), "identification", "import"),
            (moussa, r("ML-BKO"), "male", "unknown", None, "BF", True, "possible", None, D(2025, 2, 3), o("APDF"),
             "closed", o("APDF"), "closed", "import"),
        ])
        return ((cases, [(awa, "forced_labour")], [(awa, "debt_bondage")]),
                [(o("APDF"), o("POL-BKO"), "additional_services", D(2025, 1, 15), D(2025, 1, 15), "accepted", 0),
                 (o("POL-BKO"), o("CAT-BKO"), "additional_services", D(2025, 1, 20), None, None, None)])
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", list(kinds.KINDS))
def test_round_trip_from_the_templates(engine, kind):
    _base(engine, kind)
    with engine.connect() as conn:
        xlsx = filled_xlsx_template(kind, "en", ROWS[kind], conn)
    first = _import(engine, xlsx, kind)
    assert first.problems == [] and first.error is None
    assert first.written and first.rows == len(ROWS[kind])
    assert {t: c.inserted for t, c in first.counts.items()} == INSERTED[kind]
    with engine.connect() as conn:
        assert _read(engine, kind) == _expected(conn, kind)

    # the same rows in the French CSV template: nothing changes but the audit log
    before = dump(engine)
    again = _import(engine, filled_csv_template(kind, "fr", ROWS[kind]), kind)
    assert again.problems == [] and again.written
    assert again.totals().changed == 0 and again.totals().unchanged > 0
    after = dump(engine)
    assert {t: r for t, r in after.items() if t != "audit_log"} == {t: r for t, r in before.items() if t != "audit_log"}
    assert len(after["audit_log"]) == len(before["audit_log"]) + 1


def test_templates_have_french_and_english_headers():
    assert header("cases", "en")[:3] == ["Case code", "Region", "Sex"]
    assert header("cases", "fr")[:3] == ["Code du dossier", "Région", "Sexe"]
    assert header("htcds", "fr")[:2] == ["cas_CaseOwner", "prs_FirstName"]  # HTCDS field names stay


@pytest.mark.parametrize("kind", list(kinds.KINDS))
def test_no_two_columns_share_a_header(kind):
    fr = translator("fr").gettext
    seen: dict[str, str] = {}
    for col in kinds.get(kind).columns:
        for spelling in {kinds.norm(col.name), kinds.norm(col.label), kinds.norm(fr(col.label))}:
            assert seen.setdefault(spelling, col.name) == col.name, (spelling, col.name)


def test_xlsx_template_has_lists_and_a_codes_sheet(engine):
    import io

    import openpyxl

    from dashboard.ingest import templates

    with_reference(engine)
    with engine.connect() as conn:
        data = templates.template("referrals", "fr", "xlsx", conn)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["referrals", "codes", "colonnes"]
    ws = wb["referrals"]
    assert ws["A1"].value == "Code de l'orientation"
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    # from_org (column C) lists the organisations: 28 in the Mali profile, codes sheet rows 2..29
    assert lists["C2:C5001"] == "=codes!$A$2:$A$29"
    codes = wb["codes"]
    assert codes["A1"].value == "Organisation d'origine" and codes["A2"].value == "APDF"
    assert [c.value for c in wb["colonnes"][1]] == ["Colonne", "Obligatoire", "Contenu"]


def test_a_corrected_file_updates_what_it_names(engine):
    with_reference(engine)
    assert _import(engine, filled_csv_template("cases", "en", CASES), "cases").written
    fixed = [list(r) for r in CASES[:2]]
    fixed[0][2] = "male"  # RT-1's sex was wrong
    fixed[1][12] = "forced_begging;servitude"  # RT-2 gets a second exploitation type
    report = _import(engine, filled_csv_template("cases", "en", fixed), "cases")
    assert report.counts["cases"].as_dict() == {"inserted": 0, "updated": 2, "unchanged": 0}
    with engine.connect() as conn:
        rows, expl, _ctrl = _cases(conn)
    assert [r[2] for r in rows] == ["male", "male", "female"]  # RT-3, not in the file, is untouched
    assert ("RT-2", "servitude") in expl and ("RT-1", "forced_labour") in expl


def test_a_column_left_out_keeps_what_the_database_holds(engine):
    with_reference(engine)
    assert _import(engine, filled_csv_template("cases", "en", CASES), "cases").written
    from tests.ingest_support import csv_bytes

    names = [c.name for c in kinds.CASES.columns if c.required]
    rows = [[r[i] for i, c in enumerate(kinds.CASES.columns) if c.required] for r in CASES]
    rows[0][names.index("case_status")] = "follow_up"
    report = _import(engine, csv_bytes(names, rows), "cases")
    assert report.counts["cases"].as_dict() == {"inserted": 0, "updated": 1, "unchanged": 2}
    with engine.connect() as conn:
        rows, expl, ctrl = _cases(conn)
    assert rows[0][11] == "follow_up" and rows[0][5] == "ML" and rows[0][12] is not None  # nationality, owner kept
    assert ("RT-1", "sexual_exploitation") in expl and ctrl == [("RT-1", "debt_bondage")]
