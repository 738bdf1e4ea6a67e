"""Demo data: a plausible, fully synthetic national referral mechanism.

``generate(engine, profile, cases=10_000, seed=1, today=None)`` loads the country's
reference data (``dashboard.reference.load_reference``), then writes five years of
cases ending ``today``: stage events, referrals between organisations, services,
shelter stays, the justice track, plan activity statuses with their history, and
quarterly values of the projects' manual indicators. Nothing in it describes a real
person: case codes are sequence numbers, and there are no identifying fields at all.

Deterministic: one ``random.Random(seed)`` drives everything, in a fixed order; two
runs with the same profile, seed and ``today`` write identical tables (``meta``
included: ``generated_at`` is ``today``, not the wall clock).

Built to scale (250,000 cases in well under three minutes on SQLite): cases are
generated in chronological chunks, as plain tuples (dates as ISO strings, computed from
day ordinals), and written per chunk with the driver's ``executemany`` (SQLite) or
``COPY`` (PostgreSQL), one transaction per chunk. Only the shelter occupancy ledger
(per shelter, bed category and night) lives for the whole run.

What the generated data shows on purpose (tests/test_demo.py checks it):

* seasonality (peaks in March–April and October–November, fewer on weekends) and a
  mild upward trend (+35 % over five years);
* ~75 % female, ~30 % minors, mostly nationals, regions weighted by population (the
  capital, where the services are, 3 times more);
* cases that stop at every stage; recent cases have come less far;
* a caseload's lifecycle: a case is closed (stage event ``closed``) a few weeks after its
  last activity — its services ended, its shelter stay left, its referrals decided —
  never while one of them is still under way; in return and reintegration, most are
  closed as referred on (``closed_referred``) once the reintegration programme has begun
  (its services run on). The justice track goes on by itself (a complaint's service is
  one-off, the prosecution's lasts until the judgement). So the open cases (~9 %: active
  or in follow-up) are recent or still receiving a service, and 3 % are forgotten for
  months (18 at most) before a later review closes them; in each region, one case
  identified 4–10 months before ``today`` is planted forgotten, so that every region's
  agenda shows a case without movement. The case review agenda then
  lists every reason in plausible numbers: at 250,000 cases (seed 1) ~1,600 overdue
  referrals, ~170 cases without assistance, ~15 long shelter stays and ~4,300 cases
  without movement (most of them in a long service with nothing else recorded);
* referrals along the chain (first responder → social services / NGO / shelter →
  NGO / IOM for return and reintegration), loops back to the police for a complaint,
  declines (~10 %: shelters decline ``no_capacity`` when full), pending referrals
  (some overdue: a few "forgotten" referrals in the last 90 days);
* slow pairs: every police → prosecution referral (median ~16 days), and one police
  station → shelter operator pair (median ~13 days), listed in ``result['slow_pairs']``;
* shelter stays within the dated capacity of each bed category on every night, except
  ONE planted over-capacity episode of 3–5 nights about three months before ``today``,
  returned as ``result['planted_over_capacity'] = (shelter_code, first_night, last_night)``
  (emergency placements, each with its own same-day referral);
* plan activities in every status (some past due and not completed, one cancelled),
  with a dated status history; manual indicators with quarterly values, some behind,
  one with a later correction of the same period.
"""
from __future__ import annotations

import bisect
import itertools
import random
from collections import deque
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dashboard import schema
from dashboard.domain import ACTIVITY_STATUSES, MINOR_BANDS

CHUNK_CASES = 20_000  # cases generated and written per transaction
YEARS = 5
TREND = 0.35  # relative growth of the daily rate over the five years
SEASON = (0.95, 1.05, 1.25, 1.30, 1.05, 0.85, 0.75, 0.75, 0.90, 1.10, 1.15, 0.95)  # Jan..Dec
WEEKEND = 0.6
NEVER = 10**9  # an ordinal far in the future: "has not happened"

ProgressFn = Callable[[str, float], None]

# ------------------------------------------------------------------ code lists with weights
AGE_WEIGHTS = (("0-8", 7), ("9-17", 23), ("18-20", 14), ("21-23", 13), ("24-26", 11), ("27-29", 9),
               ("30-38", 13), ("39-47", 6), ("48+", 3), ("unknown", 1))
SEX_WEIGHTS = (("female", 750), ("male", 240), ("trans_nonconforming", 4), ("unknown", 6))
STATUS_WEIGHTS = (("actual", 58), ("possible", 37), ("not_victim", 5))

# Nationalities other than the country's own: (ISO2, weight), and the foreign share.
NEIGHBOURS = {
    "ML": ((("BF", 5), ("CI", 4), ("GN", 4), ("NE", 3), ("SN", 3), ("NG", 4), ("MR", 1), ("GH", 1)), 0.20),
    "MU": ((("MG", 5), ("IN", 4), ("BD", 5), ("LK", 2), ("KE", 1), ("NP", 1), ("CN", 1), ("MW", 1)), 0.28),
}
DEFAULT_NEIGHBOURS = ((("XX", 1),), 0.0)

# Exploitation by group: female adult, female minor, male adult, male minor, other.
EXPLOITATION_WEIGHTS = {
    "fa": (("sexual_exploitation", 45), ("servitude", 22), ("forced_labour", 18), ("forced_marriage", 8),
           ("forced_begging", 2), ("other", 3), ("organ_removal", 1), ("surrogacy", 1)),
    "fm": (("sexual_exploitation", 25), ("servitude", 22), ("child_labour", 25), ("forced_begging", 12),
           ("forced_marriage", 12), ("forced_adoption", 1), ("other", 2)),
    "ma": (("forced_labour", 70), ("servitude", 8), ("sexual_exploitation", 5), ("forced_military", 4),
           ("forced_begging", 3), ("organ_removal", 1), ("other", 4)),
    "mm": (("child_labour", 35), ("forced_begging", 35), ("forced_labour", 15), ("forced_military", 5),
           ("sexual_exploitation", 4), ("other", 2)),
    "xx": (("sexual_exploitation", 35), ("forced_labour", 30), ("servitude", 15), ("other", 10)),
}
CONTROL_WEIGHTS = (("false_promises", 20), ("debt_bondage", 12), ("withholds_documents", 12),
                   ("physical_threats", 10), ("psychological_abuse", 10), ("physical_abuse", 8),
                   ("takes_earnings", 8), ("excessive_working_hours", 7), ("threatens_family", 5),
                   ("sexual_abuse", 5), ("withholds_necessities", 4), ("restricts_financial_access", 3),
                   ("threats_law_enforcement", 3), ("psychoactive_substance", 2), ("restricts_medical_care", 2),
                   ("other", 1))
DETECT_ROLE_WEIGHTS = (("police", 40), ("ngo", 18), ("social", 14), ("immigration", 10), ("inspection", 6),
                       ("health", 7), ("iom", 5))
DECLINE_WEIGHTS = (("not_eligible", 45), ("person_refused", 35), ("other", 20))
JUDGEMENT_WEIGHTS = (("conviction", 45), ("acquittal", 25), ("dismissed", 30))

# Median days to a decision, by the receiving organisation's role (per pair, times a
# factor of 0.7-1.5 drawn once per pair).
DECISION_MEDIAN = {"police": 1.5, "social": 2.5, "ngo": 2.0, "shelter": 1.5, "health": 1.0, "iom": 4.0,
                   "prosecution": 16.0, "immigration": 2.0, "inspection": 3.0}
