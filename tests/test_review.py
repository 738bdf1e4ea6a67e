"""Case review agenda and timeline on a hand-built fixture (SQLite and PostgreSQL).

Today is 31 March 2026; thresholds: no assistance 7 days, long stay 90 days, no movement
60 days. ``ago(n)`` is the date n days before today. Each reason has a case one day
before its threshold (not listed), at it (not listed: "more than N days") and one day
after (listed, 1 day past), plus cases that show the order and the holding organisation.
"""
from __future__ import annotations

import inspect
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from dashboard import schema
from dashboard.export.csv import to_csv
from dashboard.filters import Filters
from dashboard.privacy import AccessDenied, Viewer
from dashboard.profiles import ReviewThresholds
from dashboard.queries import review as q

TODAY = date(2026, 3, 31)
TH = ReviewThresholds(no_assistance_days=7, long_stay_days=90, no_movement_days=60, shelter_full_pct=90)
COMMITTEE = Viewer("committee", "committee")
ADMIN = Viewer("admin", "admin")
FOCAL = Viewer("focal", "committee", regions=("B",))


def ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def filters(**kw) -> Filters:
    # a short period long before the facts: the period must not restrict the agenda
    return Filters(start=date(2025, 1, 1), end=date(2025, 1, 31), today=TODAY, preset="custom", **kw)


POL, SH, NGO = 1, 2, 3
# code: (region, owner, status, identified days ago)
CASES = {
    "C-NA-IN": (1, POL, "active", 8),       # no assistance, 8 > 7: 1 day past
    "C-NA-EQ": (1, POL, "active", 7),       # at the threshold: not listed
    "C-NA-OUT": (1, POL, "active", 6),      # one day before: not listed
    "C-NA-SERVED": (1, POL, "active", 30),  # a service started: not listed
    "C-NA-IA": (1, POL, "active", 30),      # immediate assistance recorded: not listed
    "C-NA-CLOSED": (1, POL, "closed", 30),  # closed: not listed
    "C-LS-IN": (1, SH, "active", 95),       # in shelter 91 days > 90: 1 day past
    "C-LS-EQ": (1, SH, "active", 95),       # in shelter 90 days: not listed
    "C-LS-OUT": (1, SH, "active", 95),      # in shelter 89 days: not listed
    "C-LS-EXITED": (1, SH, "active", 205),  # left the shelter: not listed
    "C-NM-IN": (2, NGO, "follow_up", 100),  # last movement 61 days ago: 1 day past
    "C-NM-EQ": (1, NGO, "active", 100),     # last movement 60 days ago: not listed
    "C-NM-OUT": (1, NGO, "active", 100),    # last movement 59 days ago: not listed
    "C-NM-CLOSED": (1, NGO, "closed", 300),  # closed: not listed
    "C-OR": (1, POL, "active", 20),         # two overdue referrals
    "C-OR-OUT": (1, POL, "active", 10),     # pending, not overdue: not listed
    "C-MULTI": (2, NGO, "active", 120),     # no assistance (113) and no movement (60)
    "C-TIE": (1, SH, "active", 205),        # long stay 113 past, one reason
}


