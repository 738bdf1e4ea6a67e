"""Shelter queries on a hand-built fixture, on SQLite and PostgreSQL.

Period: Monday 4 March – Sunday 17 March 2024 (14 nights; today = 20 March, so every
night of the period is over). Three shelters:

* A (region R1): 3 beds (women 2, girls 1) until 10 March, then 5 beds (women 3, men 1,
  girls 1) from 11 March: the capacity changes in the middle of the period.
* B (region R2): 3 beds (women 1, men 1, boys 1) throughout.
* C (region R1): capacity recorded only from 14 March (women 2): 10 nights without capacity.

Stays (a night belongs to a stay when entry ≤ night < exit; open: exit = today):

  stay  case (category)              shelter  entered   exited    nights in period
  s1    c1 (women)                   A        20 Feb    8 Mar     4–7 Mar          = 4
  s2    c2 (women)                   A        5 Mar     7 Mar     5–6 Mar          = 2  (same week)
  s3    c3 (girls)                   A        1 Mar     open      4–17 Mar         = 14
  s4    c5 (women: is_minor unknown,
            age band 24-26)          A        6 Mar     open      6–17 Mar         = 12
  s5    c6 (not assigned: trans,
            age unknown)             A        9 Mar     12 Mar    9–11 Mar         = 3
  s6    c7 (women)                   A        6 Mar     10 Mar    6–9 Mar          = 4
  s7    c9 (women, R2)               B        10 Mar    15 Mar    10–14 Mar        = 5
  s8    c8 (boys, R2)                B        1 Feb     open      4–17 Mar         = 14
  s9    c4 (men)                     B        16 Mar    20 Mar    16–17 Mar        = 2
  s10   c4 (men)                     B        5 Jan     20 Jan    (before the period)
  s11   c7 (women)                   C        12 Mar    16 Mar    12–15 Mar        = 4 (2 with capacity)

People in A each night (women / girls / not assigned = total, beds):
  4 Mar 1/1/0 = 2 (3) · 5 Mar 2/1/0 = 3 (3) · 6 Mar 4/1/0 = 5 (3) OVER · 7 Mar 3/1/0 = 4 (3) OVER
  8 Mar 2/1/0 = 3 (3) · 9 Mar 2/1/1 = 4 (3) OVER (total only) · 10 Mar 1/1/1 = 3 (3)
  11 Mar 3 (5) · 12–17 Mar 2 each (5)
"""
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import privacy, schema
from dashboard.filters import Filters
from dashboard.queries import shelters as q

TODAY = date(2024, 3, 20)
START, END = date(2024, 3, 4), date(2024, 3, 17)
F = Filters(start=START, end=END, today=TODAY)
D = lambda m, d: date(2024, m, d)  # noqa: E731