SLOW_SHELTER_MEDIAN = 13.0
DECLINE_P = {"prosecution": 0.15, "iom": 0.08}
DECLINE_P_DEFAULT = 0.085
FORGOTTEN_P = 0.06  # a referral sent in the last 90 days that nobody answers
# Identification is likelier where the services are: the capital's weight (its population)
# is multiplied by this.
CAPITAL_WEIGHT = 3.0
# Closure: a case is closed a while after its last activity (median ~30 days; ~2 weeks for
# cases found not to be victims), unless something is still under way today; a share
# STUCK_P is forgotten instead, until a later case review closes it (~10 months on, 18 at
# most).
CLOSE_DAYS, NOT_VICTIM_CLOSE_DAYS = (10, 20.0), (3, 10.0)  # (minimum, median of the rest)
STUCK_P, STUCK_DAYS = 0.03, (60, 240.0, 480)  # (minimum, median of the rest, its maximum)
# Return and reintegration with a long service: most cases are closed as referred on to the
# reintegration programme once it has started (the programme's services run on).
REFERRED_ON_P = 0.8

# Service durations in days: (min, max), skewed toward the minimum; (0, 0) = one-off.
SERVICE_DAYS = {
    "food": (0, 0), "non_food_items": (0, 0), "vulnerability_screening": (0, 0), "medical": (0, 14),
    "psychosocial": (14, 180), "legal": (30, 365), "education_vocational": (60, 300), "livelihood": (60, 365),
    "assisted_voluntary_return": (0, 0), "reintegration": (90, 365), "family_tracing": (7, 90), "other": (0, 30),
}
PROTECTION_SERVICES = {"ngo": ("psychosocial", "medical", "education_vocational", "legal", "livelihood"),
                       "social": ("psychosocial", "family_tracing", "financial", "education_vocational"),
                       "shelter": ("psychosocial", "education_vocational"),
                       "health": ("medical", "psychosocial")}
IMMEDIATE_SERVICES = {"ngo": ("food", "non_food_items", "psychosocial", "medical"),
                      "social": ("vulnerability_screening", "food", "non_food_items", "psychosocial"),
                      "health": ("medical",), "shelter": ("shelter",)}
REINTEGRATION_SERVICES = ("reintegration", "livelihood", "education_vocational", "family_tracing")

EVIDENCE = {  # (English, French)
    "in_progress": (
        ("Terms of reference validated; work started", "Termes de référence validés ; démarrage des travaux"),
        ("First workshop held; attendance list filed", "Premier atelier tenu ; liste de présence archivée"),
        ("Contract signed with the implementing partner", "Contrat signé avec le partenaire de mise en œuvre")),
    "delayed": (
        ("Delayed: funds not yet disbursed", "Retard : fonds non encore décaissés"),
        ("Postponed pending validation by the committee", "Reporté en attente de validation par le comité"),
        ("Delayed by the security situation in the region", "Retardé par la situation sécuritaire dans la région")),
    "completed": (
        ("Completed; final report shared with the committee", "Achevé ; rapport final partagé avec le comité"),
        ("Completed; training reports received", "Achevé ; rapports de formation reçus"),
        ("Completed; deliverables approved", "Achevé ; livrables validés")),
    "cancelled": (
        ("Cancelled: merged with another activity", "Annulé : fusionné avec une autre activité"),
        ("Cancelled for lack of funding", "Annulé faute de financement")),
    "not_started": (("Activity created with the plan", "Activité créée avec le plan"),),
}


def _cum(weighted):
    items = [k for k, _ in weighted]
    return items, list(itertools.accumulate(w for _, w in weighted))