@pytest.fixture(scope="module")
def db(module_engine):
    e = module_engine
    ids = {code: i for i, code in enumerate(CASES, start=1)}
    with e.begin() as c:
        c.execute(schema.regions.insert(), [{"code": "A", "name": "Alpha"}, {"code": "B", "name": "Bravo"}])
        c.execute(schema.organisations.insert(), [
            {"code": "POL", "name": "Police", "org_type": "LawEnforcement", "region_id": 1},
            {"code": "SH", "name": "Shelter operator", "org_type": "Shelter", "region_id": 1},
            {"code": "NGO", "name": "NGO, Bravo", "org_type": "NGO", "region_id": 2},
        ])
        c.execute(schema.referral_targets.insert(), [
            {"org_type": "Shelter", "service_type": None, "days": 2},
            {"org_type": "NGO", "service_type": None, "days": 5},
            {"org_type": "LawEnforcement", "service_type": None, "days": 5},
        ])
        c.execute(schema.shelters.insert(), [{"code": "SH1", "name": "Shelter one", "organisation_id": SH, "region_id": 1}])
        c.execute(schema.cases.insert(), [
            {"id": ids[code], "code": code, "region_id": region, "sex": "female", "age_band": "18-20", "nationality": "ML",
             "identified_on": ago(days), "trafficking_status": "actual", "case_status": status, "owner_org_id": owner,
             "current_stage": "closed" if status == "closed" else "identification"}
            for code, (region, owner, status, days) in CASES.items()
        ])
        stages = [(code, "identification", ago(days), None) for code, (_r, _o, _s, days) in CASES.items()]
        stages += [
            ("C-NA-IA", "immediate_assistance", ago(29), None),
            ("C-LS-IN", "protection", ago(10), None), ("C-LS-EQ", "protection", ago(10), None),
            ("C-LS-OUT", "protection", ago(10), None), ("C-TIE", "protection", ago(10), None),
            ("C-NM-IN", "detection", ago(100), None), ("C-NM-IN", "complaint", ago(70), None),
            ("C-OR", "immediate_assistance", ago(19), None), ("C-OR-OUT", "immediate_assistance", ago(10), None),
        ]
        c.execute(schema.stage_events.insert(), [
            {"case_id": ids[code], "stage": stage, "occurred_on": on, "organisation_id": POL, "outcome": outcome}
            for code, stage, on, outcome in stages
        ])
        services = [  # code, type, provider, started, ended
            ("C-NA-SERVED", "medical", NGO, ago(20), None),
            ("C-LS-IN", "shelter", SH, ago(91), None), ("C-LS-EQ", "shelter", SH, ago(90), None),
            ("C-LS-OUT", "shelter", SH, ago(89), None), ("C-LS-EXITED", "shelter", SH, ago(200), ago(5)),
            ("C-TIE", "shelter", SH, ago(203), None),
            ("C-NM-IN", "medical", NGO, ago(95), ago(90)),
            ("C-NM-EQ", "medical", NGO, ago(100), ago(60)),
            ("C-NM-OUT", "medical", NGO, ago(100), ago(59)),
            ("C-NM-CLOSED", "medical", NGO, ago(300), ago(290)),
        ]
        c.execute(schema.services.insert(), [
            {"code": f"S{i}", "case_id": ids[code], "service_type": st, "provider_org_id": prov, "started_on": s,
             "ended_on": e_} for i, (code, st, prov, s, e_) in enumerate(services, start=1)
        ])
        stays = [  # code, entered, exited, destination
            ("C-LS-IN", ago(91), None, None), ("C-LS-EQ", ago(90), None, None), ("C-LS-OUT", ago(89), None, None),
            ("C-LS-EXITED", ago(200), ago(5), "family"), ("C-TIE", ago(203), None, None),
            ("C-NM-IN", ago(94), ago(92), "family"),
        ]
        c.execute(schema.shelter_stays.insert(), [
            {"case_id": ids[code], "shelter_id": 1, "entered_on": en, "exited_on": ex, "exit_destination": dest}
            for code, en, ex, dest in stays
        ])
        referrals = [  # code, case, from, to, service, sent, ack, decided, outcome
            ("R1", "C-NM-IN", POL, NGO, "legal", ago(65), ago(63), ago(61), "accepted"),  # last movement: decided 61 ago
            ("R2", "C-OR", POL, SH, "shelter", ago(3), None, None, None),   # 3 > 2: 1 day over
            ("R3", "C-OR", POL, NGO, "psychosocial", ago(9), ago(8), None, None),  # 9 > 5: 4 days over
            ("R4", "C-OR-OUT", POL, SH, "shelter", ago(2), None, None, None),  # 2, not > 2
            ("R5", "C-NA-CLOSED", POL, NGO, None, ago(30), ago(29), ago(28), "declined"),
        ]
        c.execute(schema.referrals.insert(), [
            {"code": code, "case_id": ids[case], "from_org_id": fr, "to_org_id": to, "service_type": sv, "sent_on": s,
             "acknowledged_on": a, "decided_on": d, "outcome": out, "decline_reason": "no_capacity" if out == "declined" else None}
            for code, case, fr, to, sv, s, a, d, out in referrals
        ])
    return e


def _agenda(db, viewer=COMMITTEE, f=None, **kw):
    with db.connect() as conn:
        return q.agenda(conn, f or filters(), viewer, TH, **kw)


