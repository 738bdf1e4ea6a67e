"""A filled copy of IOM's real HTCDS v2.0 case sheet: the right cases and referrals, the
same person sent by two agencies is one case, and no personal value reaches the
database (every text and date column of every table is searched, on both dialects),
the report or the logs."""
from __future__ import annotations

import io
import logging
import warnings
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard import schema as s
from dashboard.ingest import run_import
from dashboard.ingest.htcds import FIELDS, case_code, identity, person_hash
from tests.ingest_support import TODAY, csv_bytes, dump, text_values, with_reference

TEMPLATE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "htcds" / "htcds-v2.0-single-select.xlsx"
KEY = "test-hash-key-0123456789abcdef-0123456789"
D = date

PERSONAL = {  # planted in the sheet; none may be found anywhere afterwards
    "names": ["Aminata", "Testname", "Fatoumata", "Planted", "Ibrahim", "Samplename"],
    "phones": ["+223 70 12 34 56", "70123456", "+223 66 00 11 22"],
    "emails": ["aminata.testname@example.org", "fatou.planted@example.net"],
    "addresses": ["Rue 123 Hamdallaye", "Bamako-Testville", "BP 9999", "Koulikoro-Province"],
    "titles": ["Mlle Saluted", "Madame la Planted"],
    "workers": ["Seydou Caseworker", "Mariam Workername"],
    "details": ["Found at the bus station by Seydou", "Called her sister on 70123456"],
}
BIRTHS = [D(1999, 3, 14), D(2010, 7, 2)]

ROWS = [
    {  # Aminata, first seen by the social services (DNDS) after the police referred her
        "cas_CaseOwner": "DNDS", "prs_Salutation": "Mlle Saluted", "prs_FirstName": "Aminata", "prs_SecondName": "Testname",
        "con_Consent": "Yes", "prs_Birthdate": BIRTHS[0], "prs_Gender": "Feminine", "prs_Citizenship": "Mali",
        "prs_Title": "Madame la Planted", "prs_Email": "aminata.testname@example.org",
        "prs_HomePhone": "+223 70 12 34 56", "prs_MobilePhone": "70123456", "prs_MailingStreet": "Rue 123 Hamdallaye",
        "prs_MailingCity": "Bamako-Testville", "prs_MailingState": "Koulikoro-Province", "prs_MailingPostalCode": "BP 9999",
        "prs_MailingCountry": "Mali", "vic_TraffickingStatus": "Actual victim of trafficking",
        "vic_TraffickinStatusDecisionMakingOrg": "Police", "vic_MethodOfRecruitment": "Through friends or social events",
        "vic_MethodsOfControl": "Debt bondage ", "vic_TypeOfExploitation": "Forced labour", "cas_Status": "Active",
        "cas_ReferringOrganisation": "POL-BKO", "cas_IncomingReferralDate": D(2025, 1, 10),
        "cas_ReferringPrimaryCaseWorker": "Seydou Caseworker",
        "cas_ReasonForIncomingReferral": "Additional Services Required",
        "cas_IncomingReferralDetails": "Found at the bus station by Seydou",
        "cas_ReferredOrganisation": "Association pour le progrès et la défense des droits des femmes maliennes (APDF)",
        "cas_ReferredPrimaryCaseWorker": "Mariam Workername", "Reason for Outgoing Referral": "Additional Services Required",
        "cas_OutgoingReferralDate": D(2025, 1, 12), "cas_OutgoingReferralDetails": "Called her sister on 70123456",
        "cas_ReasonForCaseClosure": None,
    },
    {  # the same person, as the NGO that received her keeps her: names swapped, other case, no accent issue
        "cas_CaseOwner": "APDF", "prs_FirstName": "TESTNAME", "prs_SecondName": "aminata", "prs_Birthdate": BIRTHS[0],
        "prs_Gender": "Female", "prs_Citizenship": "ML", "prs_MobilePhone": "+223 66 00 11 22",
        "vic_TypeOfExploitation": "Sexual exploitation", "cas_Status": "Follow up",
        "cas_ReferringOrganisation": "DNDS", "cas_IncomingReferralDate": D(2025, 1, 12),
    },
    {  # Fatoumata, a child (14 when identified), closed
        "cas_CaseOwner": "Samusocial Mali", "prs_FirstName": "Fatoumata", "prs_SecondName": "Planted",
        "prs_Birthdate": BIRTHS[1], "prs_Gender": "Feminine", "prs_Citizenship": "Burkina Faso",
        "prs_Email": "fatou.planted@example.net", "vic_TraffickingStatus": "Possible victim of trafficking",
        "vic_TypeOfExploitation": "Forced begging", "cas_Status": "Closed", "cas_IncomingReferralDate": D(2025, 2, 1),
    },
    {  # Ibrahim, no birth date, in Gao, sent on to IOM for return
        "cas_CaseOwner": "CARITAS-GAO", "prs_FirstName": "Ibrahim", "prs_SecondName": "Samplename",
        "prs_Gender": "Masculine", "prs_Citizenship": "Côte d'Ivoire", "vic_MethodsOfControl": "Withholds documents",
        "vic_TypeOfExploitation": "Forced labour", "cas_ReferringOrganisation": "POL-GAO",
        "cas_IncomingReferralDate": D(2025, 3, 5), "cas_ReferredOrganisation": "IOM-ML",
        "Reason for Outgoing Referral": "Migration Or Change Of Location", "cas_OutgoingReferralDate": D(2025, 3, 20),
    },
]


