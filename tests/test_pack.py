"""The meeting pack: PDF text (filters, period, headline figures), suppression for
aggregate-only roles, the committee's agenda, and the XLSX read back."""
import io
import os
import re
import shutil
import subprocess
from datetime import date, datetime

import openpyxl
import pytest

from dashboard import bootstrap, privacy, schema
from dashboard.export import pack as packs
from dashboard.export import xlsx
from dashboard.filters import Filters
from dashboard.i18n import translator
from dashboard.privacy import Viewer

TODAY = date(2026, 4, 15)
# 1 Jan – 31 Mar 2026 (90 days); previous period 3 Oct – 31 Dec 2025: nothing happened then
F = Filters(start=date(2026, 1, 1), end=date(2026, 3, 31), today=TODAY, preset="custom", regions=("A",))
K = 5
MINISTER = Viewer("minister", "minister", display_name="Demo minister")
COMMITTEE = Viewer("committee", "committee", display_name="Demo committee")
PDFTOTEXT = shutil.which("pdftotext")
REQUIRE = os.environ.get("NRM_REQUIRE_BROWSER") == "1"


@pytest.fixture(scope="module")
def db(module_engine):
    """Three victims in region A (counts 1..4 everywhere), two assisted, two referred to a
    shelter and placed there; region B has one case that the region filter leaves out."""
    with module_engine.begin() as c:
        bootstrap.set_meta(c, "country", "mali")  # the profile's review thresholds (no_assistance_days 7)
        c.execute(schema.regions.insert(), [{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Beta"}])
        c.execute(schema.organisations.insert(), [
            {"code": "POL", "name": "Police Alpha", "org_type": "LawEnforcement", "region_id": 1},
            {"code": "SHO", "name": "Shelter operator Alpha", "org_type": "Shelter", "region_id": 1},
        ])
        c.execute(schema.referral_targets.insert(), [{"org_type": "Shelter", "service_type": None, "days": 3}])
        c.execute(schema.cases.insert(), [
            {"code": code, "region_id": reg, "sex": sex, "age_band": band, "trafficking_status": "actual",
             "identified_on": on, "case_status": "active", "current_stage": stage, "owner_org_id": 1}
            for code, reg, sex, band, on, stage in [
                ("ML-T-0001", 1, "female", "9-17", date(2026, 1, 10), "immediate_assistance"),
                ("ML-T-0002", 1, "female", "24-26", date(2026, 2, 5), "immediate_assistance"),
                ("ML-T-0003", 1, "male", "30-38", date(2026, 3, 2), "identification"),
                ("ML-T-0004", 2, "female", "18-20", date(2026, 3, 5), "identification"),
            ]])
        c.execute(schema.stage_events.insert(), [
            {"case_id": i, "stage": "identification", "occurred_on": on, "organisation_id": 1}
            for i, on in ((1, date(2026, 1, 10)), (2, date(2026, 2, 5)), (3, date(2026, 3, 2)), (4, date(2026, 3, 5)))
        ] + [
            {"case_id": 1, "stage": "immediate_assistance", "occurred_on": date(2026, 1, 11), "organisation_id": 2},
            {"case_id": 2, "stage": "immediate_assistance", "occurred_on": date(2026, 2, 7), "organisation_id": 2},
        ])
        c.execute(schema.referrals.insert(), [
            {"code": "R1", "case_id": 1, "from_org_id": 1, "to_org_id": 2, "service_type": "shelter",
             "sent_on": date(2026, 1, 10), "decided_on": date(2026, 1, 12), "outcome": "accepted",
             "days_to_decision": 2},
            {"code": "R2", "case_id": 2, "from_org_id": 1, "to_org_id": 2, "service_type": "shelter",
             "sent_on": date(2026, 2, 5), "decided_on": date(2026, 2, 15), "outcome": "accepted",
             "days_to_decision": 10},
        ])
        c.execute(schema.services.insert(), [
            {"code": "S1", "case_id": 1, "service_type": "medical", "provider_org_id": 2, "started_on": date(2026, 1, 11)},
            {"code": "S2", "case_id": 2, "service_type": "shelter", "provider_org_id": 2, "started_on": date(2026, 2, 7)},
        ])
        c.execute(schema.shelters.insert(), [{"code": "SH-A", "name": "Shelter Alpha", "organisation_id": 2,
                                              "region_id": 1}])
        c.execute(schema.shelter_capacity.insert(), [{"shelter_id": 1, "valid_from": date(2025, 1, 1),
                                                      "beds_women": 4, "beds_girls": 2}])
        c.execute(schema.shelter_stays.insert(), [
            {"case_id": 1, "shelter_id": 1, "entered_on": date(2026, 1, 12), "exited_on": date(2026, 1, 19)},
            {"case_id": 2, "shelter_id": 1, "entered_on": date(2026, 2, 7), "exited_on": date(2026, 2, 21)},
        ])
        c.execute(schema.plans.insert(), [{"code": "NAP", "title_fr": "Plan", "title_en": "Plan",
                                           "starts_on": date(2025, 1, 1), "ends_on": date(2027, 12, 31)}])
        c.execute(schema.plan_objectives.insert(), [{"plan_id": 1, "code": "O1", "pillar": "protection",
                                                     "title_fr": "Objectif", "title_en": "Objective"}])
        c.execute(schema.plan_activities.insert(), [
            {"objective_id": 1, "code": code, "pillar": "protection", "title_fr": f"Activité {code}",
             "title_en": f"Activity {code}", "planned_start": date(2025, 6, 1), "planned_end": end, "status": status}
            for code, end, status in (("A1", date(2026, 2, 1), "in_progress"),  # due date passed: delayed
                                      ("A2", date(2026, 12, 31), "in_progress"),
                                      ("A3", date(2026, 1, 31), "completed"))])
    return module_engine


def _pack(db, viewer, lang, agenda=False, filters=F, charts=False):
    t = translator(lang)
    with db.connect() as c:
        ctx = packs.Context(viewer=viewer, k=K, t=t, country="Mali", region_names=packs.region_names(c), demo=True,
                            extracted_at=datetime(2026, 4, 15, 9, 30), agenda=agenda, charts=charts)
        return packs.collect(c, filters, ctx)


@pytest.fixture(scope="module")
def packs_by_role(db):
    return {
        ("minister", "en"): _pack(db, MINISTER, "en", agenda=True),  # asked for, never given
        ("committee", "en"): _pack(db, COMMITTEE, "en", agenda=True, charts=True),
        ("committee", "fr"): _pack(db, COMMITTEE, "fr"),
        ("minister", "fr"): _pack(db, MINISTER, "fr"),
    }


def _text(pdf_bytes: bytes, tmp_path) -> str:
    if PDFTOTEXT is None:
        if REQUIRE:
            pytest.fail("pdftotext is required (NRM_REQUIRE_BROWSER=1) but is not installed")
        pytest.skip("pdftotext (poppler-utils) is not installed: cannot read the PDF back")
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf_bytes)
    out = subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return out.stdout


def _line(text: str, start: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith(start)]
    assert lines, f"no line starting with {start!r}"
    return lines[0]


def test_every_page_has_its_chart(packs_by_role):
    pack = packs_by_role[("committee", "en")]
    assert [s.key for s in pack.sections] == ["summary", "flow", "bottlenecks", "shelters", "plan", "agenda"]
    for section in pack.sections[:5]:
        assert len(section.images) == 1 and section.images[0].startswith(b"\x89PNG"), section.key
    assert pack.sections[5].landscape and not pack.sections[5].images


def test_headline_protected_for_the_minister(packs_by_role):
    head = packs_by_role[("minister", "en")].tables()[0]
    assert head.key == "headline"
    values = dict(zip(head.df["figure"], zip(head.df["value"], head.df["previous"])))
    # every region for a minister (the region filter is dropped): 4 victims, 3 women and
    # girls, 1 minor now, none before: hidden, zero shown
    assert values["Victims identified"] == ("< 5", 0)
    assert values["Women and girls"] == ("< 5", 0)
    assert values["Minors"] == ("< 5", 0)
    # 2 referrals decided, 2 victims assisted, 2 people in the shelter: withheld
    assert packs.is_missing(values["Referrals decided within target"][0])
    assert packs.is_missing(values["Median days from identification to first assistance"][0])
    assert packs.is_missing(values["Shelter bed utilisation"][0])


def test_headline_for_the_committee(packs_by_role):
    head = packs_by_role[("committee", "en")].tables()[0]
    values = dict(zip(head.df["figure"], head.df["value"]))
    assert values["Victims identified"] == 3 and values["Women and girls"] == 2 and values["Minors"] == 1
    # R1 2 days ≤ 3, R2 10 days > 3: 1 of 2 within target
    assert values["Referrals decided within target"] == 0.5
    # first services: 1 day (ML-T-0001), 2 days (ML-T-0002): median 1.5
    assert values["Median days from identification to first assistance"] == 1.5


def test_no_person_count_below_k_for_aggregate_roles(packs_by_role):
    for lang in ("en", "fr"):
        pack = packs_by_role[("minister", lang)]
        seen_hidden = False
        for table in pack.tables():
            for j, col in enumerate(table.columns):
                if col.kind not in (packs.COUNT, "row"):
                    continue
                kinds = table.kinds if col.kind == "row" else [packs.COUNT] * table.rows
                for value, kind in zip(table.df[col.key], kinds):
                    if kind != packs.COUNT:
                        continue
                    seen_hidden |= privacy.is_hidden(value)
                    if not isinstance(value, str) and not packs.is_missing(value):
                        assert not 1 <= value < K, (table.key, col.key, value)
        assert seen_hidden


def test_minister_pdf_text(packs_by_role, tmp_path):
    pack = packs_by_role[("minister", "en")]
    text = _text(packs.pdf(pack, translator("en")), tmp_path)
    # cover: filters in words, period, extraction, demo notice
    assert re.search(r"Period\s+1 Jan 2026 – 31 Mar 2026", text)
    assert re.search(r"Compared with\s+3 Oct 2025 – 31 Dec 2025", text)
    # an aggregate-only viewer cannot narrow the regions (privacy.aggregate_filters): all of them
    assert re.search(r"Regions\s+All regions", text)
    assert re.search(r"Extracted on\s+15 Apr 2026 09:30 UTC", text)
    assert "Demo data: every case here is invented." in text
    # headline figures: hidden counts read "< 5", never the raw number
    assert re.fullmatch(r"Victims identified\s+<\s?5\s+0", _line(text, "Victims identified"))
    assert re.fullmatch(r"Women and girls\s+<\s?5\s+0", _line(text, "Women and girls"))
    assert re.fullmatch(r"Minors\s+<\s?5\s+0", _line(text, "Minors"))
    assert re.fullmatch(r"Referrals decided within target\s+—\s+—", _line(text, "Referrals decided within target"))
    assert "Fewer than 5 victims were identified, up from 0." in text
    assert "This includes fewer than 5 women and girls and fewer than 5 minors." in text
    assert "4 victims" not in text and "3 women" not in text
    # the funnel: 4 identified, 2 reached immediate assistance: hidden, and a conversion
    # over 4 cases withheld
    assert re.fullmatch(r"Identification\s+<\s?5\s+—", _line(text, "Identification"))
    assert re.fullmatch(r"Immediate assistance\s+<\s?5\s+—", _line(text, "Immediate assistance"))
    # the agenda is never in a minister's pack, even when asked for
    assert "Case review agenda" not in text and "ML-T-000" not in text
    assert re.search(r"Page 1 of \d+", text) and "Page 2 of" in text


def test_committee_pdf_text_with_agenda(packs_by_role, tmp_path):
    text = _text(packs.pdf(packs_by_role[("committee", "en")], translator("en")), tmp_path)
    assert re.search(r"Regions\s+Alpha", text)
    assert re.fullmatch(r"Victims identified\s+3\s+0", _line(text, "Victims identified"))
    assert "3 victims were identified, up from 0." in text
    assert "Committee version: small counts are shown." in text
    # the agenda by pseudonymous code: ML-T-0003 (no assistance, identified 2 Mar: 44 days, 37 past the 7)
    assert "Case review agenda" in text
    line = _line(text, "ML-T-0003")
    assert "Alpha" in line and "37" in line
    assert "ML-T-0004" not in text  # region B is outside the filters


def test_french_pdf(packs_by_role, tmp_path):
    text = _text(packs.pdf(packs_by_role[("minister", "fr")], translator("fr")), tmp_path)
    assert re.search(r"Période\s+1 janv\. 2026 – 31 mars 2026", text)
    assert re.search(r"Régions\s+Toutes les régions", text)
    assert "Moins de 5 victimes ont été identifiées, en hausse par rapport à 0." in text
    assert re.fullmatch(r"Victimes identifiées\s+<\s?5\s+0", _line(text, "Victimes identifiées"))
    assert "Données de démonstration" in text
    assert re.search(r"Page 1 sur \d+", text)


def test_xlsx_reads_back_with_the_same_protected_values(packs_by_role):
    pack = packs_by_role[("minister", "fr")]
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.workbook(pack)))
    assert len(wb.sheetnames) == 1 + len(pack.tables())
    about = wb[wb.sheetnames[0]]
    cover = {row[0]: row[1] for row in about.iter_rows(min_row=4, values_only=True) if row[0] and len(row) > 1}
    assert cover["Période"] == "1 janv. 2026 – 31 mars 2026"
    head = wb[wb.sheetnames[1]]
    rows = [r for r in head.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "Indicateur")
    assert rows[header][:3] == ("Indicateur", "Cette période", "Période précédente")
    body = {r[0]: r[1:3] for r in rows[header + 1:]}
    assert body["Victimes identifiées"] == ("< 5", 0)
    assert body["Référencements dans les délais"] == (None, None)
    # every sheet holds the same values as the pack's table
    for table, name in zip(pack.tables(), wb.sheetnames[1:]):
        sheet = list(wb[name].iter_rows(values_only=True))
        start = next(i for i, r in enumerate(sheet) if r[: len(table.columns)] == tuple(c.label for c in table.columns))
        assert len(sheet) - start - 1 == table.rows, table.key