def test_agenda_lists_exactly_the_cases_past_a_threshold_in_urgency_order(db):
    df = _agenda(db)
    # C-MULTI: max(113 no assistance = 120 − 7, 60 no movement = 120 − 60) = 113 with 2 reasons, before
    # C-TIE (113 = 203 − 90, one reason); C-OR: 4 = 9 − 5; then the three 1-day cases by code.
    assert df["case_code"].tolist() == ["C-MULTI", "C-TIE", "C-OR", "C-LS-IN", "C-NA-IN", "C-NM-IN"]
    assert df["days_past"].tolist() == [113, 113, 4, 1, 1, 1]
    assert df["reasons"].tolist() == [2, 1, 1, 1, 1, 1]
    assert df["listed"].tolist() == [6] * 6


def test_each_reason_one_day_after_its_threshold(db):
    df = _agenda(db).set_index("case_code")
    reason_cols = ["overdue_referral_days", "no_assistance_days", "long_stay_days", "no_movement_days"]
    got = {code: {col: (None if df.loc[code, col] is None or df.loc[code, col] is pd_na() else int(df.loc[code, col]))
                  for col in reason_cols} for code in df.index}
    assert got["C-NA-IN"] == {"overdue_referral_days": None, "no_assistance_days": 1, "long_stay_days": None,
                              "no_movement_days": None}
    assert got["C-LS-IN"] == {"overdue_referral_days": None, "no_assistance_days": None, "long_stay_days": 1,
                              "no_movement_days": None}
    assert got["C-NM-IN"] == {"overdue_referral_days": None, "no_assistance_days": None, "long_stay_days": None,
                              "no_movement_days": 1}
    assert got["C-MULTI"] == {"overdue_referral_days": None, "no_assistance_days": 113, "long_stay_days": None,
                              "no_movement_days": 60}
    # the dates each reason counts from
    assert df.loc["C-NA-IN", "identified_on"] == ago(8)
    assert df.loc["C-LS-IN", "stay_entered_on"] == ago(91)
    assert df.loc["C-NM-IN", "last_movement_on"] == ago(61)  # the decision of R1, later than sent / acknowledged
    assert df.loc["C-MULTI", "last_movement_on"] == ago(120)


def pd_na():
    import pandas as pd

    return pd.NA


def test_overdue_referral_is_held_by_the_receiving_organisation(db):
    row = _agenda(db).set_index("case_code").loc["C-OR"]
    # R2 to SH: 3 − 2 = 1 day over; R3 to NGO: 9 − 5 = 4 days over (the worst); R4 (2, not > 2) is not overdue
    assert int(row["overdue_referral_days"]) == 4
    assert row["overdue_referrals"] == 2
    assert (row["waiting_on"], row["waiting_on_name"], row["referral_sent_on"]) == ("NGO", "NGO, Bravo", ago(9))
    assert (row["holder"], row["holder_name"]) == ("POL", "Police")  # the case itself is held by the police


def test_holder_and_case_facts(db):
    df = _agenda(db).set_index("case_code")
    assert df.loc["C-MULTI", ["holder", "region", "region_name", "case_status"]].tolist() == ["NGO", "B", "Bravo", "active"]
    assert df.loc["C-LS-IN", "holder_name"] == "Shelter operator"


def test_counts_per_reason(db):
    with db.connect() as conn:
        got = q.agenda_counts(conn, filters(), COMMITTEE, TH)
    # overdue: C-OR; no assistance: C-NA-IN, C-MULTI; long stay: C-LS-IN, C-TIE; no movement: C-NM-IN, C-MULTI
    assert got == {"all": 6, "overdue_referral": 1, "no_assistance": 2, "long_stay": 2, "no_movement": 2}


def test_only_some_reasons_and_the_limit(db):
    df = _agenda(db, only=("no_movement",))
    assert df["case_code"].tolist() == ["C-MULTI", "C-NM-IN"]  # C-MULTI keeps both reasons
    assert df["reasons"].tolist() == [2, 1]
    assert _agenda(db, only=()).empty
    top = _agenda(db, limit=2)
    assert top["case_code"].tolist() == ["C-MULTI", "C-TIE"] and top["listed"].tolist() == [6, 6]
    with pytest.raises(ValueError):
        _agenda(db, only=("nonsense",))