class _Picker:
    """Weighted choice by bisection over cumulative weights (fast, deterministic)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, weighted):
        self.items, self.cum = _cum(weighted)
        self.total = self.cum[-1]

    def __call__(self, rnd: Callable[[], float]):
        return self.items[bisect.bisect_right(self.cum, rnd() * self.total)]


def _bed_category(sex: str, minor: bool | None) -> str | None:
    """The shelter bed category of a person (none for other or unknown sex)."""
    if sex == "female":
        return "girls" if minor else "women"
    if sex == "male":
        return "boys" if minor else "men"
    return None


def _stay_length(rng: random.Random, long_stay: int) -> int:
    """Nights in a shelter: mostly 2-120, one in twelve longer than ``long_stay``."""
    r = rng.random()
    if r < 0.72:
        return min(2 + max(0, int(16.0 * rng.lognormvariate(0.0, 0.7) + 0.5)), 120)
    if r < 0.92:
        return 60 + int(rng.random() * 61)
    return long_stay + 1 + int(rng.random() * long_stay * 1.5)


# ------------------------------------------------------------------ organisations
class _Orgs:
    """Organisations of the profile, with the roles they play in the chain."""

    def __init__(self, rows, shelter_orgs: set[int], capital_region: int | None):
        self.type_of: dict[int, str] = {}
        self.code_of: dict[int, str] = {}
        self.region_of: dict[int, int | None] = {}
        self.roles_of: dict[int, set[str]] = {}
        self.by_role: dict[str, list[int]] = {}
        self.by_role_region: dict[tuple[str, int | None], list[int]] = {}
        self.capital = capital_region
        for r in rows:
            roles = _roles(r.org_type, r.code, r.name, r.id in shelter_orgs)
            self.type_of[r.id], self.code_of[r.id], self.region_of[r.id] = r.org_type, r.code, r.region_id
            self.roles_of[r.id] = roles
            for role in sorted(roles):
                self.by_role.setdefault(role, []).append(r.id)
                self.by_role_region.setdefault((role, r.region_id), []).append(r.id)
        self.all = [r.id for r in rows]

    def has(self, role: str) -> bool:
        return bool(self.by_role.get(role))

    def pick(self, rng: random.Random, role: str, region: int | None) -> int:
        """An organisation of ``role`` in the region, else in the capital (national
        services), else anywhere; a role nobody plays falls back to social services,
        NGOs, then any organisation."""
        for r in (role, "social", "ngo"):
            lst = self.by_role_region.get((r, region)) or self.by_role_region.get((r, self.capital)) \
                or self.by_role_region.get((r, None)) or self.by_role.get(r)
            if lst:
                return lst[0] if len(lst) == 1 else lst[int(rng.random() * len(lst))]
        return self.all[int(rng.random() * len(self.all))]

    def role(self, org: int) -> str:
        roles = self.roles_of[org]
        for r in ("shelter", "prosecution", "police", "iom", "immigration", "health", "inspection", "social", "ngo"):
            if r in roles:
                return r
        return "other"


def _roles(org_type: str, code: str, name: str, runs_shelter: bool) -> set[str]:
    text = f"{code} {name}".lower()
    roles: set[str] = set()
    if runs_shelter or org_type == "Shelter":
        roles.add("shelter")
    if org_type == "InternationalOrganisation":
        if "iom" in text or "oim" in text or "migration" in text:
            roles.add("iom")
    elif org_type == "LawEnforcement":
        roles.add("police")
    elif org_type == "ImmigrationService":
        roles.add("immigration")
    elif org_type == "LegalService":
        roles.add("ngo" if ("aid" in text or "aide" in text) else "prosecution")
    elif org_type == "HealthServiceOrganisation":
        roles.add("health")
    elif org_type in ("CentralGovernmentOrganisation", "LocalGovernmentOrganisation"):
        if any(k in text for k in ("travail", "labour", "labor")):
            roles.add("inspection")
        elif any(k in text for k in ("comité", "comite", "committee", "coordination", "prime minister",
                                     "premier ministre", "cabinet", "attorney", "extérieur", "exterieur", "abroad")):
            pass  # coordination bodies hold no cases
        else:
            roles.add("social")
    elif org_type == "NGO":
        roles.add("ngo")
    return roles


# ------------------------------------------------------------------ shelter ledger
class _Ledger:
    """Beds and occupants per shelter, bed category and night (index = ordinal - base)."""

    CATS = ("women", "men", "girls", "boys")

    def __init__(self, base: int, today: int):
        self.base, self.today = base, today
        self.n = today - base + 1
        self.beds: dict[tuple[int, str], list[int]] = {}
        self.occ: dict[tuple[int, str], list[int]] = {}
        self.org_shelters: dict[int, list[int]] = {}
        self.region_of: dict[int, int] = {}
        self.code_of: dict[int, str] = {}

    def add_shelter(self, sid: int, code: str, org: int | None, region: int, periods) -> None:
        self.code_of[sid], self.region_of[sid] = code, region
        if org is not None:
            self.org_shelters.setdefault(org, []).append(sid)
        for cat in self.CATS:
            beds = [0] * self.n
            for p in periods:
                lo = max(p.valid_from.toordinal() - self.base, 0)
                hi = min((p.valid_to.toordinal() if p.valid_to else self.today + 1) - self.base, self.n)
                v = getattr(p, f"beds_{cat}")
                for i in range(lo, hi):
                    beds[i] = v
            self.beds[(sid, cat)] = beds
            self.occ[(sid, cat)] = [0] * self.n

    def fits(self, sid: int, cat: str, entry: int, exit_: int) -> bool:
        """Room for one more on every night entry <= night < exit (nights before today)."""
        beds, occ = self.beds[(sid, cat)], self.occ[(sid, cat)]
        lo, hi = entry - self.base, min(exit_, self.today) - self.base
        if lo < 0 or lo >= self.n:
            return False
        if beds[lo] <= 0:
            return False
        for i in range(lo, hi):
            if occ[i] >= beds[i]:
                return False
        return True

    def take(self, sid: int, cat: str, entry: int, exit_: int) -> None:
        occ = self.occ[(sid, cat)]
        for i in range(max(entry - self.base, 0), min(exit_, self.today) - self.base):
            occ[i] += 1

    def mean_beds(self, cat: str, lo: int) -> float:
        total = 0
        for (sid, c), beds in self.beds.items():
            if c == cat:
                total += sum(beds[lo - self.base:])
        return total / max(self.today - lo, 1)


# ------------------------------------------------------------------ writing
class _Writer:
    """Bulk inserts of tuples: executemany on SQLite, COPY on PostgreSQL.

    Values are Python primitives: dates as ISO strings (SQLAlchemy's own SQLite storage
    format), datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff', booleans as 0/1."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.dialect = conn.dialect.name

    def write(self, table: sa.Table, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        if self.dialect == "sqlite":
            sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
            self.conn.exec_driver_sql(sql, rows)
        elif self.dialect == "postgresql":
            raw = self.conn.connection.driver_connection
            with raw.cursor() as cur:
                with cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:  # any other dialect: SQLAlchemy Core, converting strings back to Python values
            conv = []
            for c in columns:
                t = table.c[c].type
                if isinstance(t, sa.DateTime):
                    conv.append(lambda v: None if v is None else datetime.fromisoformat(v))
                elif isinstance(t, sa.Date):
                    conv.append(lambda v: None if v is None else date.fromisoformat(v))
                elif isinstance(t, sa.Boolean):
                    conv.append(lambda v: None if v is None else bool(v))
                else:
                    conv.append(lambda v: v)
            for i in range(0, len(rows), 10_000):
                self.conn.execute(table.insert(), [
                    {c: f(v) for c, f, v in zip(columns, conv, row)} for row in rows[i:i + 10_000]])


CASE_COLS = ("id", "code", "region_id", "sex", "age_band", "is_minor", "nationality", "is_foreign",
             "trafficking_status", "status_decided_by", "identified_on", "identified_by_org_id", "case_status",
             "owner_org_id", "current_stage", "source", "updated_at")
EXPL_COLS = ("case_id", "exploitation_type")
CTRL_COLS = ("case_id", "method")
STAGE_COLS = ("case_id", "stage", "occurred_on", "organisation_id", "outcome")
REF_COLS = ("id", "code", "case_id", "from_org_id", "to_org_id", "reason", "service_type", "sent_on",
            "acknowledged_on", "decided_on", "outcome", "decline_reason", "first_service_on",
            "days_to_acknowledge", "days_to_decision", "days_to_first_service")
SERV_COLS = ("id", "code", "case_id", "referral_id", "service_type", "provider_org_id", "started_on", "ended_on")
STAY_COLS = ("case_id", "shelter_id", "entered_on", "exited_on", "exit_destination")

DECIDED_BY = {"police": "police", "ngo": "ngo", "shelter": "ngo", "prosecution": "court_or_prosecution",
              "social": "non_police_government", "health": "non_police_government",
              "immigration": "non_police_government", "inspection": "non_police_government", "iom": "other"}


# ------------------------------------------------------------------ the case generator
class _Cases:
    def __init__(self, rng: random.Random, seed: int, prefix: str, iso2: str, orgs: _Orgs, ledger: _Ledger,
                 today: int, long_stay: int, ids: dict[str, int], shelter_p: dict[str, float],
                 planted_window: tuple[int, int]):
        self.rng, self.rnd, self.seed = rng, rng.random, seed
        self.prefix, self.iso2 = prefix, iso2
        self.orgs, self.ledger, self.T, self.long_stay = orgs, ledger, today, long_stay
        self.next_case, self.next_ref, self.next_serv = ids["cases"], ids["referrals"], ids["services"]
        self.shelter_p = shelter_p
        self.iso: dict[int, str] = {}
        self._pair_median: dict[tuple[int, int], float] = {}
        self.slow_shelter_pair: tuple[int, int] | None = None
        self.p_sex = _Picker(SEX_WEIGHTS)
        self.p_age = _Picker(AGE_WEIGHTS)
        self.p_status = _Picker(STATUS_WEIGHTS)
        neigh, self.foreign_share = NEIGHBOURS.get(iso2, DEFAULT_NEIGHBOURS)
        self.p_neigh = _Picker(neigh)
        self.p_expl = {k: _Picker(v) for k, v in EXPLOITATION_WEIGHTS.items()}
        self.p_ctrl = _Picker(CONTROL_WEIGHTS)
        self.p_detect = _Picker([(r, w) for r, w in DETECT_ROLE_WEIGHTS if orgs.has(r)] or [("social", 1)])
        self.p_decline = _Picker(DECLINE_WEIGHTS)
        self.p_judgement = _Picker(JUDGEMENT_WEIGHTS)
        self.planted_lo, self.planted_hi = planted_window
        self.last_decided = NEVER
        # the current case: its latest activity up to today (ordinal), whether anything of
        # it is still under way today, the index of the service of the last referral
        self.c_last, self.c_busy, self.last_ref_service = 0, False, None
        self.stale = today - 90  # set by generate() from the profile's no_movement_days
        self.forgotten_regions: set[int] = set()  # regions with a case without movement today
        # shelter operators with beds of each category at some point
        self.shelter_ops = {c: [o for o, sids in ledger.org_shelters.items()
                                if any(max(ledger.beds[(s, c)]) > 0 for s in sids)] for c in _Ledger.CATS}
        self.candidates: dict[str, deque] = {c: deque(maxlen=4000) for c in _Ledger.CATS}
        self.reserve: dict[str, deque] = {c: deque(maxlen=4000) for c in _Ledger.CATS}  # closed before
        self.reset()
        self.counts = {k: 0 for k in ("cases", "case_exploitation", "case_control_methods", "stage_events",
                                      "referrals", "services", "shelter_stays")}

    def reset(self):
        self.cases, self.expl, self.ctrl, self.stages = [], [], [], []
        self.refs, self.servs, self.stays = [], [], []

    # -- helpers
    def d(self, o: int) -> str:
        s = self.iso.get(o)
        if s is None:
            s = self.iso[o] = date.fromordinal(o).isoformat()
        return s

    def lognorm_days(self, median: float, sigma: float = 0.55) -> int:
        return max(0, int(median * self.rng.lognormvariate(0.0, sigma) + 0.5))

    def pair_median(self, frm: int, to: int) -> float:
        m = self._pair_median.get((frm, to))
        if m is None:
            prng = random.Random(f"{self.seed}:{self.orgs.code_of[frm]}:{self.orgs.code_of[to]}")
            if (frm, to) == self.slow_shelter_pair:
                m = SLOW_SHELTER_MEDIAN
            else:
                m = DECISION_MEDIAN.get(self.orgs.role(to), 2.5) * (0.7 + 0.8 * prng.random())
            self._pair_median[(frm, to)] = m
        return m

    def service_end(self, service: str, start: int) -> int | None:
        lo, hi = SERVICE_DAYS.get(service, (0, 30))
        u = self.rnd()
        end = start + (lo if hi == lo else lo + int(u * u * (hi - lo + 1)))  # most short, a few long
        return end if end <= self.T else None

    def add_service(self, case_id: int, ref_id: int | None, service: str, org: int, start: int,
                    end: int | None = -1) -> None:
        sid = self.next_serv
        self.next_serv += 1
        if end == -1:
            end = self.service_end(service, start)
        if end is None:
            self.c_busy = True
        elif end > self.c_last:
            self.c_last = end
        if start > self.c_last:
            self.c_last = start
        self.servs.append((sid, f"{self.prefix}-S-{sid:07d}", case_id, ref_id, service, org, self.d(start),
                           None if end is None else self.d(end)))

    def stay_length(self) -> int:
        return _stay_length(self.rng, self.long_stay)

    def refer(self, case_id: int, frm: int, to: int, sent: int, service: str, reason: str,
              stay: dict | None = None, accept: bool = False, decided: int | None = None, one_off: bool = False):
        """Write one referral; returns (outcome, decided_on, first_service_on) with
        outcome accepted | declined | pending, or None when it would be sent after today.
        ``one_off``: the service that follows an acceptance ends the day it starts."""
        T, rnd = self.T, self.rnd
        self.last_ref_service = None
        if sent > T:
            return None
        rid = self.next_ref
        self.next_ref += 1
        if decided is None:
            decided = sent + self.lognorm_days(self.pair_median(frm, to))
            if not accept and sent > T - 90 and rnd() < FORGOTTEN_P:
                decided = NEVER
        r = rnd()
        ack = sent + (0 if r < 0.5 else 1 if r < 0.8 else 2 + int(rnd() * 3))
        if ack > decided:
            ack = decided
        outcome = decline = first = None
        shelter_pick = None
        if decided <= T:
            if not accept and rnd() < DECLINE_P.get(self.orgs.role(to), DECLINE_P_DEFAULT):
                outcome, decline = "declined", self.p_decline(rnd)
            else:
                outcome = "accepted"
                if service == "assisted_voluntary_return":
                    first = decided + 7 + self.lognorm_days(14.0, 0.5)
                elif service == "shelter":
                    first = decided + (0 if rnd() < 0.7 else 1)
                else:
                    first = decided + (0 if rnd() < 0.45 else 1 + int(rnd() * 4))
                if stay is not None:  # a bed for the whole stay, or no_capacity
                    length = stay["length"]
                    for sid in self.ledger.org_shelters.get(to, ()):
                        if self.ledger.fits(sid, stay["cat"], first, first + length):
                            shelter_pick = sid
                            break
                    if shelter_pick is None:
                        outcome, decline, first = "declined", "no_capacity", None
                if first is not None and first > T:
                    first = None
        else:
            decided = None
            if ack > T or rnd() < 0.4:
                ack = None
        d = self.d
        self.refs.append((
            rid, f"{self.prefix}-R-{rid:07d}", case_id, frm, to, reason, service, d(sent),
            None if ack is None else d(ack), None if decided is None else d(decided), outcome, decline,
            None if first is None else d(first),
            None if ack is None else ack - sent, None if decided is None else decided - sent,
            None if first is None else first - sent))
        last = max(x for x in (sent, ack, decided, first) if x is not None)
        if last > self.c_last:
            self.c_last = last
        if decided is None or (outcome == "accepted" and first is None):  # waiting for a decision or a start
            self.c_busy = True
        if outcome == "accepted" and first is not None:
            if shelter_pick is not None:
                exit_ = first + stay["length"]
                self.ledger.take(shelter_pick, stay["cat"], first, exit_)
                open_ = exit_ > T
                dest = None if open_ else self.exit_destination(stay["foreign"])
                self.stays.append((case_id, shelter_pick, d(first), None if open_ else d(exit_), dest))
                stay["exit"], stay["open"] = (T if open_ else exit_), open_
                self.add_service(case_id, rid, "shelter", to, first, None if open_ else exit_)
            else:
                self.add_service(case_id, rid, service, to, first, first if one_off else -1)
            self.last_ref_service = len(self.servs) - 1
        return outcome or "pending", decided, first

    def exit_destination(self, foreign: bool) -> str:
        r = self.rnd()
        if foreign and r < 0.4:
            return "returned_home_country"
        r = self.rnd()
        return ("family" if r < 0.5 else "independent_living" if r < 0.68 else "other_shelter" if r < 0.8
                else "absconded" if r < 0.9 else "other")

    def hand_over(self, case_id, frm, role, region, sent, services, reason="additional_services", exclude=()):
        """Refer to an organisation of ``role``; after a decline, up to two more tries (the
        second with another organisation). Returns (org, first_service_on) or None."""
        for _ in range(3):
            to = self.orgs.pick(self.rng, role, region)
            if to == frm or to in exclude:
                alt = [o for o in self.orgs.by_role.get(role, ()) if o != frm and o not in exclude]
                if not alt:
                    return None
                to = alt[int(self.rnd() * len(alt))]
            service = services if isinstance(services, str) else services[int(self.rnd() * len(services))]
            res = self.refer(case_id, frm, to, sent, service, reason)
            if res is None:
                return None
            outcome, decided, first = res
            self.last_decided = decided if decided is not None else NEVER
            if outcome == "accepted":
                return (to, first) if first is not None else None
            if outcome == "pending":
                return None
            sent = decided + (0 if self.rnd() < 0.6 else 1 + int(self.rnd() * 3))
            exclude = (*exclude, to)
        return None

    # -- one case
    def case(self, d0: int, region: int) -> None:
        rng, rnd, T, orgs = self.rng, self.rnd, self.T, self.orgs
        cid = self.next_case
        self.next_case += 1
        self.c_last, self.c_busy = d0, False
        sex = self.p_sex(rnd)
        band = self.p_age(rnd)
        minor = None if band == "unknown" else band in MINOR_BANDS
        if rnd() < self.foreign_share:
            nat = self.p_neigh(rnd)
        else:
            nat = self.iso2
        foreign = nat != self.iso2
        status = self.p_status(rnd)
        cat = _bed_category(sex, minor)
        grp = {"women": "fa", "girls": "fm", "men": "ma", "boys": "mm", None: "xx"}[cat]
        # exploitation and control methods
        e1 = self.p_expl[grp](rnd)
        self.expl.append((cid, e1))
        if rnd() < 0.3:
            e2 = self.p_expl[grp](rnd)
            if e2 != e1:
                self.expl.append((cid, e2))
        n = 1 if rnd() < 0.4 else 2 if rnd() < 0.58 else 3
        seen = set()
        for _ in range(n):
            m = self.p_ctrl(rnd)
            if m not in seen:
                seen.add(m)
                self.ctrl.append((cid, m))
        if foreign and "withholds_documents" not in seen and rnd() < 0.3:
            self.ctrl.append((cid, "withholds_documents"))

        stages = self.stages
        d = self.d
        # detection and identification
        det_role = self.p_detect(rnd)
        if foreign and rnd() < 0.25 and orgs.has("immigration"):
            det_role = "immigration"
        detector = orgs.pick(rng, det_role, region)
        drole = orgs.role(detector)
        if drole in ("police", "social", "ngo") and rnd() < 0.7:
            ident = detector
        else:
            r = rnd()
            ident = orgs.pick(rng, "police" if r < 0.5 else "social" if r < 0.8 else "ngo", region)
        if ident != detector:
            sent = d0 - min(self.lognorm_days(self.pair_median(detector, ident)), 20)
            self.refer(cid, detector, ident, sent, "vulnerability_screening", "additional_services",
                       accept=True, decided=d0)
            detected = sent
        else:
            r = rnd()
            detected = d0 - (0 if r < 0.5 else 1 + int(rnd() * 7))
            if rnd() < 0.6:
                self.add_service(cid, None, "vulnerability_screening", ident, d0)
        stages.append((cid, "detection", d(detected), detector, None))
        stages.append((cid, "identification", d(d0), ident, None))
        if rnd() < 0.3:
            self.add_service(cid, None, "food" if rnd() < 0.6 else "non_food_items", ident, d0)
        last_event = d0
        stage, holder, t = "identification", ident, d0
        stay = None
        reached_return_by_iom = False

        # the referral chain
        go = rnd() < (0.1 if status == "not_victim" else 0.93)
        if go:  # immediate assistance
            sent = t + (0 if rnd() < 0.6 else 1 + int(rnd() * 2))
            res = None
            if cat is not None and rnd() < self.shelter_p[cat]:
                stay = {"cat": cat, "length": self.stay_length(), "foreign": foreign}
                res = self.shelter_referral(cid, holder, region, sent, stay)
                if res is None and stay.get("full"):  # declined everywhere: non-residential help
                    stay = None
                    sent = max(sent, self.last_decided)
                    if sent <= T:
                        res = self.hand_over(cid, holder, "ngo", region, sent, IMMEDIATE_SERVICES["ngo"])
            elif orgs.role(holder) in ("social", "ngo") and rnd() < 0.5:
                res = (holder, sent)
                if sent <= T:
                    self.add_service(cid, None, IMMEDIATE_SERVICES[orgs.role(holder)][int(rnd() * 3)], holder, sent)
                else:
                    res = None
            else:
                role = "social" if rnd() < 0.5 else "ngo" if rnd() < 0.8 else "health"
                res = self.hand_over(cid, holder, role, region, sent, IMMEDIATE_SERVICES.get(role, ("psychosocial",)))
            if res is not None:
                holder, t = res
                stage = "immediate_assistance"
                stages.append((cid, stage, d(t), holder, None))
                last_event = t
            go = res is not None and rnd() < 0.8
        if go:  # protection
            sent = t + 7 + self.lognorm_days(14.0, 0.7)
            hrole = orgs.role(holder)
            if hrole in ("ngo", "social", "shelter") and rnd() < 0.45:
                res = (holder, sent) if sent <= T else None
                if res:
                    self.add_service(cid, None, PROTECTION_SERVICES[hrole][int(rnd() * 2)], holder, sent)
            else:
                role = "ngo" if rnd() < 0.55 else "social" if rnd() < 0.8 else "health"
                res = self.hand_over(cid, holder, role, region, sent, PROTECTION_SERVICES[role])
            if res is not None:
                holder, t = res
                stage = "protection"
                stages.append((cid, stage, d(t), holder, None))
                last_event = t
            go = res is not None and rnd() < (0.85 if foreign else 0.6)
        before_rr = None  # (latest activity, anything under way) before return and reintegration
        if go:  # return and reintegration
            before_rr = (max(last_event, self.c_last), self.c_busy)
            sent = t + 30 + self.lognorm_days(60.0, 0.6)
            if stay is not None and "exit" in stay:
                sent = max(sent, stay["exit"] - 10)
            if foreign and orgs.has("iom"):
                res = self.hand_over(cid, holder, "iom", region, sent, "assisted_voluntary_return",
                                     reason="migration_or_change_of_location")
            elif orgs.has("iom") and rnd() < 0.3:
                res = self.hand_over(cid, holder, "iom", region, sent, "reintegration")
            else:
                res = self.hand_over(cid, holder, "ngo" if rnd() < 0.6 else "social", region, sent,
                                     REINTEGRATION_SERVICES)
            if res is not None:
                holder, t = res
                stage = "return_reintegration"
                reached_return_by_iom = orgs.role(holder) == "iom"
                stages.append((cid, stage, d(t), holder, None))
                last_event = t

        # closure: a while after the last activity of the chain (its stage events, referrals,
        # services and shelter stays), never while a service, a stay or a referral is still
        # under way today; a few cases are forgotten for months first (the stuck ones)
        closed_on = None
        last, busy = max(last_event, self.c_last), self.c_busy
        referred_on = (stage == "return_reintegration" and self.last_ref_service is not None
                       and self.servs[self.last_ref_service][4] != "assisted_voluntary_return"
                       and rnd() < REFERRED_ON_P)
        if referred_on:  # closed once the programme has started; what ran before must be over
            last, busy = max(before_rr[0], t), before_rr[1]
        if not busy:
            lo, median = NOT_VICTIM_CLOSE_DAYS if status == "not_victim" else CLOSE_DAYS
            c = last + lo + self.lognorm_days(median, 0.7)
            if rnd() < STUCK_P:
                c += STUCK_DAYS[0] + min(self.lognorm_days(STUCK_DAYS[1], 0.8), STUCK_DAYS[2])
            if c <= T and region not in self.forgotten_regions and last < self.stale and T - 300 <= d0 <= T - 120:
                c = NEVER  # planted: every region's case review shows at least one forgotten case
            if c <= T:
                closed_on = c
                stages.append((cid, "closed", d(c), holder, None))
                last_event = c

        # justice track
        pj = 0.35 if status == "actual" else 0.12 if status == "possible" else 0.0
        if pj and rnd() < pj:
            last_event = max(last_event, self.justice(cid, d0, ident, holder, region))
        if closed_on is None and not busy and max(last_event, self.c_last) < self.stale:
            self.forgotten_regions.add(region)  # without movement today

        # the case row
        current = "closed" if closed_on is not None else stage
        if closed_on is not None:
            case_status = "closed_referred" if referred_on or (reached_return_by_iom and rnd() < 0.4) else "closed"
        else:
            case_status = "follow_up" if stage == "return_reintegration" else "active"
        if status == "possible" and rnd() < 0.5:
            decided_by = None
        else:
            decided_by = DECIDED_BY.get(orgs.role(ident), "other")
        upd = f"{d(min(last_event, T))} {8 + int(rnd() * 10):02d}:{int(rnd() * 60):02d}:00.000000"
        year = d(d0)[:4]
        self.cases.append((cid, f"{self.prefix}-{year}-{cid:06d}", region, sex, band,
                           None if minor is None else int(minor), nat, int(foreign), status, decided_by, d(d0),
                           ident, case_status, holder, current, "demo", upd))
        # candidates for the planted over-capacity episode: no stay, identified in the year
        # before the window, still open at the window (else, when too few are, closed by then)
        if cat is not None and stay is None and d0 < self.planted_lo and d0 >= self.planted_lo - 365:
            if closed_on is None or closed_on >= self.planted_hi:
                self.candidates[cat].append((cid, ident))
            else:
                self.reserve[cat].append((cid, ident))

    def shelter_referral(self, cid: int, frm: int, region: int, sent: int, stay: dict):
        """Refer to a shelter operator with beds of the category (in the region first);
        when it declines (full, or another reason), to one more. Returns
        (operator, entry date) or None; ``stay['exit']`` is set when a stay was written."""
        ops = self.shelter_ops[stay["cat"]]
        local = [o for o in ops if self.ledger.region_of[self.ledger.org_shelters[o][0]] == region]
        others = [o for o in ops if o not in local]
        order = []
        if local:
            order.append(local[int(self.rnd() * len(local))])
        rest = [o for o in local + others if o not in order]
        if rest:
            order.append(rest[int(self.rnd() * len(rest))])
        for to in order:
            if to == frm:
                continue
            res = self.refer(cid, frm, to, sent, "shelter", "additional_services", stay=stay)
            if res is None:
                return None
            outcome, decided, first = res
            self.last_decided = decided if decided is not None else NEVER
            if outcome == "accepted":
                return (to, first) if first is not None else None
            if outcome == "pending":
                return None
            sent = decided + (0 if self.rnd() < 0.6 else 1)
        stay["full"] = True
        return None

    def justice(self, cid: int, d0: int, ident: int, holder: int, region: int) -> int:
        """complaint → investigation → prosecution (referral to the prosecution, slow) →
        judgement; returns the date of the last event written."""
        rnd, T, orgs, d = self.rnd, self.T, self.orgs, self.d
        c = d0 + 1 + int(rnd() * 30)
        if c > T:
            return d0
        if orgs.role(ident) == "police":
            police = ident
        else:  # back to the police: the loop in the chain
            police = orgs.pick(self.rng, "police", region)
            res = self.refer(cid, holder if rnd() < 0.5 else ident, police, c, "legal", "other", one_off=True)
            if res is None or res[0] != "accepted":
                return d0
            c = res[1]
        self.stages.append((cid, "complaint", d(c), police, None))
        inv = c + 3 + int(rnd() * 38)
        if inv > T:
            return c
        self.stages.append((cid, "investigation", d(inv), police, None))
        if not orgs.has("prosecution") or rnd() < 0.25:
            return inv
        sent = inv + 10 + int(rnd() * 80)
        pros = orgs.pick(self.rng, "prosecution", region)
        res = self.refer(cid, police, pros, sent, "legal", "other")
        if res is None or res[0] != "accepted":
            return inv if res is None or res[1] is None else res[1]
        p, proceedings = res[1], self.last_ref_service
        self.stages.append((cid, "prosecution", d(p), pros, None))
        j = p + 60 + self.lognorm_days(150.0, 0.6)
        if proceedings is not None:  # the prosecution's service lasts until the judgement
            row = self.servs[proceedings]
            self.servs[proceedings] = (*row[:-1], None if j > T else d(j))
        if j > T:
            return p
        self.stages.append((cid, "judgement", d(j), pros, self.p_judgement(rnd)))
        return j

    def flush(self, conn: Connection) -> None:
        w = _Writer(conn)
        for table, cols, rows, key in (
            (schema.cases, CASE_COLS, self.cases, "cases"),
            (schema.case_exploitation, EXPL_COLS, self.expl, "case_exploitation"),
            (schema.case_control_methods, CTRL_COLS, self.ctrl, "case_control_methods"),
            (schema.stage_events, STAGE_COLS, self.stages, "stage_events"),
            (schema.referrals, REF_COLS, self.refs, "referrals"),
            (schema.services, SERV_COLS, self.servs, "services"),
            (schema.shelter_stays, STAY_COLS, self.stays, "shelter_stays"),
        ):
            w.write(table, cols, rows)
            self.counts[key] += len(rows)
        self.reset()


# ------------------------------------------------------------------ entry point
def generate(engine: Engine, profile, cases: int, seed: int = 1, today: date | None = None,
             progress: ProgressFn | None = None) -> dict:
    """Fill ``engine``'s database with the profile's reference data and ``cases`` demo
    cases over the five years ending ``today``. Returns row counts per table, plus
    ``planted_over_capacity`` (shelter code, first night, last night) or None, and
    ``slow_pairs`` [(from code, to code, median days)]."""
    from dashboard import reference

    today = today or date.today()
    report = progress or (lambda label, fraction: None)
    rng = random.Random(seed)
    T = today.toordinal()
    try:
        start = today.replace(year=today.year - YEARS)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - YEARS, day=28)
    S = start.toordinal()

    report("reference data", 0.0)
    with engine.begin() as conn:
        reference.load_reference(conn, profile)
    with engine.connect() as conn:
        org_rows = conn.execute(sa.select(schema.organisations).order_by(schema.organisations.c.id)).fetchall()
        region_rows = conn.execute(sa.select(schema.regions).order_by(schema.regions.c.id)).fetchall()
        shelter_rows = conn.execute(sa.select(schema.shelters).order_by(schema.shelters.c.id)).fetchall()
        cap_rows = conn.execute(sa.select(schema.shelter_capacity).order_by(
            schema.shelter_capacity.c.shelter_id, schema.shelter_capacity.c.valid_from)).fetchall()
        st, c = schema.shelter_stays, schema.cases
        existing_stays = conn.execute(  # stays already in the database (demo --force) take their beds
            sa.select(st.c.shelter_id, st.c.entered_on, st.c.exited_on, c.c.sex, c.c.is_minor)
            .join(c, c.c.id == st.c.case_id).order_by(st.c.id)).fetchall()
        ids = {name: (conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0) + 1
               for name, t in (("cases", schema.cases), ("referrals", schema.referrals),
                               ("services", schema.services))}
    if not region_rows or not org_rows:
        raise ValueError("the profile has no regions or no organisations")
    report("reference data", 0.02)

    # regions weighted by population; the "capital" (where national services sit, the
    # fallback for regions without an organisation of some role) = the region with the
    # most organisations
    pops = [r.population for r in region_rows if r.population]
    mean_pop = sum(pops) / len(pops) if pops else 1
    n_orgs = {r.id: 0 for r in region_rows}
    for o in org_rows:
        if o.region_id in n_orgs:
            n_orgs[o.region_id] += 1
    capital = max(region_rows, key=lambda r: (n_orgs[r.id], r.population or 0)).id
    region_pick = _Picker([(r.id, (r.population or mean_pop) * (CAPITAL_WEIGHT if r.id == capital else 1))
                           for r in region_rows])

    base = S - 400
    ledger = _Ledger(base, T)
    caps: dict[int, list] = {}
    for c in cap_rows:
        caps.setdefault(c.shelter_id, []).append(c)
    for s in shelter_rows:
        ledger.add_shelter(s.id, s.code, s.organisation_id, s.region_id, caps.get(s.id, []))
    for x in existing_stays:
        cat = _bed_category(x.sex, x.is_minor)
        if cat is not None and (x.shelter_id, cat) in ledger.occ:
            ledger.take(x.shelter_id, cat, x.entered_on.toordinal(), (x.exited_on or today).toordinal())
    orgs = _Orgs(org_rows, set(ledger.org_shelters), capital)

    review = getattr(profile, "review", None)
    long_stay = int(getattr(review, "long_stay_days", 90) or 90)
    no_movement = int(getattr(review, "no_movement_days", 60) or 60)
    iso2 = (getattr(profile, "country_iso2", None) or "XX").upper()

    # identification dates: seasonality, weekly rhythm, trend
    days = list(range(S + 1, T + 1))
    D = len(days)
    weights = []
    for i, o in enumerate(days):
        dt = date.fromordinal(o)
        weights.append(SEASON[dt.month - 1] * (1 + TREND * i / D) * (WEEKEND if dt.weekday() >= 5 else 1.0))
    dates = sorted(rng.choices(days, cum_weights=list(itertools.accumulate(weights)), k=cases)) if cases else []

    # Shelter referrals: a share of the cases of each bed category, scaled so that the
    # profile's beds end up ~90 % used (at 250,000 cases a real country would have many
    # more shelters; the demo keeps the profile's and refers fewer cases to them).
    probe = random.Random(seed + 7919)
    mean_stay = sum(_stay_length(probe, long_stay) for _ in range(4000)) / 4000
    sex_share = dict(SEX_WEIGHTS)
    total_sex = sum(sex_share.values())
    minor_share = 0.30
    shares = {"women": sex_share["female"] / total_sex * (1 - minor_share),
              "girls": sex_share["female"] / total_sex * minor_share,
              "men": sex_share["male"] / total_sex * (1 - minor_share),
              "boys": sex_share["male"] / total_sex * minor_share}
    shelter_p = {}
    for cat, share in shares.items():
        per_day = max(cases, 1) * share / max(D, 1) * 0.85  # ~85 % reach immediate assistance
        beds = ledger.mean_beds(cat, S)
        shelter_p[cat] = min(0.45 if cat in ("women", "girls") else 0.3, 0.9 * beds / max(per_day * mean_stay, 1e-9))

    # the planted over-capacity window (the shelter and category are chosen at the end)
    n0 = T - 80 - rng.randrange(20)
    planted_window = (n0, n0 + 3 + rng.randrange(3))

    gen = _Cases(rng, seed, iso2, iso2, orgs, ledger, T, long_stay, ids, shelter_p, planted_window)
    gen.stale = T - no_movement - 30  # a case whose last activity is older is "without movement" today
    police = orgs.by_role_region.get(("police", capital)) or orgs.by_role.get("police") or []
    shelter_orgs = sorted(ledger.org_shelters, key=lambda o: (orgs.region_of.get(o) != capital, o))
    if police and shelter_orgs:
        gen.slow_shelter_pair = (police[0], shelter_orgs[0])

    weight_cases = 0.9
    for lo in range(0, cases, CHUNK_CASES):
        for i, d0 in enumerate(dates[lo:lo + CHUNK_CASES]):
            if i and i % 2500 == 0:  # generating is ~60 % of a chunk's time, writing the rest
                report(f"cases {lo + i:,}/{cases:,}", 0.02 + weight_cases * (lo + 0.6 * i) / cases)
            gen.case(d0, region_pick(rng.random))
        report(f"writing cases {lo + 1:,}-{min(lo + CHUNK_CASES, cases):,}",
               0.02 + weight_cases * (lo + 0.6 * min(CHUNK_CASES, cases - lo)) / cases)
        with engine.begin() as conn:
            gen.flush(conn)
        done = min(lo + CHUNK_CASES, cases)
        report(f"cases {done:,}/{cases:,}", 0.02 + weight_cases * done / max(cases, 1))

    planted = _plant_over_capacity(gen, ledger, orgs, planted_window)
    with engine.begin() as conn:
        gen.flush(conn)
        if conn.dialect.name == "postgresql":
            for t in ("cases", "referrals", "services"):
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), "
                                     f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {t}), false)")
            for t in ("cases", "case_exploitation", "case_control_methods", "stage_events", "referrals", "services",
                      "shelter_stays"):
                conn.exec_driver_sql(f"ANALYZE {t}")

    report("action plan", 0.93)
    prng = random.Random(seed * 1_000_003 + 1)
    with engine.begin() as conn:
        n_hist = _plan(conn, prng, today)
        report("indicators", 0.96)
        n_values = _indicators(conn, prng, today)
        _meta(conn, profile, seed, cases, today)
    if engine.dialect.name == "sqlite":  # fold the write-ahead log back into the file
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    counts = dict(gen.counts)
    counts["activity_status_history"] = n_hist
    counts["indicator_values"] = n_values
    counts["planted_over_capacity"] = planted
    counts["slow_pairs"] = sorted(
        {(orgs.code_of[a], orgs.code_of[b], round(m, 1)) for (a, b), m in gen._pair_median.items() if m >= 10})
    report("done", 1.0)
    return counts


