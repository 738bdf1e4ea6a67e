"""Each kind of bad input gives its message (row, column, value, what was expected) and
leaves the database byte-for-byte unchanged — audit log included."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa

from dashboard.ingest import htcds, kinds, run_import
from dashboard.ingest import validate as V
from dashboard.privacy import Viewer
from tests.ingest_support import TODAY, csv_bytes, dump, filled_csv_template, with_reference
from tests.test_ingest_kinds import CASES, REFERRALS

CASE_COLS = [c.name for c in kinds.CASES.columns]


@pytest.fixture(scope="module")
def db(module_engine):
    with_reference(module_engine)
    for kind, rows in (("cases", CASES), ("referrals", REFERRALS)):
        assert run_import(module_engine, filled_csv_template(kind, "en", rows), kind, actor="t", today=TODAY).written
    return module_engine


def case(**changes) -> list:
    row = dict(zip(CASE_COLS, ["BAD-1", "ML-BKO", "female", "18-20", "ML", "actual", None, "2025-01-15", None,
                               "active", None, "identification", None, None]))
    row.update(changes)
    return [row[c] for c in CASE_COLS]


def cases_csv(*rows, columns=CASE_COLS) -> bytes:
    return csv_bytes(columns, [list(r) for r in rows])


def xlsx(header, rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def kind_csv(kind: str, *rows) -> bytes:
    return csv_bytes([c.name for c in kinds.get(kind).columns], [list(r) for r in rows])


def hrow(**changes) -> list:
    names = [c.name for c in kinds.HTCDS.columns]
    row = dict.fromkeys(names)
    row.update({"cas_CaseOwner": "POL-BKO", "prs_FirstName": "Bad", "prs_SecondName": "Row",
                "cas_IncomingReferralDate": "2025-01-15"})
    row.update(changes)
    return [row[n] for n in names]


# (id, kind, file bytes, expected msgid, row, column, value)
BAD = [
    ("missing column", "cases", cases_csv(case()[:2] + case()[3:], columns=CASE_COLS[:2] + CASE_COLS[3:]),
     V.M_REQUIRED_COLUMN, 1, None, "Sex"),
    ("blank required", "cases", cases_csv(case(sex="")), V.M_REQUIRED, 2, "sex", None),
    ("unknown code", "cases", cases_csv(case(sex="x")), V.M_CHOICE, 2, "sex", "x"),
    ("bad date", "cases", cases_csv(case(identified_on="2025-02-30")), V.M_DATE, 2, "identified_on", "2025-02-30"),
    ("future date", "cases", cases_csv(case(identified_on="2025-07-01")), V.M_FUTURE, 2, "identified_on", "2025-07-01"),
    ("excel serial", "cases", cases_csv(case(identified_on="45321")), V.M_SERIAL, 2, "identified_on", "45321"),
    ("duplicate key", "cases", cases_csv(case(), case()), V.M_DUPLICATE, 3, "code", "BAD-1"),
    ("unknown region", "cases", cases_csv(case(region="ML-99")), V.M_UNKNOWN_REGION, 2, "region", "ML-99"),
    ("unknown organisation", "cases", cases_csv(case(owner="NOPE")), V.M_UNKNOWN_ORG, 2, "owner", "NOPE"),
    ("stage and status", "cases", cases_csv(case(case_status="closed")), V.M_CLOSED_STAGE, 2, "current_stage",
     "identification"),
    ("unknown country", "cases", cases_csv(case(nationality="ZZ")), V.M_COUNTRY, 2, "nationality", "ZZ"),
    ("code too long", "cases", cases_csv(case(code="X" * 41)), V.M_TOO_LONG, 2, "code", "X" * 41),
    ("one column", "cases", b"code:region:sex\nA:B:C\n", V.M_ONE_COLUMN, 1, None, "code:region:sex"),
    ("no rows", "cases", cases_csv(), V.M_NO_ROWS, 2, None, None),
    ("old xls", "cases", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64,
     "an .xlsx or .csv file: this is the old Excel .xls format; open it in Excel and save it as .xlsx", None, None,
     "bad.csv"),
    ("formula", "cases", xlsx(CASE_COLS, [case()[:7] + ["=TODAY()"] + case()[8:]]),
     "a typed value, not a formula: copy the cell and paste it as a value", 2, "H2", "=TODAY()"),
    ("unknown case", "stage_events", kind_csv("stage_events", ["NOPE", "closed", "2025-01-01", None, None]),
     V.M_UNKNOWN_CASE, 2, "case", "NOPE"),
    ("outcome off judgement", "stage_events",
     kind_csv("stage_events", ["RT-1", "closed", "2025-01-01", None, "conviction"]), V.M_ONLY_JUDGEMENT, 2,
     "outcome", "conviction"),
    ("dates out of order", "referrals",
     kind_csv("referrals", ["RF-9", "RT-1", "POL-BKO", "APDF", None, None, "2025-01-15", None, "2025-01-10",
                            "accepted", None, None]), V.M_ON_OR_AFTER, 2, "decided_on", "2025-01-10"),
    ("same organisation", "referrals",
     kind_csv("referrals", ["RF-9", "RT-1", "APDF", "APDF", None, None, "2025-01-15", None, None, None, None,
                            None]), V.M_NOT_SAME_ORG, 2, "to_org", "APDF"),
    ("outcome without decision", "referrals",
     kind_csv("referrals", ["RF-9", "RT-1", "POL-BKO", "APDF", None, None, "2025-01-15", None, None, "accepted",
                            None, None]), V.M_DECISION_NEEDED, 2, "decided_on", None),
    ("decline reason when accepted", "referrals",
     kind_csv("referrals", ["RF-9", "RT-1", "POL-BKO", "APDF", None, None, "2025-01-15", None, "2025-01-16",
                            "accepted", "no_capacity", None]), V.M_ONLY_DECLINED, 2, "decline_reason", "no_capacity"),
    ("service before its end", "services",
     kind_csv("services", ["SV-9", "RT-1", None, "medical", "CHU-GT", "2025-01-10", "2025-01-05"]),
     V.M_ON_OR_AFTER, 2, "ended_on", "2025-01-05"),
    ("referral of another case", "services",
     kind_csv("services", ["SV-9", "RT-1", "RF-2", "medical", "CHU-GT", "2025-01-10", None]), V.M_OTHER_CASE, 2,
     "referral", "RF-2"),
    ("unknown referral", "services",
     kind_csv("services", ["SV-9", "RT-1", "RF-404", "medical", "CHU-GT", "2025-01-10", None]),
     V.M_UNKNOWN_REFERRAL, 2, "referral", "RF-404"),
    ("destination without exit", "shelter_stays",
     kind_csv("shelter_stays", ["RT-1", "SH-BKO-1", "2025-01-10", None, "family"]), V.M_ONLY_EXITED, 2,
     "exit_destination", "family"),
    ("unknown shelter", "shelter_stays", kind_csv("shelter_stays", ["RT-1", "SH-XX", "2025-01-10", None, None]),
     V.M_UNKNOWN_SHELTER, 2, "shelter", "SH-XX"),
    ("overlapping capacity", "shelter_capacity",  # SH-BKO-1 has a period from 2024-07-01, still open
     kind_csv("shelter_capacity", ["SH-BKO-1", "2025-01-01", None, 1, 1, 1, 1]), V.M_OVERLAP, 2, "valid_from",
     "2025-01-01"),
    ("empty capacity period", "shelter_capacity",
     kind_csv("shelter_capacity", ["SH-BKO-2", "2030-01-01", "2030-01-01", 1, 1, 1, 1]), V.M_AFTER, 2, "valid_to",
     "2030-01-01"),
    ("negative beds", "shelter_capacity", kind_csv("shelter_capacity", ["SH-BKO-2", "2020-01-01", None, -1, 0, 0, 0]),
     V.M_MIN, 2, "beds_women", "-1"),
    ("completed without evidence", "activity_updates",
     kind_csv("activity_updates", ["ML-PREV-1.1", "2025-01-10", "completed", None, None]),
     "An evidence note is required to mark an activity completed or cancelled.", 2, "evidence_note", None),
    ("before the plan", "activity_updates",
     kind_csv("activity_updates", ["ML-PREV-1.1", "2022-01-10", "in_progress", None, None]),
     "The date {date} is before the start of the plan ({start}).", 2, "changed_on", "2022-01-10"),
    ("unknown activity", "activity_updates",
     kind_csv("activity_updates", ["ML-NOPE", "2025-01-10", "in_progress", None, None]), V.M_UNKNOWN_ACTIVITY, 2,
     "activity", "ML-NOPE"),
    ("computed indicator", "indicator_values",
     kind_csv("indicator_values", ["CMP-ML-1.1.1", "2025-01-01", "2025-03-31", "all", 5, None]),
     "Indicator {code} is computed from case data: its values cannot be recorded by hand.", 2, "indicator",
     "CMP-ML-1.1.1"),
    ("not a quarter", "indicator_values",
     kind_csv("indicator_values", ["CMP-ML-1.2.2", "2025-01-01", "2025-01-31", "all", 5, None]),
     "The period must be a calendar quarter.", 2, "period_start", "2025-01-01"),
    ("percentage over 100", "indicator_values",
     kind_csv("indicator_values", ["CMP-ML-1.2.2", "2025-01-01", "2025-03-31", "all", 120, None]),
     "The value {value} is out of range for a percentage (0 to 100).", 2, "value", "120"),
    ("sex on a total-only indicator", "indicator_values",
     kind_csv("indicator_values", ["CMP-ML-2.2.2", "2025-01-01", "2025-03-31", "female", 3, None]),
     "This indicator is not disaggregated by sex: give only the total.", 2, "value", "3"),
    ("htcds unknown organisation", "htcds", kind_csv("htcds", hrow(cas_ReferringOrganisation="Mystery NGO")),
     V.M_UNKNOWN_ORG, 2, "cas_ReferringOrganisation", "Mystery NGO"),
    ("htcds no name", "htcds", kind_csv("htcds", hrow(prs_FirstName=None, prs_SecondName=None)), htcds.M_NAME, 2,
     "prs_FirstName", None),
    ("htcds born after referral", "htcds", kind_csv("htcds", hrow(prs_Birthdate="2025-02-01")),
     htcds.M_BIRTH_ORDER, 2, "prs_Birthdate", "(personal data: not shown)"),
    ("htcds bad birth date", "htcds", kind_csv("htcds", hrow(prs_Birthdate="31/02/1990")), V.M_DATE, 2,
     "prs_Birthdate", "(personal data: not shown)"),
    ("htcds referred without date", "htcds", kind_csv("htcds", hrow(cas_ReferredOrganisation="APDF")),
     htcds.M_NEEDS_DATE, 2, "cas_OutgoingReferralDate", None),
    ("htcds no date", "htcds", kind_csv("htcds", hrow(cas_IncomingReferralDate=None)), V.M_REQUIRED, 2,
     "cas_IncomingReferralDate", None),
]


@pytest.mark.parametrize("name, kind, data, message, row, column, value", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_reported_and_nothing_is_written(db, name, kind, data, message, row, column, value):
    before = dump(db)
    report = run_import(db, data, kind, actor="tester", file_name="bad.csv", today=TODAY, hash_key="k" * 32)
    assert not report.written and report.counts == {}
    found = [(p.row, p.column, p.value) for p in report.problems if p.expected == message]
    assert found == [(row, column, value)], [p.as_dict() for p in report.problems]
    assert dump(db) == before


def test_the_report_names_every_problem_of_every_row(db):
    data = cases_csv(case(code="B-1", sex="x", region="ML-99"), case(code="B-2"), case(code="B-3", age_band="70+"))
    report = run_import(db, data, "cases", actor="t", today=TODAY)
    assert [(p.row, p.column) for p in report.problems] == [(2, "region"), (2, "sex"), (4, "age_band")]
    assert report.problems[1].expected_text() == "one of: female, male, trans_nonconforming, unknown"


def test_excel_serial_message_names_the_date(db):
    report = run_import(db, cases_csv(case(identified_on="45321")), "cases", actor="t", today=TODAY)
    # 45321 days after 1899-12-30 (Excel's day 0) is 2024-01-30
    assert report.problems[0].expected_text() == ("a date: 45321 looks like an Excel date serial for 2024-01-30; "
                                                  "format the column as dates (or write 2024-01-30)")


def test_french_report(db):
    from dashboard.i18n import translator

    report = run_import(db, cases_csv(case(identified_on="2025-07-01")), "cases", actor="t", today=TODAY)
    assert report.problems[0].expected_text(translator("fr").gettext) == \
        "une date qui n'est pas après aujourd'hui (2025-06-30)"


def test_a_region_outside_the_importers_scope_is_refused(db):
    focal = Viewer("focal", "committee", regions=("ML-BKO",), can_import=True)
    before = dump(db)
    report = run_import(db, cases_csv(case(region="ML-1")), "cases", viewer=focal, today=TODAY)
    assert [(p.column, p.expected) for p in report.problems] == [("region", V.M_OUT_OF_SCOPE)]
    report = run_import(db, kind_csv("stage_events", ["RT-2", "closed", "2025-02-01", None, None]), "stage_events",
                        viewer=focal, today=TODAY)  # RT-2 is a Kayes (ML-1) case
    assert [(p.column, p.expected) for p in report.problems] == [("case", V.M_OUT_OF_SCOPE)]
    assert dump(db) == before


def test_a_database_error_rolls_everything_back(db, monkeypatch):
    from dashboard.ingest import write

    def broken(conn, *args, **kwargs):
        raise sa.exc.IntegrityError("INSERT ...", {}, Exception("constraint failed"))

    before = dump(db)
    monkeypatch.setattr(write, "replace_sets", broken)  # the cases themselves were inserted by then
    data = cases_csv(case(code="DB-1", exploitation="forced_labour"), case(code="DB-2"))
    report = run_import(db, data, "cases", actor="t", today=TODAY)
    assert report.error == "constraint failed" and not report.written and report.counts == {}
    assert dump(db) == before


def test_too_many_problems_are_cut_with_the_total(db, monkeypatch):
    monkeypatch.setattr(V, "MAX_PROBLEMS", 3)
    report = run_import(db, cases_csv(*[case(code=f"M-{i}", sex="?") for i in range(5)]), "cases", actor="t",
                        today=TODAY)
    assert len(report.problems) == 3
    assert [n.params for n in report.notes if "in all" in n.message] == [{"n": 5, "shown": 3}]


def test_dates_in_any_usual_form():
    parse = V.make_parser(kinds.CASES.column("identified_on"), "csv", TODAY, None)
    assert {parse(x) for x in ("2025-01-31", "31/01/2025", "31.01.2025", "2025/01/31", "2025-01-31 00:00:00")} == \
        {date(2025, 1, 31)}
    xl = V.make_parser(kinds.CASES.column("identified_on"), "xlsx", TODAY, None)
    assert xl(45322) == date(2024, 1, 31)  # a date typed as a number in Excel is a serial there


def test_codes_labels_and_variants(db):
    from dashboard.i18n import translator

    sex = V.make_parser(kinds.CASES.column("sex"), "csv", TODAY, translator("fr").gettext)
    assert [sex(x) for x in ("Female", "Feminine", "woman", "F", "Femme", "Masculine", "Man", "Homme",
                             "TransgenderFeminine", "Transgender/NonConforming", "NonSpecifiedUnknown")] == \
        ["female"] * 5 + ["male"] * 3 + ["trans_nonconforming"] * 2 + ["unknown"]
    expl = V.make_parser(kinds.CASES.column("exploitation"), "csv", TODAY, None)
    assert expl("Forced labour; Forced military (by non-state actors)|forced_labour") == \
        ("forced_labour", "forced_military")