def test_committee_xlsx_keeps_numbers(packs_by_role):
    pack = packs_by_role[("committee", "en")]
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.workbook(pack)))
    rows = list(wb[wb.sheetnames[1]].iter_rows(values_only=True))
    body = {r[0]: r[1] for r in rows if r and r[0]}
    assert body["Victims identified"] == 3
    assert body["Referrals decided within target"] == 0.5
    assert "Cases needing attention today" in wb.sheetnames


def test_sheet_names_are_valid_and_unique():
    used = set()
    names = [xlsx.sheet_name("Bed utilisation per shelter over the period: long", used) for _ in range(3)]
    assert all(len(n) <= 31 and ":" not in n for n in names)
    assert len(set(names)) == 3


def test_empty_database_pack(engine, tmp_path):
    """No data at all: every section says so, nothing crashes."""
    pack = _pack(engine, MINISTER, "en", filters=F.with_(regions=()), charts=True)
    assert [s.key for s in pack.sections] == ["summary", "flow", "bottlenecks", "shelters", "plan"]
    assert pack.sections[1].empty and pack.sections[2].empty and pack.sections[3].empty
    text = _text(packs.pdf(pack, translator("en")), tmp_path)
    assert "No victim was identified, unchanged from the previous period." in text
    assert "No case was identified in the period." in text