def _plant_over_capacity(gen: _Cases, ledger: _Ledger, orgs: _Orgs, window: tuple[int, int]):
    """Emergency placements pushing one shelter's bed category over capacity on every
    night of ``window`` (and on no other night): each with a same-day referral from the
    identifying organisation, a shelter service, and an exit to another shelter when
    the window ends. The cases are the latest still open at the window; when there are too
    few (small demos: most cases are closed a few weeks after their last activity), the
    latest closed before it. Returns (shelter code, first night, last night) or None."""
    lo, hi = window
    options = []
    for (sid, cat), beds in ledger.beds.items():
        occ = ledger.occ[(sid, cat)]
        nights = range(lo - ledger.base, hi - ledger.base)
        if any(beds[i] <= 0 for i in nights):
            continue
        needed = max(beds[i] - occ[i] for i in nights) + 1
        if len(gen.candidates[cat]) + len(gen.reserve[cat]) >= needed:
            options.append((needed, sid, cat))
    if not options:
        return None
    needed, sid, cat = min(options)
    org = next(o for o, sids in ledger.org_shelters.items() if sid in sids)
    cands = (list(gen.reserve[cat]) + list(gen.candidates[cat]))[-needed:]  # open cases first
    d = gen.d
    for cid, ident in cands:
        rid = gen.next_ref
        gen.next_ref += 1
        gen.refs.append((rid, f"{gen.prefix}-R-{rid:07d}", cid, ident, org, "additional_services", "shelter",
                         d(lo), d(lo), d(lo), "accepted", None, d(lo), 0, 0, 0))
        gen.stays.append((cid, sid, d(lo), d(hi), "other_shelter"))
        gen.add_service(cid, rid, "shelter", org, lo, hi)
        ledger.take(sid, cat, lo, hi)
    return ledger.code_of[sid], date.fromordinal(lo), date.fromordinal(hi - 1)