def test_region_filter_and_scope(db):
    scoped = filters(scope=("B",))
    assert _agenda(db, FOCAL, scoped)["case_code"].tolist() == ["C-MULTI", "C-NM-IN"]
    assert _agenda(db, COMMITTEE, filters(regions=("A",)))["case_code"].tolist() == [
        "C-TIE", "C-OR", "C-LS-IN", "C-NA-IN"]
    with db.connect() as conn:
        assert q.agenda_counts(conn, scoped, FOCAL, TH)["all"] == 2
        # a case of another region cannot be opened by code
        assert q.case_header(conn, scoped, FOCAL, "C-OR").empty
        assert q.case_timeline(conn, scoped, FOCAL, "C-OR").empty
        with pytest.raises(AccessDenied):  # filters wider than the viewer's scope
            q.agenda(conn, filters(), FOCAL, TH)


@pytest.mark.parametrize("role", ["minister", "partner"])
def test_aggregate_roles_are_refused_everywhere(db, role):
    viewer = Viewer(role, role)
    calls = [
        lambda conn: q.agenda(conn, filters(), viewer, TH),
        lambda conn: q.agenda_counts(conn, filters(), viewer, TH),
        lambda conn: q.case_header(conn, filters(), viewer, "C-OR"),
        lambda conn: q.case_timeline(conn, filters(), viewer, "C-OR"),
    ]
    with db.connect() as conn:
        for call in calls:
            with pytest.raises(AccessDenied):
                call(conn)
    # every function of the module that reads the database is guarded, and these are all of them
    readers = [name for name, fn in vars(q).items() if inspect.isfunction(fn) and fn.__module__ == q.__name__
               and "conn" in inspect.signature(fn).parameters]
    assert sorted(readers) == ["agenda", "agenda_counts", "case_header", "case_timeline"]
    assert all(getattr(q, name).case_level is True for name in readers)


def test_case_header(db):
    with db.connect() as conn:
        head = q.case_header(conn, filters(), ADMIN, "C-NM-IN")
    assert head.iloc[0].to_dict() == {
        "case_code": "C-NM-IN", "sex": "female", "age_band": "18-20", "nationality": "ML", "region": "B",
        "region_name": "Bravo", "case_status": "follow_up", "current_stage": "identification",
        "trafficking_status": "actual", "holder": "NGO", "holder_name": "NGO, Bravo",
    }


def test_timeline_of_one_case_in_date_order(db):
    with db.connect() as conn:
        tl = q.case_timeline(conn, filters(), COMMITTEE, "C-NM-IN")
    rows = [(r.kind, r.item, r.start_on, r.end_on, r.acknowledged_on, r.org, r.to_org, r.outcome, r.detail)
            for r in tl.itertuples()]
    none = None
    assert [tuple(none if (isinstance(v, float) or v is pd_na()) else v for v in row) for row in rows] == [
        # same day (100 days ago): the chain in its order, detection before identification
        ("stage", "detection", ago(100), None, None, "Police", None, None, None),
        ("stage", "identification", ago(100), None, None, "Police", None, None, None),
        ("service", "medical", ago(95), ago(90), None, "NGO, Bravo", None, None, None),
        ("stay", "SH1", ago(94), ago(92), None, "Shelter one", None, None, "family"),
        ("justice", "complaint", ago(70), None, None, "Police", None, None, None),
        ("referral", "legal", ago(65), ago(61), ago(63), "Police", "NGO, Bravo", "accepted", None),
    ]


def test_timeline_rows_in_words(db):
    from dashboard.i18n import translator

    with db.connect() as conn:
        tl = q.case_timeline(conn, filters(), COMMITTEE, "C-OR")
    rows = q.timeline_rows(tl, translator("en"), TODAY)
    assert rows[["track", "what", "until"]].values.tolist() == [
        ["Referral chain", "Identification", ""],      # 20 days ago
        ["Referral chain", "Immediate assistance", ""],  # 19 days ago
        ["Referrals", "Referral: Psychosocial", "pending"],  # R3, 9 days ago
        ["Referrals", "Referral: Shelter", "pending"],       # R2, 3 days ago
    ]
    assert rows["org"].tolist()[2:] == ["Police → NGO, Bravo", "Police → Shelter operator"]
    assert rows["detail"].tolist()[2] == "acknowledged 23/03/2026, no decision yet"
    # open items run to today on the chart, events are points
    assert rows["end"].tolist() == [ago(20), ago(19), TODAY, TODAY]
    assert rows["is_event"].tolist() == [True, True, False, False]