@pytest.fixture(scope="module")
def db(module_engine):
    with module_engine.begin() as c:
        c.execute(schema.regions.insert(), [{"code": "R1", "name": "Region one"}, {"code": "R2", "name": "Region two"}])
        c.execute(schema.organisations.insert(), [
            {"code": "O1", "name": "Operator one", "org_type": "Shelter", "region_id": 1},
            {"code": "O2", "name": "Operator two", "org_type": "Shelter", "region_id": 2},
            {"code": "P", "name": "Police", "org_type": "LawEnforcement", "region_id": 1},
        ])
        c.execute(schema.shelters.insert(), [
            {"code": "A", "name": "Shelter A", "organisation_id": 1, "region_id": 1},
            {"code": "B", "name": "Shelter B", "organisation_id": 2, "region_id": 2},
            {"code": "C", "name": "Shelter C", "organisation_id": None, "region_id": 1},
        ])
        c.execute(schema.shelter_capacity.insert(), [
            {"shelter_id": 1, "valid_from": D(1, 1), "valid_to": D(3, 11), "beds_women": 2, "beds_men": 0, "beds_girls": 1, "beds_boys": 0},
            {"shelter_id": 1, "valid_from": D(3, 11), "valid_to": None, "beds_women": 3, "beds_men": 1, "beds_girls": 1, "beds_boys": 0},
            {"shelter_id": 2, "valid_from": D(1, 1), "valid_to": None, "beds_women": 1, "beds_men": 1, "beds_girls": 0, "beds_boys": 1},
            {"shelter_id": 3, "valid_from": D(3, 14), "valid_to": None, "beds_women": 2, "beds_men": 0, "beds_girls": 0, "beds_boys": 0},
        ])
        cases = [
            # code, region, sex, is_minor, age band
            ("c1", 1, "female", False, "21-23"),
            ("c2", 1, "female", False, "18-20"),
            ("c3", 1, "female", True, "9-17"),
            ("c4", 2, "male", False, "30-38"),
            ("c5", 1, "female", None, "24-26"),
            ("c6", 1, "trans_nonconforming", None, "unknown"),
            ("c7", 1, "female", False, "27-29"),
            ("c8", 2, "male", True, "9-17"),
            ("c9", 2, "female", False, "21-23"),
        ]
        c.execute(schema.cases.insert(), [
            {"code": code, "region_id": reg, "sex": sex, "is_minor": minor, "age_band": band, "identified_on": D(1, 2),
             "trafficking_status": "actual", "case_status": "active", "current_stage": "protection"}
            for code, reg, sex, minor, band in cases])
        stays = [
            # case id, shelter id, entered, exited, destination
            (1, 1, D(2, 20), D(3, 8), "family"),
            (2, 1, D(3, 5), D(3, 7), "independent_living"),
            (3, 1, D(3, 1), None, None),
            (5, 1, D(3, 6), None, None),
            (6, 1, D(3, 9), D(3, 12), None),
            (7, 1, D(3, 6), D(3, 10), "family"),
            (9, 2, D(3, 10), D(3, 15), "returned_home_country"),
            (8, 2, D(2, 1), None, None),
            (4, 2, D(3, 16), D(3, 20), "family"),
            (4, 2, D(1, 5), D(1, 20), "family"),
            (7, 3, D(3, 12), D(3, 16), "other"),
        ]
        c.execute(schema.shelter_stays.insert(), [
            {"case_id": cid, "shelter_id": sid, "entered_on": e, "exited_on": x, "exit_destination": dest}
            for cid, sid, e, x, dest in stays])
        refs = [
            # case, to org, service, decided, outcome, reason
            (1, 1, "shelter", D(3, 5), "declined", "no_capacity"),   # counted
            (2, 1, "shelter", D(3, 6), "accepted", None),            # decided, not declined
            (9, 2, "shelter", D(3, 7), "declined", "no_capacity"),   # counted (region R2)
            (4, 2, "psychosocial", D(3, 8), "declined", "no_capacity"),  # not a shelter request
            (5, 1, "shelter", D(3, 10), "declined", "not_eligible"), # decided, another reason
            (3, 1, "shelter", D(2, 10), "declined", "no_capacity"),  # decided before the period
            (8, 1, None, D(3, 12), "declined", "no_capacity"),       # no service recorded: counted
            (2, 3, "shelter", D(3, 9), "declined", "no_capacity"),   # to the police: not a shelter operator
        ]
        c.execute(schema.referrals.insert(), [
            {"code": f"R{i}", "case_id": cid, "from_org_id": 3, "to_org_id": to, "service_type": svc,
             "sent_on": dec, "decided_on": dec, "outcome": out, "decline_reason": why}
            for i, (cid, to, svc, dec, out, why) in enumerate(refs, 1)])
    with module_engine.connect() as conn:
        yield conn


def rows(df, key="shelter_code"):
    return {r[key]: r for r in df.to_dict("records")}


# ---------------------------------------------------------------- calendar
def test_nights_cte_is_every_day_on_both_dialects(db):
    nights = q.nights_cte(date(2024, 2, 27), date(2024, 3, 2), db.dialect.name)
    got = [str(v)[:10] for v in db.execute(sa.select(nights.c.night).order_by(nights.c.night)).scalars()]
    # 2024 is a leap year: 27, 28, 29 Feb, 1, 2 Mar
    assert got == ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01", "2024-03-02"]


def test_last_night_is_yesterday_at_most():
    assert q.last_night(F) == END
    assert q.last_night(Filters(start=START, end=TODAY, today=TODAY)) == date(2024, 3, 19)


