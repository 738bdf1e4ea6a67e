"""A small hand-built referral history shared by tests/test_flow.py and tests/test_bottlenecks.py.

Today is 2026-03-31; the period is the first quarter of 2026 (90 days), so the previous
period of equal length is 2025-10-03 – 2025-12-31. Every expected figure in the tests is
worked out by hand from the tables below.

Organisations: 1 POL (LawEnforcement), 2 SH (Shelter), 3 NGO (NGO), 4 IOM
(InternationalOrganisation); all in region A. Targets: Shelter 2, NGO 5, NGO/psychosocial 3,
LawEnforcement 5, InternationalOrganisation 7 days.

Cases (identified; region; sex; age band; foreign):
  C1 2026-01-10 A female 18-20 national  det 01-09 id 01-10 imm 01-12 prot 01-20 ret 02-20 closed 03-10
  C2 2026-01-15 A female 9-17  foreign   det 01-15 id 01-15 imm 01-16 prot 02-01
  C3 2026-02-05 A male   30-38 national  det 02-05 id 02-05 imm 02-10 closed 03-01
  C4 2026-02-20 B male   0-8   national  id 02-20
  C5 2026-03-05 A female unknown (nationality unknown)  id 03-05 imm 03-07
  C6 2025-11-10 A female 24-26 national  id 2025-11-10 imm 2025-11-11 prot 2026-01-05
Exploitation: C1 sexual_exploitation + forced_labour, C2 forced_labour, C3 forced_labour,
C4 child_labour, C5 none.
Justice: C1 complaint 01-20, investigation 02-01, prosecution 02-15, judgement 03-20
conviction; C3 complaint 02-10, judgement 03-25 dismissed; C6 complaint 2025-12-01,
investigation 2026-01-10.

Referrals (case, from → to, service, sent, acknowledged, decided, outcome, first service):
  R1  C1 POL→SH  shelter       01-10 01-11 01-13 accepted              01-14   (ack 1, dec 3, fs 4)
  R2  C2 POL→SH  shelter       01-15 01-17 01-20 declined no_capacity          (ack 2, dec 5)
  R3  C3 POL→SH  shelter       02-05 02-05 02-15 accepted              02-16   (ack 0, dec 10, fs 11)
  R4  C1 SH→NGO  psychosocial  01-20 01-21 01-22 accepted              01-25   (ack 1, dec 2, fs 5)
  R5  C2 SH→NGO  psychosocial  03-20 pending                                   (age 11 > 3: overdue by 8)
  R6  C5 POL→NGO food          03-07 03-08 pending                             (age 24 > 5: overdue by 19)
  R7  C4 POL→SH  shelter       03-30 pending                                   (age 1 ≤ 2: not overdue)
  R8  C1 NGO→POL legal         02-20 02-22 03-05 accepted                      (ack 2, dec 13) — a loop back
  R9  C6 POL→SH  shelter   2025-11-10 11-10 11-12 accepted         2025-11-12  (previous period: dec 2)
  R10 C6 POL→SH  shelter   2025-12-01 12-02 12-05 declined not_eligible        (previous period: dec 4)
  R11 C6 SH→NGO  psychosocial 2025-12-20 12-22 2026-01-02 declined person_refused (dec 13, in the period)
  R12 C6 NGO→IOM reintegration 2025-10-01 pending                              (age 181 > 7: overdue by 174)
  R13 C5 POL→NGO food          03-01 03-02 03-06 accepted              03-08   (ack 1, dec 5, fs 7)
"""
from __future__ import annotations

from datetime import date

from dashboard import schema
from dashboard.domain import referral_intervals
from dashboard.filters import Filters

TODAY = date(2026, 3, 31)
PERIOD = Filters(start=date(2026, 1, 1), end=date(2026, 3, 31), today=TODAY, preset="custom")


def d(s: str) -> date:
    return date.fromisoformat(s if len(s) == 10 else f"2026-{s}")


CASES = [
    # code, identified, region, sex, band, foreign, stages {stage: date}
    ("C1", "01-10", 1, "female", "18-20", False,
     {"detection": "01-09", "identification": "01-10", "immediate_assistance": "01-12", "protection": "01-20",
      "return_reintegration": "02-20", "closed": "03-10"}),
    ("C2", "01-15", 1, "female", "9-17", True,
     {"detection": "01-15", "identification": "01-15", "immediate_assistance": "01-16", "protection": "02-01"}),
    ("C3", "02-05", 1, "male", "30-38", False,
     {"detection": "02-05", "identification": "02-05", "immediate_assistance": "02-10", "closed": "03-01"}),
    ("C4", "02-20", 2, "male", "0-8", False, {"identification": "02-20"}),
    ("C5", "03-05", 1, "female", "unknown", None, {"identification": "03-05", "immediate_assistance": "03-07"}),
    ("C6", "2025-11-10", 1, "female", "24-26", False,
     {"identification": "2025-11-10", "immediate_assistance": "2025-11-11", "protection": "01-05"}),
]
EXPLOITATION = [(1, "sexual_exploitation"), (1, "forced_labour"), (2, "forced_labour"), (3, "forced_labour"),
                (4, "child_labour")]