def filled_template(rows: list[dict]) -> bytes:
    """IOM's template, unchanged but for rows 3+ (fields found by row 1, or the label in row 2)."""
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(TEMPLATE)
    ws = wb["Case Sheet"]
    where = {}
    for col in range(1, ws.max_column + 1):
        name = ws.cell(1, col).value or ws.cell(2, col).value
        if name:
            where[name] = col
    for i, row in enumerate(rows):
        for field, value in row.items():
            ws.cell(3 + i, where[field], value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _import(engine, data, **kw):
    return run_import(engine, data, "htcds", actor="tester", file_name="agency.xlsx", today=TODAY, hash_key=KEY,
                      **kw)


@pytest.fixture
def db(engine):
    return with_reference(engine)


def _one(engine, stmt):
    with engine.connect() as conn:
        return conn.execute(stmt).all()


def _orgs(engine) -> dict[str, int]:
    return dict(_one(engine, sa.select(s.organisations.c.code, s.organisations.c.id)))


def test_the_real_template_imports_with_the_right_counts(db):
    assert TEMPLATE.exists()
    report = _import(db, filled_template(ROWS))
    assert report.problems == [] and report.error is None and report.written
    assert report.rows == 4
    assert {t: c.as_dict() for t, c in report.counts.items()} == {
        "cases": {"inserted": 3, "updated": 0, "unchanged": 0},  # Aminata's two rows are one case
        # POL-BKO -> DNDS (Jan 10), DNDS -> APDF (Jan 12: DNDS's outgoing = APDF's incoming),
        # POL-GAO -> CARITAS-GAO (Mar 5), CARITAS-GAO -> IOM-ML (Mar 20)
        "referrals": {"inserted": 4, "updated": 0, "unchanged": 0},
        "stage_events": {"inserted": 3, "updated": 0, "unchanged": 0},
    }
    notes = " ".join(n.text() for n in report.notes)
    assert "Rows describing a person already seen in another row: 1." in notes
    assert "prs_Email" in notes and "prs_MobilePhone" in notes  # said to be read for hashing only, or not at all

    o = _orgs(db)
    aminata = case_code(KEY, person_hash(KEY, "Aminata", "Testname", BIRTHS[0]))
    fatoumata = case_code(KEY, person_hash(KEY, "Fatoumata", "Planted", BIRTHS[1]))
    ibrahim = case_code(KEY, person_hash(KEY, "Ibrahim", "Samplename", None))
    c = s.cases.c
    got = {r[0]: tuple(r[1:]) for r in _one(db, sa.select(
        c.code, c.sex, c.age_band, c.is_minor, c.nationality, c.is_foreign, c.trafficking_status, c.status_decided_by,
        c.identified_on, c.identified_by_org_id, c.owner_org_id, c.case_status, c.current_stage))}
    assert got == {
        # born 1999-03-14, identified 2025-01-10: 25; owner and status from the latest row (APDF's)
        aminata: ("female", "24-26", False, "ML", False, "actual", "police", D(2025, 1, 10), o["DNDS"], o["APDF"],
                  "follow_up", "identification"),
        # born 2010-07-02, identified 2025-02-01: 14
        fatoumata: ("female", "9-17", True, "BF", True, "possible", None, D(2025, 2, 1), o["SAMU"], o["SAMU"],
                    "closed", "closed"),
        ibrahim: ("male", "unknown", None, "CI", True, "possible", None, D(2025, 3, 5), o["CARITAS-GAO"],
                  o["CARITAS-GAO"], "active", "identification"),
    }
    regions = dict(_one(db, sa.select(s.cases.c.code, s.regions.c.code).join(s.regions)))
    assert regions == {aminata: "ML-BKO", fatoumata: "ML-BKO", ibrahim: "ML-7"}
    expl = sorted(_one(db, sa.select(s.cases.c.code, s.case_exploitation.c.exploitation_type).join(s.cases)))
    assert expl == sorted([(aminata, "forced_labour"), (aminata, "sexual_exploitation"),
                           (fatoumata, "forced_begging"), (ibrahim, "forced_labour")])
    r = s.referrals.c
    refs = sorted(_one(db, sa.select(r.from_org_id, r.to_org_id, r.sent_on, r.decided_on, r.outcome, r.reason,
                                     r.days_to_decision)), key=lambda x: x[2])
    assert refs == [
        (o["POL-BKO"], o["DNDS"], D(2025, 1, 10), D(2025, 1, 10), "accepted", "additional_services", 0),
        (o["DNDS"], o["APDF"], D(2025, 1, 12), D(2025, 1, 12), "accepted", "additional_services", 0),
        (o["POL-GAO"], o["CARITAS-GAO"], D(2025, 3, 5), D(2025, 3, 5), "accepted", None, 0),
        (o["CARITAS-GAO"], o["IOM-ML"], D(2025, 3, 20), None, None, "migration_or_change_of_location", None),
    ]
    events = sorted(_one(db, sa.select(s.stage_events.c.stage, s.stage_events.c.occurred_on)))
    assert events == [("identification", D(2025, 1, 10)), ("identification", D(2025, 2, 1)),
                      ("identification", D(2025, 3, 5))]


def test_no_personal_value_anywhere(db, caplog):
    caplog.set_level(logging.DEBUG)
    data = filled_template(ROWS)
    dry = _import(db, data, dry_run=True)
    report = _import(db, data)
    assert report.written
    planted = [v for values in PERSONAL.values() for v in values]
    stored = "\n".join(text_values(db)).casefold()
    assert [p for p in planted if p.casefold() in stored] == []
    # birth dates are in no date column either (nor as text)
    with db.connect() as conn:
        for table in s.metadata.sorted_tables:
            for col in (c for c in table.columns if isinstance(c.type, (sa.Date, sa.DateTime))):
                day = sa.func.date(col) if isinstance(col.type, sa.DateTime) else col
                hits = conn.execute(sa.select(sa.func.count()).select_from(table).where(day.in_(BIRTHS))).scalar()
                assert hits == 0, f"{table.name}.{col.name}"
    for birth in BIRTHS:
        assert birth.isoformat() not in stored and birth.strftime("%d/%m/%Y") not in stored
    # nor in what the import reports, nor in the logs
    said = " ".join([n.text() for n in report.notes + dry.notes] + [str(p) for p in report.problems]
                    + [str(report.summary()), caplog.text]).casefold()
    assert [p for p in planted if p.casefold() in said] == []


def test_personal_values_stay_out_of_a_failing_report(db):
    rows = [dict(ROWS[0], prs_Birthdate="14/31/1999", cas_CaseOwner="Unknown Agency")]
    report = _import(db, filled_template(rows))
    assert {(p.column, p.value) for p in report.problems} == {
        ("prs_Birthdate", "(personal data: not shown)"), ("cas_CaseOwner", "Unknown Agency")}
    said = " ".join(str(p.as_dict()) for p in report.problems)
    assert "14/31/1999" not in said and "Aminata" not in said


def test_importing_the_same_sheet_again_changes_nothing(db):
    data = filled_template(ROWS)
    assert _import(db, data).written
    before = dump(db)
    again = _import(db, data)
    assert again.totals().changed == 0
    assert {t: c.unchanged for t, c in again.counts.items()} == {"cases": 3, "referrals": 4, "stage_events": 3}
    after = dump(db)
    assert {t: v for t, v in after.items() if t != "audit_log"} == {t: v for t, v in before.items() if t != "audit_log"}


def test_a_second_agency_later_sends_the_same_person(db):
    assert _import(db, filled_template(ROWS)).written
    aminata = case_code(KEY, person_hash(KEY, "Aminata", "Testname", BIRTHS[0]))
    names = ["cas_CaseOwner", "prs_FirstName", "prs_SecondName", "prs_Birthdate", "prs_Gender",
             "vic_TypeOfExploitation", "cas_IncomingReferralDate", "cas_ReferringOrganisation"]
    # BNCE saw her first, in December, and had referred her to the police; accents differ
    later = csv_bytes(names, [["BNCE", "Amînata", "Testnamé", "1999-03-14", "NonSpecifiedUnknown",
                               "Forced begging", "2024-12-20", None]])
    report = _import(db, later)
    assert report.written and report.counts["cases"].as_dict() == {"inserted": 0, "updated": 1, "unchanged": 0}
    c = s.cases.c
    rows = _one(db, sa.select(c.code, c.sex, c.identified_on, c.identified_by_org_id, c.age_band)
                .where(c.person_hash == person_hash(KEY, "Aminata", "Testname", BIRTHS[0])))
    o = _orgs(db)
    # one case; the earliest identification wins (BNCE, 2024-12-20, age 25); an unknown sex erases nothing
    assert rows == [(aminata, "female", D(2024, 12, 20), o["BNCE"], "24-26")]
    case_id = _one(db, sa.select(c.id).where(c.code == aminata))[0][0]
    events = _one(db, sa.select(s.stage_events.c.stage, s.stage_events.c.occurred_on,
                                s.stage_events.c.organisation_id).where(s.stage_events.c.case_id == case_id))
    assert events == [("identification", D(2024, 12, 20), o["BNCE"])]  # moved, not doubled
    expl = sorted(_one(db, sa.select(s.case_exploitation.c.exploitation_type)
                       .where(s.case_exploitation.c.case_id == case_id)))
    assert expl == [("forced_begging",), ("forced_labour",), ("sexual_exploitation",)]
    # DNDS's own sheet again (only the outgoing side of DNDS -> APDF): that hand-off stays accepted
    dnds_only = filled_template([ROWS[0]])
    assert _import(db, dnds_only).written
    r = s.referrals.c
    assert _one(db, sa.select(r.outcome).where(r.from_org_id == o["DNDS"], r.to_org_id == o["APDF"])) == \
        [("accepted",)]


def test_identity_is_normalised_and_keyed():
    born = D(1999, 3, 14)
    assert identity("Aminata", "Testname", born) == identity("  TESTNAME ", "amînata", born) == \
        "v1|aminata testname|1999-03-14"
    assert person_hash(KEY, "Aminata", "Testname", born) == person_hash(KEY, "testname", "Aminata", born)
    assert person_hash(KEY, "Aminata", "Testname", born) != person_hash("another-key" * 3, "Aminata", "Testname", born)
    assert person_hash(KEY, "Aminata", "Testname", born) != person_hash(KEY, "Aminata", "Testname", D(1999, 3, 15))
    code = case_code(KEY, person_hash(KEY, "Aminata", "Testname", born))
    assert code.startswith("HT-") and len(code) == 13


def test_french_labels_row_and_csv_export_of_the_sheet(db):
    from dashboard.ingest import kinds, templates

    names = templates.headers(kinds.HTCDS, "fr")
    labels = templates.label_row(kinds.HTCDS, "fr")
    assert labels[:2] == ["Responsable du dossier", "Prénom"]
    row = dict.fromkeys(names)
    row.update(cas_CaseOwner="POL-BKO", prs_FirstName="Awa", prs_SecondName="Example",
               cas_IncomingReferralDate="15/01/2025", prs_Gender="Masculine")
    data = csv_bytes(names, [labels, [row[n] for n in names]], delimiter=";")
    report = _import(db, data)
    assert report.problems == [] and report.rows == 1 and report.counts["cases"].inserted == 1


def test_every_field_of_the_template_is_known():
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ws = openpyxl.load_workbook(TEMPLATE, read_only=True)["Case Sheet"]
        row1 = [c for c in next(ws.iter_rows(min_row=1, max_row=1, values_only=True)) if c]
    assert set(row1) | {"cas_ReasonForOutgoingReferral"} == set(FIELDS)


def test_a_regional_account_cannot_merge_into_a_case_of_another_region(db):
    from dashboard.ingest.htcds import M_OTHER_REGION
    from dashboard.privacy import Viewer

    assert _import(db, filled_template(ROWS)).written  # Ibrahim's case is in Gao (ML-7)
    names = ["cas_CaseOwner", "prs_FirstName", "prs_SecondName", "cas_IncomingReferralDate"]
    earlier = csv_bytes(names, [["POL-BKO", "Ibrahim", "Samplename", "2025-01-02"]])  # would move it to Bamako
    before = dump(db)
    focal = Viewer("focal", "committee", regions=("ML-BKO",), can_import=True)
    report = _import(db, earlier, viewer=focal)
    assert [(p.row, p.column, p.expected) for p in report.problems] == [(2, "cas_CaseOwner", M_OTHER_REGION)]
    later = csv_bytes(names, [["POL-BKO", "Ibrahim", "Samplename", "2025-04-02"]])  # stays a Gao case
    report = _import(db, later, viewer=focal)
    assert [(p.row, p.column, p.expected) for p in report.problems] == [(2, "cas_CaseOwner", M_OTHER_REGION)]
    assert dump(db) == before