# ---------------------------------------------------------------- utilisation
def test_utilisation_per_shelter(db):
    u = rows(q.utilisation(db, F))
    a, b, cc = u["A"], u["B"], u["C"]
    # A: used 4 + 2 + 14 + 12 + 3 + 4 = 39 bed-nights; beds 7 nights × 3 + 7 nights × 5 = 56
    assert (a["bed_nights_used"], a["bed_nights_available"]) == (39, 56)
    assert a["utilisation"] == pytest.approx(39 / 56)
    assert (a["people"], a["nights"], a["nights_with_capacity"], a["nights_without_capacity"]) == (6, 14, 14, 0)
    assert a["nights_over_capacity"] == 3  # 6, 7 Mar (women 4 and 3 > 2 beds), 9 Mar (4 people > 3 beds)
    # B: 5 + 14 + 2 = 21 of 14 × 3 = 42; s10 (January) plays no part
    assert (b["bed_nights_used"], b["bed_nights_available"], b["people"], b["nights_over_capacity"]) == (21, 42, 3, 0)
    assert b["utilisation"] == pytest.approx(0.5)
    # C: s11 is there 12–15 Mar, capacity only from 14 Mar: 2 nights used of 4 nights × 2 beds = 8;
    # the 10 nights without capacity are in neither sum
    assert (cc["bed_nights_used"], cc["bed_nights_available"], cc["people"]) == (2, 8, 1)
    assert (cc["nights_with_capacity"], cc["nights_without_capacity"]) == (4, 10)
    assert cc["utilisation"] == pytest.approx(0.25)
    assert list(q.utilisation(db, F)["shelter_code"]) == ["A", "B", "C"]


def test_overall_utilisation(db):
    o = q.overall_utilisation(db, F)
    assert len(o) == 1
    row = o.iloc[0]
    # 39 + 21 + 2 = 62 of 56 + 42 + 8 = 106
    assert (row["bed_nights_used"], row["bed_nights_available"]) == (62, 106)
    assert row["utilisation"] == pytest.approx(62 / 106)
    assert (row["nights_without_capacity"], row["nights_over_capacity"], row["people"]) == (10, 3, 10)


def test_region_filter_selects_shelters_by_their_region(db):
    r1 = F.with_(regions=("R1",))
    assert list(q.utilisation(db, r1)["shelter_code"]) == ["A", "C"]
    row = q.overall_utilisation(db, r1).iloc[0]
    assert (row["bed_nights_used"], row["bed_nights_available"]) == (41, 64)  # A + C: 39 + 2, 56 + 8
    # a scope that excludes everything selects nothing
    none = F.with_(regions=("R2",), scope=("R1",))
    assert q.utilisation(db, none).empty and q.overall_utilisation(db, none).empty


def test_shelter_picker_restricts(db):
    row = q.overall_utilisation(db, F, shelters=("B",)).iloc[0]
    assert (row["bed_nights_used"], row["bed_nights_available"]) == (21, 42)


def test_weekly_series_splits_at_the_capacity_change(db):
    s = q.utilisation_series(db, F, "shelter", "week")
    a = s[s["shelter_code"] == "A"].set_index("period")
    assert list(a.index) == ["2024-03-04", "2024-03-11"]
    # week of 4 Mar: 2 + 3 + 5 + 4 + 3 + 4 + 3 = 24 of 7 × 3 = 21 beds (over 100 %)
    assert (a.loc["2024-03-04", "bed_nights_used"], a.loc["2024-03-04", "bed_nights_available"]) == (24, 21)
    assert a.loc["2024-03-04", "utilisation"] == pytest.approx(24 / 21)
    # the stay entering and leaving that week (s2) is one of its 6 people: s1, s3 on the first
    # night, then s2, s4, s6, s5
    assert a.loc["2024-03-04", "people"] == 6
    assert a.loc["2024-03-04", "nights_over_capacity"] == 3
    # week of 11 Mar: 3 + 2 × 6 = 15 of 7 × 5 = 35; people: s3, s4, s5
    assert (a.loc["2024-03-11", "bed_nights_used"], a.loc["2024-03-11", "bed_nights_available"]) == (15, 35)
    assert a.loc["2024-03-11", "people"] == 3
    c = s[s["shelter_code"] == "C"].set_index("period")
    # C's first week has no capacity at all: no rate, not 0 %
    assert c.loc["2024-03-04", "bed_nights_available"] == 0 and pd.isna(c.loc["2024-03-04", "utilisation"])
    assert c.loc["2024-03-04", "nights_without_capacity"] == 7
    assert (c.loc["2024-03-11", "bed_nights_used"], c.loc["2024-03-11", "bed_nights_available"]) == (2, 8)


def test_monthly_series_by_region(db):
    s = q.utilisation_series(db, F, "region", "month").set_index("region_code")
    assert list(s["period"]) == ["2024-03", "2024-03"]
    assert (s.loc["R1", "bed_nights_used"], s.loc["R1", "bed_nights_available"]) == (41, 64)
    assert (s.loc["R2", "bed_nights_used"], s.loc["R2", "bed_nights_available"]) == (21, 42)
    assert s.loc["R1", "people"] == 7  # 6 in A + 1 in C