# ------------------------------------------------------------------ plan and indicators
def _dt(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, 8 + rng.randrange(10), rng.randrange(60))


def _money(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


def _plan(conn: Connection, rng: random.Random, today: date) -> int:
    """Statuses, spending and a dated status history for every plan activity."""
    a = schema.plan_activities
    rows = conn.execute(sa.select(a.c.id, a.c.code, a.c.planned_start, a.c.planned_end, a.c.budget_planned)
                        .order_by(a.c.id)).fetchall()
    if not rows:
        return 0
    status = {}
    for r in rows:
        if r.planned_start > today:
            s = "not_started"
        elif r.planned_end < today:
            x = rng.random()
            s = "completed" if x < 0.65 else "delayed" if x < 0.85 else "in_progress"  # the last two: past due
        else:
            x = rng.random()
            s = "in_progress" if x < 0.68 else "delayed" if x < 0.83 else "not_started" if x < 0.93 else "completed"
        status[r.id] = s
    # every status at least once; exactly one cancelled activity
    started = [r for r in rows if r.planned_start <= today]
    if started:
        victim = started[rng.randrange(len(started))]
        status[victim.id] = "cancelled"
    for s in ACTIVITY_STATUSES:
        if s not in status.values():
            pool = [r for r in rows if status[r.id] not in ("cancelled",)
                    and list(status.values()).count(status[r.id]) > 1]
            if s == "not_started":
                pool = [r for r in pool if r.planned_start > today] or pool
            elif s != "in_progress":
                pool = [r for r in pool if r.planned_start <= today] or pool
            if pool:
                status[pool[rng.randrange(len(pool))].id] = s

    history = []
    for r in rows:
        s = status[r.id]
        budget = float(r.budget_planned or 0)
        start, end = r.planned_start, r.planned_end
        span = max((end - start).days, 1)
        elapsed = min(max((today - start).days / span, 0.0), 1.0)
        if s == "completed":
            spent = budget * (0.8 + 0.25 * rng.random())
        elif s == "in_progress":
            spent = budget * elapsed * (0.6 + 0.5 * rng.random())
        elif s == "delayed":
            spent = budget * elapsed * (0.15 + 0.35 * rng.random())
        elif s == "cancelled":
            spent = budget * 0.15 * rng.random()
        else:
            spent = 0.0
        spent = min(spent, budget * 1.05)
        created = min(start - timedelta(days=30 + rng.randrange(30)), today)
        steps = [("not_started", created, 0.0)]
        begun = min(start + timedelta(days=rng.randrange(25)), today)
        if s in ("in_progress", "delayed", "completed") or (s == "cancelled" and rng.random() < 0.5):
            if s != "delayed" or rng.random() < 0.7:
                steps.append(("in_progress", max(begun, created), spent * 0.3))
        if s == "delayed":
            when = end + timedelta(days=3 + rng.randrange(20)) if end < today else start + timedelta(days=span // 2)
            steps.append(("delayed", min(when, today), spent))
        elif s == "completed":
            when = min(end + timedelta(days=rng.randrange(-20, 25)), today)
            steps.append(("completed", max(when, steps[-1][1]), spent))
        elif s == "cancelled":
            steps.append(("cancelled", min(start + timedelta(days=30 + rng.randrange(120)), today), spent))
        elif s == "in_progress":
            steps[-1] = ("in_progress", steps[-1][1], spent)
        last = created
        for st, when, money in steps:
            when = max(when, last)
            last = when
            en, fr = EVIDENCE[st][rng.randrange(len(EVIDENCE[st]))]
            note = fr if rng.random() < 0.5 else en
            history.append({"activity_id": r.id, "status": st, "changed_on": when, "evidence_note": note,
                            "budget_spent": _money(money), "recorded_by": "demo", "recorded_at": _dt(when, rng)})
        conn.execute(a.update().where(a.c.id == r.id).values(status=s, budget_spent=_money(spent)))
    conn.execute(schema.activity_status_history.insert(), history)
    return len(history)


def _quarters(first: date, last: date):
    """Calendar quarters (start, end inclusive) after ``first`` whose end is before ``last``."""
    y, q = first.year, (first.month - 1) // 3 + 1
    while True:
        q += 1
        if q == 5:
            y, q = y + 1, 1
        qs = date(y, 3 * q - 2, 1)
        qe = (date(y + (q == 4), 1 if q == 4 else 3 * q + 1, 1)) - timedelta(days=1)
        if qe >= last:
            return
        yield qs, qe


def _indicators(conn: Connection, rng: random.Random, today: date) -> int:
    """Quarterly values of the manual indicators, from baseline toward target."""
    i = schema.indicators
    rows = conn.execute(sa.select(i).where(i.c.source == "manual").order_by(i.c.id)).fetchall()
    values = []
    corrected = False
    for k, r in enumerate(rows):
        pace = 0.5 + 0.2 * rng.random() if k % 3 == 1 else 0.85 + 0.3 * rng.random()  # every third behind
        span = max((r.target_on - r.baseline_on).days, 1)
        quarters = list(_quarters(r.baseline_on, min(today, r.target_on + timedelta(days=1))))
        fshare = 0.55 + 0.25 * rng.random()
        for n, (qs, qe) in enumerate(quarters):
            frac = min(1.0, max(0.0, (qe - r.baseline_on).days / span) * pace)
            v = r.baseline + (r.target - r.baseline) * frac
            v += (r.target - r.baseline) * 0.03 * (rng.random() - 0.5)
            if r.unit == "yes_no":
                v = 1.0 if frac >= 0.6 else 0.0
            elif r.unit == "number":
                v = float(max(0, round(v)))
            elif r.unit == "percent":
                v = round(min(100.0, max(0.0, v)), 1)
            else:
                v = round(max(0.0, v), 1)
            rec = min(qe + timedelta(days=5 + rng.randrange(20)), today)
            at = _dt(rec, rng)
            by_sex = [("all", v)]
            if r.disaggregation == "sex" and r.unit != "yes_no":
                if r.unit == "number":
                    f = float(round(v * fshare))
                    by_sex += [("female", f), ("male", v - f)]
                else:
                    by_sex += [("female", round(v + 4 * (rng.random() - 0.5), 1)),
                               ("male", round(v + 4 * (rng.random() - 0.5), 1))]
            for sex, val in by_sex:
                values.append({"indicator_id": r.id, "period_start": qs, "period_end": qe, "sex": sex,
                               "value": val, "note": None, "recorded_by": "demo", "recorded_at": at})
            # one correction: same period, a later recorded_at, the value revised
            if not corrected and r.unit != "yes_no" and n == len(quarters) - 2 and (qe + timedelta(days=75)) < today:
                corrected = True
                later = at + timedelta(days=30 + rng.randrange(20))
                for sex, val in by_sex:
                    new = val * 0.9 if r.unit != "number" else float(round(val * 0.9))
                    values.append({"indicator_id": r.id, "period_start": qs, "period_end": qe, "sex": sex,
                                   "value": round(new, 1), "recorded_by": "demo", "recorded_at": later,
                                   "note": "Correction: double-counted participants removed / "
                                           "Correction : participants comptés deux fois retirés"})
    if values:
        conn.execute(schema.indicator_values.insert(), values)
    return len(values)


def _meta(conn: Connection, profile, seed: int, cases: int, today: date) -> None:
    m = schema.meta
    items = {"demo": "true", "generated_at": today.isoformat(), "seed": str(seed), "demo_cases": str(cases)}
    existing = set(conn.execute(sa.select(m.c.key)).scalars())
    if "country" not in existing and getattr(profile, "code", None):
        items["country"] = profile.code
    for key, value in items.items():
        if key in existing:
            conn.execute(m.update().where(m.c.key == key).values(value=value))
        else:
            conn.execute(m.insert().values(key=key, value=value))