def test_agenda_in_words_and_as_csv(db):
    from dashboard.i18n import translator

    df = _agenda(db)
    fr = translator("fr")
    table = q.agenda_table(df, fr)
    assert table.columns.tolist() == list(q.AGENDA_HEADERS)
    row = table.set_index("case_code").loc["C-OR"]
    assert row["why"] == fr.gettext(q.WHY_TEXTS["overdue_many"]).format(n="2", org="NGO, Bravo", days="4")
    headers = {col: fr.gettext(label) for col, label in q.AGENDA_HEADERS.items()}
    data = to_csv(table[table["case_code"] == "C-OR"], headers, sep=";")
    lines = data.decode("utf-8").split("\r\n")
    assert data.startswith(b"\xef\xbb\xbf")  # BOM, so that Excel reads the accents
    assert lines[0] == "\ufeffCas;Jours au-delà du seuil;Motif de l'inscription;Détenu par;Région;Sexe;Tranche d'âge;Statut;Étape"
    assert lines[1] == ("C-OR;4;2 référencements en retard, le plus en retard vers NGO, Bravo : 4 j au-delà du délai;"
                        "Police;Alpha;Féminin;18-20;Actif;Identification")
    assert lines[2:] == [""]


def test_csv_quotes_formulas_and_missing_values():
    import pandas as pd

    df = pd.DataFrame({"a": ["x;y", "=SUM(A1)"], "b": [date(2026, 3, 1), None],
                       "c": pd.array([4, None], dtype="Int64")})
    assert to_csv(df, {"a": "Texte", "b": "Date", "c": "Jours"}, sep=";") == (
        "\ufeffTexte;Date;Jours\r\n\"x;y\";2026-03-01;4\r\n'=SUM(A1);;\r\n".encode("utf-8"))
    assert to_csv(df.iloc[0:0], {"a": "A"}) == "\ufeffA\r\n".encode("utf-8")


def test_empty_database_gives_an_empty_agenda(engine):
    with engine.connect() as conn:
        assert q.agenda(conn, filters(), COMMITTEE, TH).empty
        assert q.agenda_counts(conn, filters(), COMMITTEE, TH) == {
            "all": 0, "overdue_referral": 0, "no_assistance": 0, "long_stay": 0, "no_movement": 0}
        assert q.case_timeline(conn, filters(), COMMITTEE, "nothing").empty
        assert q.case_header(conn, filters(), COMMITTEE, "nothing").empty


def test_greatest_ignores_nulls_on_both_dialects(engine):
    from dashboard.db import date_param, greatest

    d1, d2 = date_param(date(2026, 1, 5)), date_param(date(2026, 2, 1))
    null = sa.cast(sa.null(), sa.Date)
    with engine.connect() as conn:
        got = conn.execute(sa.select(
            greatest(engine.dialect.name, d1, null, d2).label("a"),  # NULL in the middle is skipped
            greatest(engine.dialect.name, d2, null).label("b"),
            greatest(engine.dialect.name, d1).label("c"),
        )).one()
    assert [str(v)[:10] for v in got] == ["2026-02-01", "2026-02-01", "2026-01-05"]


# ---------------------------------------------------------------- no movement: every dated fact
# code: (status, identified days ago, stage events, services, referrals, stays), each fact as
# days ago (negative: after today). N = 60: a fact 60 days ago is a movement, 61 is not.
MOVES = {
    "M-STAGE-IN": ("active", 200, [61], [], [], []),
    "M-STAGE-EQ": ("active", 200, [60], [], [], []),
    "M-SERVICE-END-IN": ("active", 200, [], [(150, 61)], [], []),
    "M-SERVICE-END-EQ": ("active", 200, [], [(150, 60)], [], []),
    "M-SERVICE-START": ("active", 200, [], [(60, None)], [], []),
    "M-SERVICE-FUTURE": ("follow_up", 200, [], [(100, -10)], [], []),  # the end after today does not count
    "M-REFERRAL-ACK": ("active", 200, [], [], [(100, 60, None, None)], []),
    "M-REFERRAL-FIRST": ("active", 200, [], [], [(100, 99, 98, 61)], []),
    "M-REFERRAL-LATER": ("active", 200, [], [], [(-5, None, None, None)], []),  # sent after today
    "M-STAY-EXIT-IN": ("active", 200, [], [], [], [(150, 61)]),
    "M-STAY-EXIT-EQ": ("active", 200, [], [], [], [(150, 60)]),
    "M-IDENT-IN": ("active", 61, [], [], [], []),
    "M-IDENT-EQ": ("active", 60, [], [], [], []),
    "M-CLOSED": ("closed", 200, [], [], [], []),
    # the latest of all: the service end
    "M-LATEST": ("active", 300, [250, 120], [(200, 90)], [(150, 149, 148, 147)], [(140, 100)]),
}