def test_period_with_no_night_over_is_empty(db):
    f = Filters(start=TODAY, end=TODAY, today=TODAY)  # tonight is not over yet
    assert q.utilisation(db, f).empty
    assert q.overall_utilisation(db, f).empty
    assert q.utilisation_series(db, f, "shelter", "week").empty
    assert q.capacity_gaps(db, f).empty


def test_open_stays_count_up_to_yesterday(db):
    f = Filters(start=date(2024, 3, 18), end=TODAY, today=TODAY)  # nights 18 and 19 Mar
    u = rows(q.utilisation(db, f))
    # A: s3, s4 (open) 2 nights each = 4 of 2 × 5; B: s8 (open) and s9 (exit 20 Mar) = 4 of 2 × 3
    assert (u["A"]["bed_nights_used"], u["A"]["bed_nights_available"]) == (4, 10)
    assert (u["B"]["bed_nights_used"], u["B"]["bed_nights_available"]) == (4, 6)


def test_capacity_gaps(db):
    g = q.capacity_gaps(db, F)
    assert list(g["shelter_code"]) == ["C"]
    row = g.iloc[0]
    assert (row["nights_without_capacity"], row["nights"]) == (10, 14)
    assert (row["first_night"], row["last_night"]) == (D(3, 4), D(3, 13))


def test_over_capacity_nights(db):
    o = q.over_capacity_nights(db, F)
    assert list(zip(o["shelter_code"], o["night"], o["over"])) == [
        ("A", D(3, 6), "women"), ("A", D(3, 7), "women"), ("A", D(3, 9), "total")]
    assert list(o["occ_total"]) == [5, 4, 4] and list(o["beds_total"]) == [3, 3, 3]


# ---------------------------------------------------------------- today
def test_occupancy_today(db):
    o = rows(q.occupancy_today(db, F))
    a, b, cc = o["A"], o["B"], o["C"]
    # A tonight: s3 (girls) and s4 (women, by age band); beds of the second period
    assert (a["occ_women"], a["occ_girls"], a["occ_men"], a["occ_unassigned"], a["occ_total"]) == (1, 1, 0, 0, 2)
    assert (a["beds_women"], a["beds_men"], a["beds_girls"], a["beds_boys"], a["beds_total"]) == (3, 1, 1, 0, 5)
    assert a["occupancy"] == pytest.approx(0.4)
    # B: s8 (boys) only: s9 left today (exit 20 Mar is not > today)
    assert (b["occ_boys"], b["occ_total"], b["beds_total"]) == (1, 1, 3)
    assert (cc["occ_total"], cc["beds_total"], cc["occupancy"]) == (0, 2, 0)
    assert all(o[k]["has_capacity"] for k in "ABC")


def test_occupancy_today_without_capacity_is_not_zero_beds(db):
    f = Filters(start=D(1, 1), end=D(1, 10), today=D(1, 10))  # C has no capacity yet on 10 Jan
    cc = rows(q.occupancy_today(db, f))["C"]
    assert not cc["has_capacity"] and pd.isna(cc["beds_total"]) and pd.isna(cc["occupancy"])


def test_full_flags():
    frame = pd.DataFrame({
        "occupancy": [0.9, 0.89, None, "< 5"],
        "occ_women": [9, 8, 0, "< 5"], "beds_women": [10, 9, None, 4],
        "occ_men": [0, 1, 0, 0], "beds_men": [0, 0, None, 0],  # 1 man with no men's bed: flagged
        "occ_girls": [0, 0, 0, 0], "beds_girls": [0, 0, None, 0],
        "occ_boys": [0, 0, 0, 0], "beds_boys": [2, 2, None, 0],
    })
    out = q.full_flags(frame, 90)
    assert list(out["full"]) == [True, False, False, False]       # 90 % ≥ 90 %; 89 % not; hidden never
    assert list(out["full_women"]) == [True, False, False, False]  # 9 ≥ 0.9 × 10; 8 < 8.1; hidden never
    assert list(out["full_men"]) == [False, True, False, False]
    assert not any(out["full_boys"])