JUSTICE = [
    (1, "complaint", "01-20", None), (1, "investigation", "02-01", None), (1, "prosecution", "02-15", None),
    (1, "judgement", "03-20", "conviction"), (3, "complaint", "02-10", None), (3, "judgement", "03-25", "dismissed"),
    (6, "complaint", "2025-12-01", None), (6, "investigation", "01-10", None),
]
REFERRALS = [
    # code, case, from, to, service, sent, ack, decided, outcome, decline reason, first service
    ("R1", 1, 1, 2, "shelter", "01-10", "01-11", "01-13", "accepted", None, "01-14"),
    ("R2", 2, 1, 2, "shelter", "01-15", "01-17", "01-20", "declined", "no_capacity", None),
    ("R3", 3, 1, 2, "shelter", "02-05", "02-05", "02-15", "accepted", None, "02-16"),
    ("R4", 1, 2, 3, "psychosocial", "01-20", "01-21", "01-22", "accepted", None, "01-25"),
    ("R5", 2, 2, 3, "psychosocial", "03-20", None, None, None, None, None),
    ("R6", 5, 1, 3, "food", "03-07", "03-08", None, None, None, None),
    ("R7", 4, 1, 2, "shelter", "03-30", None, None, None, None, None),
    ("R8", 1, 3, 1, "legal", "02-20", "02-22", "03-05", "accepted", None, None),
    ("R9", 6, 1, 2, "shelter", "2025-11-10", "2025-11-10", "2025-11-12", "accepted", None, "2025-11-12"),
    ("R10", 6, 1, 2, "shelter", "2025-12-01", "2025-12-02", "2025-12-05", "declined", "not_eligible", None),
    ("R11", 6, 2, 3, "psychosocial", "2025-12-20", "2025-12-22", "01-02", "declined", "person_refused", None),
    ("R12", 6, 3, 4, "reintegration", "2025-10-01", None, None, None, None, None),
    ("R13", 5, 1, 3, "food", "03-01", "03-02", "03-06", "accepted", None, "03-08"),
]


def _opt(s):
    return None if s is None else d(s)


def build(engine) -> None:
    with engine.begin() as c:
        c.execute(schema.regions.insert(), [{"code": "A", "name": "Region A"}, {"code": "B", "name": "Region B"}])
        c.execute(schema.organisations.insert(), [
            {"code": "POL", "name": "Police brigade", "org_type": "LawEnforcement", "region_id": 1},
            {"code": "SH", "name": "Transit shelter", "org_type": "Shelter", "region_id": 1},
            {"code": "NGO", "name": "Women's NGO", "org_type": "NGO", "region_id": 1},
            {"code": "IOM", "name": "IOM mission", "org_type": "InternationalOrganisation", "region_id": 1},
        ])
        c.execute(schema.referral_targets.insert(), [
            {"org_type": "Shelter", "service_type": None, "days": 2},
            {"org_type": "NGO", "service_type": None, "days": 5},
            {"org_type": "NGO", "service_type": "psychosocial", "days": 3},
            {"org_type": "LawEnforcement", "service_type": None, "days": 5},
            {"org_type": "InternationalOrganisation", "service_type": None, "days": 7},
        ])
        c.execute(schema.cases.insert(), [
            {"code": code, "region_id": region, "sex": sex, "age_band": band,
             "is_minor": None if band == "unknown" else band in ("0-8", "9-17"),
             "nationality": None if foreign is None else ("BF" if foreign else "ML"), "is_foreign": foreign,
             "identified_on": d(ident), "trafficking_status": "actual", "case_status": "active",
             "current_stage": list(stages)[-1]}
            for code, ident, region, sex, band, foreign, stages in CASES
        ])
        c.execute(schema.case_exploitation.insert(), [{"case_id": i, "exploitation_type": e} for i, e in EXPLOITATION])
        events = [{"case_id": i + 1, "stage": stage, "occurred_on": d(on), "organisation_id": 1, "outcome": None}
                  for i, (*_rest, stages) in enumerate(CASES) for stage, on in stages.items()]
        events += [{"case_id": i, "stage": stage, "occurred_on": d(on), "organisation_id": 1, "outcome": out}
                   for i, stage, on, out in JUSTICE]
        c.execute(schema.stage_events.insert(), events)
        rows = []
        for code, case, frm, to, service, sent, ack, dec, outcome, reason, first in REFERRALS:
            sent_d, ack_d, dec_d, first_d = d(sent), _opt(ack), _opt(dec), _opt(first)
            rows.append({"code": code, "case_id": case, "from_org_id": frm, "to_org_id": to, "service_type": service,
                         "reason": "additional_services", "sent_on": sent_d, "acknowledged_on": ack_d,
                         "decided_on": dec_d, "outcome": outcome, "decline_reason": reason, "first_service_on": first_d,
                         **referral_intervals(sent_d, ack_d, dec_d, first_d)})
        c.execute(schema.referrals.insert(), rows)