@pytest.fixture
def moves(engine):
    with engine.begin() as c:
        c.execute(schema.regions.insert(), [{"code": "A", "name": "Alpha"}])
        c.execute(schema.organisations.insert(), [
            {"code": "POL", "name": "Police", "org_type": "LawEnforcement", "region_id": 1},
            {"code": "NGO", "name": "NGO", "org_type": "NGO", "region_id": 1},
        ])
        c.execute(schema.shelters.insert(), [{"code": "SH1", "name": "Shelter", "organisation_id": 2, "region_id": 1}])
        for i, (code, (status, ident, stages, services, refs, stays)) in enumerate(MOVES.items(), start=1):
            c.execute(schema.cases.insert().values(
                id=i, code=code, region_id=1, sex="female", age_band="18-20", identified_on=ago(ident),
                trafficking_status="actual", case_status=status, owner_org_id=2,
                current_stage="closed" if status == "closed" else "identification"))
            # assisted on the day (no "no assistance" reason), then the stage events of MOVES
            events = [("identification", ident), ("immediate_assistance", ident)] + \
                list(zip(("protection", "complaint"), stages))
            c.execute(schema.stage_events.insert(), [
                {"case_id": i, "stage": stage, "occurred_on": ago(d), "organisation_id": 1} for stage, d in events])
            for k, (start, end) in enumerate(services):
                c.execute(schema.services.insert().values(
                    code=f"S{i}-{k}", case_id=i, service_type="legal", provider_org_id=2, started_on=ago(start),
                    ended_on=None if end is None else ago(end)))
            for k, (sent, ack, decided, first) in enumerate(refs):
                def on(d):
                    return None if d is None else ago(d)

                c.execute(schema.referrals.insert().values(
                    code=f"R{i}-{k}", case_id=i, from_org_id=1, to_org_id=2, sent_on=ago(sent),
                    acknowledged_on=on(ack), decided_on=on(decided), first_service_on=on(first),
                    outcome=None if decided is None else "accepted"))
            for entered, exited in stays:
                c.execute(schema.shelter_stays.insert().values(case_id=i, shelter_id=1, entered_on=ago(entered),
                                                               exited_on=ago(exited), exit_destination="family"))
    return engine


def test_no_movement_looks_at_every_dated_fact_up_to_today(moves):
    with moves.connect() as conn:
        df = q.agenda(conn, filters(), COMMITTEE, TH, limit=None, only=("no_movement",))
        counts = q.agenda_counts(conn, filters(), COMMITTEE, TH)
    got = {row.case_code: (int(row.no_movement_days), row.last_movement_on) for row in df.itertuples()}
    assert got == {
        "M-STAGE-IN": (1, ago(61)), "M-SERVICE-END-IN": (1, ago(61)), "M-SERVICE-FUTURE": (40, ago(100)),
        "M-REFERRAL-FIRST": (1, ago(61)), "M-REFERRAL-LATER": (140, ago(200)), "M-STAY-EXIT-IN": (1, ago(61)),
        "M-IDENT-IN": (1, ago(61)), "M-LATEST": (30, ago(90)),
    }
    assert counts["no_movement"] == len(got)
    # most urgent first, ties by code; the whole agenda and the first rows agree
    assert df["case_code"].tolist()[:2] == ["M-REFERRAL-LATER", "M-SERVICE-FUTURE"]
    with moves.connect() as conn:
        top = q.agenda(conn, filters(), COMMITTEE, TH, limit=3, only=("no_movement",))
    assert top["case_code"].tolist() == df["case_code"].tolist()[:3] and set(top["listed"]) == {len(got)}


def test_chunks_of_ids():
    assert q._chunks(list(range(7)), 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert q._chunks([], 3) == []