# ---------------------------------------------------------------- flows
def test_entries_exits_per_month(db):
    ee = q.entries_exits(db, F)
    # entries 4–17 Mar: s2, s4, s5, s6, s7, s9, s11 = 7; exits: s1, s2, s5, s6, s7, s11 = 6 (s9 leaves 20 Mar)
    assert ee.to_dict("records") == [{"month": "2024-03", "entries": 7, "exits": 6}]
    f = Filters(start=date(2024, 2, 1), end=END, today=TODAY)
    ee = q.entries_exits(db, f)
    # February: s8 (1 Feb), s1 (20 Feb); March 1–17: s3 + the 7 above
    assert ee.to_dict("records") == [{"month": "2024-02", "entries": 2, "exits": 0},
                                     {"month": "2024-03", "entries": 8, "exits": 6}]


def test_exit_destinations(db):
    d = q.exit_destinations(db, F)
    assert list(zip(d["destination"], d["exits"])) == [
        ("family", 2), ("independent_living", 1), ("not_recorded", 1), ("other", 1), ("returned_home_country", 1)]


def test_length_of_stay_by_shelter(db):
    los = rows(q.length_of_stay(db, F, "shelter"))
    # A: s1 17 (20 Feb → 8 Mar, 2024 is a leap year), s2 2, s5 3, s6 4 → sorted 2, 3, 4, 17
    assert los["A"]["n"] == 4 and los["A"]["median"] == pytest.approx(3.5) and los["A"]["mean"] == pytest.approx(26 / 4)
    assert (los["B"]["n"], los["B"]["median"], los["B"]["mean"]) == (1, 5, 5)  # s7; s9 ends after the period
    assert (los["C"]["n"], los["C"]["median"], los["C"]["mean"]) == (1, 4, 4)  # s11


def test_length_of_stay_by_sex_and_age(db):
    by_sex = rows(q.length_of_stay(db, F, "sex"), "sex")
    # female: s1 17, s2 2, s6 4, s7 5, s11 4 → 2, 4, 4, 5, 17
    assert (by_sex["female"]["n"], by_sex["female"]["median"]) == (5, 4)
    assert by_sex["female"]["mean"] == pytest.approx(32 / 5)
    assert (by_sex["trans_nonconforming"]["n"], by_sex["trans_nonconforming"]["median"]) == (1, 3)
    by_age = rows(q.length_of_stay(db, F, "age_group"), "age_group")
    assert set(by_age) == {"adult", "unknown"}  # no child's stay ended in the period
    assert (by_age["adult"]["n"], by_age["adult"]["median"]) == (5, 4)
    assert (by_age["unknown"]["n"], by_age["unknown"]["mean"]) == (1, 3)  # c6: no is_minor, age band unknown
    overall = q.length_of_stay(db, F, "all").iloc[0]
    assert overall["n"] == 6 and overall["median"] == pytest.approx(4)  # 2, 3, 4, 4, 5, 17
    assert overall["mean"] == pytest.approx(35 / 6)


def test_case_filters_apply_to_flows_not_to_occupancy(db):
    women = F.with_(sex=("female",))
    assert q.length_of_stay(db, women, "all").iloc[0]["n"] == 5
    assert q.entries_exits(db, women).iloc[0]["entries"] == 5  # without s5 (trans) and s9 (male)
    # beds are shared: utilisation still counts everyone present
    assert q.overall_utilisation(db, women).iloc[0]["bed_nights_used"] == 62


def test_empty_selections(db):
    f = F.with_(regions=("R2",), scope=("R1",))
    for fn in (q.entries_exits, q.exit_destinations, q.length_of_stay, q.declined_no_capacity,
               q.long_open_stays_count, q.occupancy_today, q.capacity_gaps, q.over_capacity_nights):
        assert fn(db, f).empty, fn.__name__


# ---------------------------------------------------------------- declined
def test_declined_for_lack_of_space(db):
    m = q.declined_no_capacity(db, F, "month")
    # decided 4–17 Mar, shelter service (or none) to a shelter operator: R1, R2, R3, R5, R7;
    # declined for no capacity: R1, R3, R7
    assert m.to_dict("records") == [{"month": "2024-03", "declined": 3, "decided": 5}]
    o = rows(q.declined_no_capacity(db, F, "organisation"), "organisation")
    assert (o["Operator one"]["declined"], o["Operator one"]["decided"]) == (2, 4)  # R1, R7 of R1, R2, R5, R7
    assert (o["Operator two"]["declined"], o["Operator two"]["decided"]) == (1, 1)
    r1 = q.declined_no_capacity(db, F.with_(regions=("R1",)), "month")
    assert r1.to_dict("records") == [{"month": "2024-03", "declined": 2, "decided": 4}]


