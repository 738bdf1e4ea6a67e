"""Targets: the specific (type + service) row wins over the general one; overdue = age > target."""
from datetime import date

import sqlalchemy as sa

from dashboard import schema
from dashboard.db import frame
from dashboard.filters import Filters
from dashboard.queries.targets import pending_select

TODAY = date(2026, 3, 31)


def test_pending_and_overdue(engine):
    with engine.begin() as c:
        c.execute(schema.regions.insert(), [{"code": "A", "name": "A"}])
        c.execute(schema.organisations.insert(), [
            {"code": "POL", "name": "Police", "org_type": "LawEnforcement", "region_id": 1},
            {"code": "SH", "name": "Shelter", "org_type": "Shelter", "region_id": 1},
            {"code": "NGO", "name": "NGO", "org_type": "NGO", "region_id": 1},
        ])
        c.execute(schema.referral_targets.insert(), [
            {"org_type": "Shelter", "service_type": None, "days": 2},
            {"org_type": "NGO", "service_type": None, "days": 10},
            {"org_type": "NGO", "service_type": "psychosocial", "days": 3},
        ])
        c.execute(schema.cases.insert(), [{"code": "C1", "region_id": 1, "sex": "female", "age_band": "18-20",
                                           "identified_on": date(2026, 3, 1), "trafficking_status": "actual",
                                           "case_status": "active", "current_stage": "identification"}])
        rows = [
            # code, to, service, sent, decided
            ("R1", 2, "shelter", date(2026, 3, 30), None),      # age 1 ≤ 2: pending, not overdue
            ("R2", 2, "shelter", date(2026, 3, 25), None),      # age 6 > 2: overdue by 4
            ("R3", 3, "psychosocial", date(2026, 3, 26), None), # age 5 > specific 3: overdue by 2
            ("R4", 3, "legal", date(2026, 3, 26), None),        # age 5 ≤ general 10: not overdue
            ("R5", 2, "shelter", date(2026, 3, 1), date(2026, 3, 2)),  # decided: not pending
        ]
        c.execute(schema.referrals.insert(), [
            {"code": code, "case_id": 1, "from_org_id": 1, "to_org_id": to, "service_type": s, "sent_on": sent,
             "decided_on": dec, "outcome": "accepted" if dec else None} for code, to, s, sent, dec in rows])
    f = Filters(start=date(2026, 1, 1), end=TODAY, today=TODAY)
    with engine.connect() as c:
        df = frame(c, pending_select(f, engine.dialect.name).order_by("referral_id"))
        over = frame(c, pending_select(f, engine.dialect.name, overdue_only=True).order_by("referral_id"))
    assert df["referral_id"].tolist() == [1, 2, 3, 4]
    assert df["age_days"].tolist() == [1, 6, 5, 5]
    assert df["target_days"].tolist() == [2, 2, 3, 10]
    assert [bool(x) for x in df["overdue"]] == [False, True, True, False]
    assert over["referral_id"].tolist() == [2, 3] and over["days_over"].tolist() == [4, 2]