# ---------------------------------------------------------------- long open stays
def test_long_open_stays(db):
    # open stays on 20 Mar: s3 (A, 19 days), s4 (A, 14 days), s8 (B, 48 days)
    assert rows(q.long_open_stays_count(db, F, 30))["B"]["stays"] == 1 and len(q.long_open_stays_count(db, F, 30)) == 1
    counts = rows(q.long_open_stays_count(db, F, 14))  # strictly more than 14 days: s4 is not
    assert (counts["A"]["stays"], counts["B"]["stays"]) == (1, 1)
    committee = privacy.Viewer("c", "committee")
    cases = q.long_open_stays(db, F, committee, 14)
    assert cases.to_dict("records") == [
        {"case_code": "c8", "shelter": "Shelter B", "entered_on": D(2, 1), "days": 48},
        {"case_code": "c3", "shelter": "Shelter A", "entered_on": D(3, 1), "days": 19},
    ]
    # default threshold: no profile in this database → 90 days: none
    assert q.long_open_stays_count(db, F).empty


def test_long_open_stays_case_level_is_guarded(db):
    with pytest.raises(privacy.AccessDenied):
        q.long_open_stays(db, F, privacy.Viewer("m", "minister"), 14)
    focal = privacy.Viewer("f", "committee", regions=("R1",))
    with pytest.raises(privacy.AccessDenied):  # filters wider than the viewer's scope
        q.long_open_stays(db, F, focal, 14)
    got = q.long_open_stays(db, F.with_(scope=("R1",)), focal, 14)
    assert list(got["case_code"]) == ["c3"]


# ---------------------------------------------------------------- privacy helpers
def test_secondary_suppression_across_columns():
    viewer = privacy.Viewer("m", "minister")
    df = pd.DataFrame({"occ_women": [7, 7, 0], "occ_girls": [2, 2, 0], "occ_boys": [6, 1, 0], "occ_total": [15, 10, 0]})
    p = privacy.protect(df, viewer, 5, counts=["occ_women", "occ_girls", "occ_boys", "occ_total"])
    out = q.secondary_suppress(p, ["occ_women", "occ_girls", "occ_boys"], total="occ_total")
    # row 0: girls hidden alone, total 15 shown → the smallest other part (boys 6) is hidden too
    assert out.iloc[0].tolist() == [7, "< 5", q.SECONDARY_LABEL, 15]
    # row 1: two parts already hidden: nothing more to hide
    assert out.iloc[1].tolist() == [7, "< 5", "< 5", 10]
    assert out.iloc[2].tolist() == [0, 0, 0, 0]
    # the committee sees everything: nothing hidden, nothing to do
    assert q.secondary_suppress(df, ["occ_women", "occ_girls", "occ_boys"]).equals(df)


def test_protect_occupancy_for_a_minister():
    cols = ["occ_women", "occ_men", "occ_girls", "occ_boys", "occ_unassigned", "occ_total", "occupancy"]
    df = pd.DataFrame([[7, 0, 2, 6, 0, 15, 0.5], [3, 0, 0, 0, 0, 3, 0.3], [6, 5, 0, 0, 0, 11, 0.55]], columns=cols)
    out = q.protect_occupancy(df, privacy.Viewer("m", "minister"), 5)[cols]
    S = q.SECONDARY_LABEL
    # B's total (3) is hidden; the national total is shown elsewhere, so the smallest other
    # shelter total (C, 11) is hidden too, with C's rate and its smallest category (men 5).
    # A: girls (2) hidden alone while A's total is shown → boys (6) hidden too.
    assert out.iloc[0].tolist() == [7, 0, "< 5", S, 0, 15, 0.5]
    assert out.iloc[1].tolist() == ["< 5", 0, 0, 0, 0, "< 5", None]
    assert out.iloc[2].tolist() == [6, S, 0, 0, 0, S, None]
    committee = q.protect_occupancy(df, privacy.Viewer("c", "committee"), 5)
    assert committee[cols].equals(df)


def test_secondary_suppression_across_rows():
    viewer = privacy.Viewer("m", "minister")
    df = pd.DataFrame({"destination": ["family", "other", "absconded"], "exits": [20, 8, 3]})
    p = privacy.protect(df, viewer, 5, counts=["exits"])
    out = q.secondary_suppress(p, ["exits"], axis="rows")
    assert list(out["exits"]) == [20, q.SECONDARY_LABEL, "< 5"]


def test_review_thresholds_default_without_profile(db):
    assert q.review_thresholds(db) == {"long_stay_days": 90, "shelter_full_pct": 90}
