"""The committee's case review: the meeting agenda and the timeline of one case.

Case level throughout (committee members and administrators only): every function here
is decorated with :func:`dashboard.privacy.case_level` and takes ``(conn, filters, viewer,
...)``. Cases are named by their pseudonymous code; nothing here reads or returns personal
data (there is none in the schema).

**Agenda** — the cases needing attention *today* (``filters.today``), each for one or more
reasons, with how many days it is past the threshold (the profile's ``review`` thresholds,
passed in by the caller as ``thresholds``: an object with ``no_assistance_days``,
``long_stay_days`` and ``no_movement_days``, e.g. ``profiles.ReviewThresholds``):

* ``overdue_referral`` — a referral of the case with no decision and today − sent date >
  the target of the receiving organisation (``queries.targets.pending_select``); days past
  = age − target; the organisation that holds it is the **receiving** one.
* ``no_assistance`` — an open case (active or follow-up) identified more than N days ago
  (N = ``no_assistance_days``) with no service started and no ``immediate_assistance``
  stage event by today; days past = today − identification date − N.
* ``long_stay`` — a shelter stay still open today that began more than N days ago
  (N = ``long_stay_days``); days past = today − entry date − N.
* ``no_movement`` — an open case with no stage event, referral (sent, acknowledged,
  decided, first service), service (start, end) or shelter stay (entry, exit) — nor its
  identification — in the last N days (N = ``no_movement_days``); days past = today −
  last movement − N.

"More than N days": a case exactly N days in is not listed; N + 1 days in is listed with
1 day past. The period filter does not restrict these "stuck now" reasons; region (and the
viewer's scope), sex, age group and exploitation type do (``Filters.case_clauses``).
Urgency order: days past (the largest over the case's reasons), then the number of
reasons, then the case code (code-point order, the same on both dialects).

The reasons are one SQL statement (a UNION ALL, one row per case, reason and item; "no
movement" looks up the last movement only of the open cases with nothing recent, see
:func:`_no_movement_select`); the agenda and its counts gather those rows per case in
Python, and read the facts shown (region, holder, ...) for the rows returned only.
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard import privacy, schema
from dashboard.db import date_param, days_diff, frame, greatest
from dashboard.domain import JUSTICE_STEPS, N_, STAGES
from dashboard.filters import Filters
from dashboard.queries.targets import pending_select

c, o, rg = schema.cases, schema.organisations, schema.regions
se, r, sv, ss, sh = (schema.stage_events, schema.referrals, schema.services, schema.shelter_stays,
                     schema.shelters)

REASONS = ("overdue_referral", "no_assistance", "long_stay", "no_movement")
REASON_LABELS = {
    "overdue_referral": N_("Overdue referral"),
    "no_assistance": N_("No assistance yet"),
    "long_stay": N_("Long shelter stay"),
    "no_movement": N_("No movement"),
}
OPEN_STATUSES = ("active", "follow_up")
AGENDA_LIMIT = 300

# Timeline rows: what kind of item, in the order the tracks are drawn.
TIMELINE_KINDS = ("stage", "justice", "referral", "service", "stay")
TIMELINE_KIND_LABELS = {
    "stage": N_("Referral chain"),
    "justice": N_("Justice"),
    "referral": N_("Referrals"),
    "service": N_("Services"),
    "stay": N_("Shelter stays"),
}

AGENDA_COLUMNS = [
    "case_code", "region", "region_name", "sex", "age_band", "case_status", "current_stage",
    "holder", "holder_name", "days_past", "reasons",
    "overdue_referral_days", "overdue_referrals", "waiting_on", "waiting_on_name", "referral_sent_on",
    "no_assistance_days", "identified_on",
    "long_stay_days", "stay_entered_on",
    "no_movement_days", "last_movement_on", "listed",
]


def _reason(name: str):
    return sa.literal_column(f"'{name}'", sa.String).label("reason")


# The dated facts of a case, per table: (table, first date, later dates), in the order the
# agenda looks them up (the tables where a recent fact is likeliest first). A row counts
# from its first date on; its later dates only once they are on or before today.
def _movement_tables():
    return (
        (sv, sv.c.started_on, (sv.c.ended_on,)),
        (se, se.c.occurred_on, ()),
        (r, r.c.sent_on, (r.c.acknowledged_on, r.c.decided_on, r.c.first_service_on)),
        (ss, ss.c.entered_on, (ss.c.exited_on,)),
    )


def _exists(*where):
    """EXISTS (SELECT 1 ...): SQLite then reads a covering index alone (with SELECT * it
    also reads the table's rows)."""
    return sa.select(sa.literal_column("1")).where(*where).exists()


def _latest(f: Filters, dialect: str, table, first, others, case_id):
    """Scalar SQL, correlated with ``case_id``: the latest dated fact of the case in
    ``table`` up to today (NULL when there is none). One indexed look-up (each table is
    indexed on case_id first; stage events and services with their dates: index only)."""
    def upto(col):
        return sa.case((col <= f.today, col))

    return (
        sa.select(sa.func.max(greatest(dialect, first, *(upto(x) for x in others))))
        .where(table.c.case_id == case_id, first <= f.today)
        .scalar_subquery()
    )


def _open_served(f: Filters, dialect: str, before: date):
    """Materialised: the open cases identified before ``before`` (and matching the
    filters): case_id, code, org_id (the holder), identified_on and last_0, the latest
    fact of their services up to today (NULL: no service started by today). What "no
    assistance" and "no movement" both start from: one look-up in the services per case."""
    table, first, others = _movement_tables()[0]
    return (
        sa.select(c.c.id.label("case_id"), c.c.code, c.c.owner_org_id.label("org_id"), c.c.identified_on,
                  _latest(f, dialect, table, first, others, c.c.id).label("last_0"))
        .where(c.c.case_status.in_(OPEN_STATUSES), c.c.identified_on < before, *f.case_clauses())
        .cte("open_served")
        .prefix_with("MATERIALIZED")
    )


def _no_movement_select(f: Filters, dialect: str, n: int, served) -> sa.Select:
    """The open cases with nothing dated in the last ``n`` days, nor their identification:
    case_id, code, org_id, last_on (the last movement). ``served``: :func:`_open_served`
    (identified before today − ``n`` at least).

    A chain of materialised steps, one per table of :func:`_movement_tables` (the services
    are ``served``'s): each step looks up the latest fact in its table of the cases still
    without a recent fact, and keeps those whose latest is older than today − ``n`` too;
    most cases drop out at the first tables, so the later look-ups are made for few
    cases, and each case's dates are read once (the latest found are its last movement)."""
    since = f.today - timedelta(days=n)  # a fact on or after this day is a movement
    latest = ["last_0"]
    step = sa.select(*served.c).where(served.c.identified_on < since)
    for i, (table, first, others) in enumerate(_movement_tables()[1:], start=1):
        prev = step.cte(f"moved_{i}").prefix_with("MATERIALIZED") if i > 1 else step.subquery("moved_1")
        keep = [sa.or_(prev.c[latest[-1]].is_(None), prev.c[latest[-1]] < since)]
        latest.append(f"last_{i}")
        step = sa.select(*prev.c, _latest(f, dialect, table, first, others, prev.c.case_id).label(latest[-1])) \
            .where(*keep)
    last = step.cte("moved_last").prefix_with("MATERIALIZED")
    last_on = greatest(dialect, last.c.identified_on, *(last.c[x] for x in latest))
    return sa.select(last.c.case_id, last.c.code, last.c.org_id, last_on.label("last_on")).where(
        sa.or_(last.c[latest[-1]].is_(None), last.c[latest[-1]] < since))


def _since(col):
    """The date a reason counts from, as the driver returns it (SQLite: ISO text, not parsed
    into a date for each of the thousands of rows; only the rows shown are, by _as_date)."""
    return sa.type_coerce(col, sa.String).label("since")


def _reasons_select(f: Filters, dialect: str, thresholds) -> sa.CompoundSelect:
    """UNION ALL of one row per (case, reason, item): case_id, reason, org_id, since,
    days_past, ref (the referral id for overdue referrals, else NULL), code (the case's).

    Every condition "more than N days" is written as a date comparison (date < today − N),
    so that the indexes on the dates serve; "no movement" is :func:`_no_movement_select`."""
    today = date_param(f.today)
    null_ref = sa.cast(sa.null(), sa.Integer).label("ref")

    pend = pending_select(f, dialect, overdue_only=True).subquery("overdue")
    overdue = sa.select(
        pend.c.case_id, _reason("overdue_referral"), pend.c.to_org_id.label("org_id"), _since(pend.c.sent_on),
        pend.c.days_over.label("days_past"), pend.c.referral_id.label("ref"), c.c.code,
    ).select_from(pend.join(c, c.c.id == pend.c.case_id))

    n_assist, n_move = int(thresholds.no_assistance_days), int(thresholds.no_movement_days)
    served = _open_served(f, dialect, f.today - timedelta(days=min(n_assist, n_move)))

    n = n_assist
    age = days_diff(served.c.identified_on, today, dialect)
    no_assistance = (
        sa.select(
            served.c.case_id, _reason("no_assistance"), served.c.org_id, _since(served.c.identified_on),
            (age - n).label("days_past"), null_ref, served.c.code,
        )
        .where(served.c.identified_on < f.today - timedelta(days=n), served.c.last_0.is_(None),  # no service
               ~_exists(se.c.case_id == served.c.case_id, se.c.stage == "immediate_assistance",
                        se.c.occurred_on <= f.today))
    )

    n = int(thresholds.long_stay_days)
    age = days_diff(ss.c.entered_on, today, dialect)
    long_stay = (
        sa.select(
            ss.c.case_id, _reason("long_stay"), c.c.owner_org_id.label("org_id"), _since(ss.c.entered_on),
            (age - n).label("days_past"), null_ref, c.c.code,
        )
        .select_from(ss.join(c, c.c.id == ss.c.case_id))
        .where(ss.c.entered_on < f.today - timedelta(days=n),
               sa.or_(ss.c.exited_on.is_(None), ss.c.exited_on > f.today), *f.case_clauses())
    )

    n = n_move
    moved = _no_movement_select(f, dialect, n, served).subquery("no_movement")
    no_movement = sa.select(
        moved.c.case_id, _reason("no_movement"), moved.c.org_id, _since(moved.c.last_on),
        (days_diff(moved.c.last_on, today, dialect) - n).label("days_past"), null_ref, moved.c.code,
    )
    return sa.union_all(overdue, no_assistance, long_stay, no_movement)


_PER_REASON = {  # reason: (its days past column, its date column) in the agenda
    "overdue_referral": ("overdue_referral_days", "referral_sent_on"),
    "no_assistance": ("no_assistance_days", "identified_on"),
    "long_stay": ("long_stay_days", "stay_entered_on"),
    "no_movement": ("no_movement_days", "last_movement_on"),
}


def _per_case(rows) -> list[dict]:
    """The rows of :func:`_reasons_select` (one per case, reason and item: a few thousand
    at most on a real caseload) gathered per case, in urgency order: dicts with case_id,
    code, days_past (the largest), reasons (the set of them) and, per reason, its days past
    and date (``_PER_REASON``); for overdue referrals, of the most overdue one (most days
    over, then the oldest, then the first recorded), with how many (overdue_referrals) and
    its receiving organisation (waiting_org_id). Plain Python: cheaper than grouping and
    ranking them again in SQL, or in pandas, at this size."""
    cases: dict = {}
    for case_id, reason, org_id, since, days, ref, code in rows:
        case = cases.get(case_id)
        if case is None:
            case = cases[case_id] = {"case_id": case_id, "code": code, "days_past": days, "reasons": set(),
                                     "overdue_referrals": 0, "waiting_org_id": None, "_worst": None}
        case["reasons"].add(reason)
        if days > case["days_past"]:
            case["days_past"] = days
        days_col, since_col = _PER_REASON[reason]
        if reason == "overdue_referral":
            case["overdue_referrals"] += 1
            key = (-days, since, ref)
            if case["_worst"] is None or key < case["_worst"]:
                case["_worst"] = key
                case[days_col], case[since_col], case["waiting_org_id"] = days, since, org_id
        elif days_col not in case or days > case[days_col]:  # several stays: the longest
            case[days_col], case[since_col] = days, since
    return sorted(cases.values(), key=lambda x: (-x["days_past"], -len(x["reasons"]), x["code"]))


def _chunks(ids: list, size: int = 5000):
    """``ids`` in chunks, for ``IN (...)`` lists (bound parameters are limited)."""
    return [ids[i:i + size] for i in range(0, len(ids), size)]


@privacy.case_level
def agenda(conn, f: Filters, viewer, thresholds, limit: int | None = AGENDA_LIMIT,
           only: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The meeting agenda, most urgent first: one row per case needing attention (with
    ``only``, the cases with at least one of those reasons, all their reasons shown).

    Columns: case_code, region (code), region_name, sex, age_band, case_status,
    current_stage, holder / holder_name (the organisation holding the case,
    ``cases.owner_org_id``), days_past (the largest over its reasons), reasons (how many);
    per reason, NULL when it does not apply —
    overdue_referral_days (of its most overdue referral), overdue_referrals (how many),
    waiting_on / waiting_on_name (the receiving organisation of the most overdue one),
    referral_sent_on; no_assistance_days, identified_on; long_stay_days, stay_entered_on;
    no_movement_days, last_movement_on; listed (how many cases the whole agenda holds, the
    same on every row). At most ``limit`` rows (None: all)."""
    if only is not None:
        unknown = set(only) - set(REASONS)
        if unknown:
            raise ValueError(f"unknown agenda reasons {sorted(unknown)}")
    per = _per_case(conn.execute(_reasons_select(f, conn.dialect.name, thresholds)).fetchall())
    if only is not None:
        per = [x for x in per if x["reasons"] & set(only)]
    listed = len(per)
    if limit is not None:
        per = per[:limit]
    if not per:
        return pd.DataFrame(columns=AGENDA_COLUMNS)
    # the facts of the cases shown, and the organisations their overdue referrals wait on
    holder = o.alias("holder")
    facts = {}
    for ids in _chunks([x["case_id"] for x in per]):
        facts.update((row[0], row[1:]) for row in conn.execute(
            sa.select(c.c.id, rg.c.code, rg.c.name, c.c.sex, c.c.age_band, c.c.case_status, c.c.current_stage,
                      holder.c.code, holder.c.name)
            .select_from(c.join(rg, rg.c.id == c.c.region_id).outerjoin(holder, holder.c.id == c.c.owner_org_id))
            .where(c.c.id.in_(ids))
        ))
    waiting = sorted({x["waiting_org_id"] for x in per if x["waiting_org_id"] is not None})
    orgs = {}
    for ids in _chunks(waiting):
        orgs.update((row[0], row[1:]) for row in conn.execute(sa.select(o.c.id, o.c.code, o.c.name)
                                                              .where(o.c.id.in_(ids))))
    fact_cols = ["region", "region_name", "sex", "age_band", "case_status", "current_stage", "holder", "holder_name"]
    out = {col: [] for col in AGENDA_COLUMNS}
    for x in per:
        out["case_code"].append(x["code"])
        for col, value in zip(fact_cols, facts[x["case_id"]]):
            out[col].append(value)
        out["days_past"].append(x["days_past"])
        out["reasons"].append(len(x["reasons"]))
        out["overdue_referrals"].append(x["overdue_referrals"])
        waiting_on = orgs.get(x["waiting_org_id"], (None, None))
        out["waiting_on"].append(waiting_on[0])
        out["waiting_on_name"].append(waiting_on[1])
        for days_col, since_col in _PER_REASON.values():
            out[days_col].append(x.get(days_col))
            out[since_col].append(_as_date(x.get(since_col)))
        out["listed"].append(listed)
    df = pd.DataFrame(out, columns=AGENDA_COLUMNS)
    for col in ("days_past", "reasons", "overdue_referrals", "listed"):
        df[col] = df[col].astype(int)
    for days_col, since_col in _PER_REASON.values():
        df[days_col] = pd.array(out[days_col], dtype="Int64")
        df[since_col] = pd.Series(out[since_col], dtype=object)
    for col in ("holder", "holder_name", "waiting_on", "waiting_on_name"):
        df[col] = pd.Series(out[col], dtype=object)
    return df


@privacy.case_level
def agenda_counts(conn, f: Filters, viewer, thresholds) -> dict[str, int]:
    """How many cases the agenda holds in all (``"all"``) and for each reason of
    ``REASONS`` (a case with two reasons counts once in "all", once in each reason)."""
    rows = _reasons_select(f, conn.dialect.name, thresholds).subquery("reasons")
    cases: dict[str, set] = {reason: set() for reason in REASONS}
    for case_id, reason in conn.execute(sa.select(rows.c.case_id, rows.c.reason)).fetchall():
        cases[reason].add(case_id)
    return {"all": len(set().union(*cases.values())), **{reason: len(ids) for reason, ids in cases.items()}}


# ---------------------------------------------------------------- one case
def _case_id(f: Filters, code: str):
    """The id of the case with this code, if the filters (region scope included) cover it."""
    return sa.select(c.c.id).where(c.c.code == code, *f.case_clauses()).scalar_subquery()


@privacy.case_level
def case_header(conn, f: Filters, viewer, code: str) -> pd.DataFrame:
    """One row for the case ``code`` (none when it is outside the filters or the viewer's
    regions): case_code, sex, age_band, nationality, region, region_name, case_status,
    current_stage, trafficking_status, holder, holder_name. No personal data."""
    holder = o.alias("holder")
    stmt = (
        sa.select(
            c.c.code.label("case_code"), c.c.sex, c.c.age_band, c.c.nationality, rg.c.code.label("region"),
            rg.c.name.label("region_name"), c.c.case_status, c.c.current_stage, c.c.trafficking_status,
            holder.c.code.label("holder"), holder.c.name.label("holder_name"),
        )
        .select_from(c.join(rg, rg.c.id == c.c.region_id).outerjoin(holder, holder.c.id == c.c.owner_org_id))
        .where(c.c.id == _case_id(f, code))
    )
    return frame(conn, stmt)


@privacy.case_level
def case_timeline(conn, f: Filters, viewer, code: str) -> pd.DataFrame:
    """Everything dated about the case ``code``, in date order (empty when the case is
    outside the filters or the viewer's regions). One row per item:

    kind (``TIMELINE_KINDS``: stage, justice, referral, service, stay), item (stage code,
    service type, or shelter code), start_on, end_on (decision date of a referral, end of
    a service, exit of a stay; NULL while open; NULL for stage events), acknowledged_on
    (referrals), org (name: where a stage event happened, the sender of a referral, the
    provider of a service, the shelter of a stay), to_org (the receiver of a referral),
    outcome (judgement outcome, referral outcome), detail (decline reason, exit destination)."""
    cid = _case_id(f, code)
    nd = sa.cast(sa.null(), sa.Date)
    ns = sa.cast(sa.null(), sa.String)
    sender, receiver, provider, stage_org = o.alias("sender"), o.alias("receiver"), o.alias("provider"), o.alias("at")

    def cols(kind, order, item, start, end, ack, org, to_org, outcome, detail):
        if isinstance(order, int):
            order = sa.literal_column(str(order), sa.Integer)
        return (kind.label("kind"), order.label("kind_order"), item.label("item"),
                start.label("start_on"), end.label("end_on"), ack.label("acknowledged_on"), org.label("org"),
                to_org.label("to_org"), outcome.label("outcome"), detail.label("detail"))

    justice = se.c.stage.in_(JUSTICE_STEPS)
    # same day: the referral chain in its order, then the justice track, referrals, services, stays
    step = sa.case(*((se.c.stage == s, i) for i, s in enumerate((*STAGES, *JUSTICE_STEPS))), else_=19)
    stages = (
        sa.select(*cols(sa.case((justice, "justice"), else_="stage"), step, se.c.stage,
                        se.c.occurred_on, nd, nd, stage_org.c.name, ns, se.c.outcome, ns))
        .select_from(se.outerjoin(stage_org, stage_org.c.id == se.c.organisation_id))
        .where(se.c.case_id == cid)
    )
    referrals = (
        sa.select(*cols(sa.literal_column("'referral'", sa.String), 20, r.c.service_type, r.c.sent_on, r.c.decided_on,
                        r.c.acknowledged_on, sender.c.name, receiver.c.name, r.c.outcome, r.c.decline_reason))
        .select_from(r.join(sender, sender.c.id == r.c.from_org_id).join(receiver, receiver.c.id == r.c.to_org_id))
        .where(r.c.case_id == cid)
    )
    services = (
        sa.select(*cols(sa.literal_column("'service'", sa.String), 30, sv.c.service_type, sv.c.started_on, sv.c.ended_on,
                        nd, provider.c.name, ns, ns, ns))
        .select_from(sv.join(provider, provider.c.id == sv.c.provider_org_id))
        .where(sv.c.case_id == cid)
    )
    stays = (
        sa.select(*cols(sa.literal_column("'stay'", sa.String), 40, sh.c.code, ss.c.entered_on, ss.c.exited_on, nd,
                        sh.c.name, ns, ns, ss.c.exit_destination))
        .select_from(ss.join(sh, sh.c.id == ss.c.shelter_id))
        .where(ss.c.case_id == cid)
    )
    union = sa.union_all(stages, referrals, services, stays).subquery("timeline")
    stmt = sa.select(*(col for col in union.c if col.name != "kind_order")).order_by(
        union.c.start_on, union.c.kind_order, union.c.item
    )
    df = frame(conn, stmt)
    for col in ("start_on", "end_on", "acknowledged_on"):
        df[col] = df[col].map(_as_date) if not df.empty else df[col]
    return df


def _as_date(value):
    """A date from what the driver returns (date, datetime, ISO text or NULL)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return None
    if hasattr(value, "date") and callable(value.date):
        return value.date()
    if isinstance(value, str):
        from datetime import date

        return date.fromisoformat(value[:10])
    return value


# ---------------------------------------------------------------- in words (screens, print, CSV)
WHY_TEXTS = {
    "overdue_one": N_("Referral to {org} overdue: {days} d past target"),
    "overdue_many": N_("{n} referrals overdue, the most overdue to {org}: {days} d past target"),
    "no_assistance": N_("No assistance since identification on {date}: {days} d past threshold"),
    "long_stay": N_("In a shelter since {date}: {days} d past threshold"),
    "no_movement": N_("Nothing recorded since {date}: {days} d past threshold"),
}
AGENDA_HEADERS = {
    "case_code": N_("Case"),
    "days_past": N_("Days past threshold"),
    "why": N_("Why it is on the agenda"),
    "holder_name": N_("Held by"),
    "region_name": N_("Region"),
    "sex": N_("Sex"),
    "age_band": N_("Age band"),
    "case_status": N_("Status"),
    "current_stage": N_("Stage"),
}
REFERRAL_OUTCOME_LABELS = {"accepted": N_("Accepted"), "declined": N_("Declined")}
_UNKNOWN = {"unknown": N_("Unknown")}


def _present(value) -> bool:
    return value is not None and not pd.isna(value)


def why(row, t) -> list[str]:
    """The reasons of one agenda row, in words (``t``: a dashboard.i18n.Translator)."""
    out = []
    if _present(row["overdue_referral_days"]):
        org = row["waiting_on_name"] if _present(row["waiting_on_name"]) else "—"
        n = int(row["overdue_referrals"])
        key = "overdue_one" if n <= 1 else "overdue_many"
        out.append(t.gettext(WHY_TEXTS[key]).format(org=org, n=t.number(n), days=t.number(int(row["overdue_referral_days"]))))
    for reason, since in (("no_assistance", "identified_on"), ("long_stay", "stay_entered_on"),
                          ("no_movement", "last_movement_on")):
        days = row[f"{reason}_days"]
        if _present(days):
            when = t.date(row[since]) if _present(row[since]) else "—"
            out.append(t.gettext(WHY_TEXTS[reason]).format(date=when, days=t.number(int(days))))
    return out


def agenda_table(df: pd.DataFrame, t, sep: str = " · ") -> pd.DataFrame:
    """The agenda in words, for screens, print and CSV: the columns of ``AGENDA_HEADERS``
    (codes turned into labels in the translator's language; headers left to the caller)."""
    from dashboard.domain import CASE_STATUS_LABELS, SEX_LABELS, STAGE_LABELS

    if df.empty:
        return pd.DataFrame(columns=list(AGENDA_HEADERS))
    out = pd.DataFrame({
        "case_code": df["case_code"],
        "days_past": df["days_past"].astype(int),
        "why": [sep.join(why(row, t)) for row in df.to_dict("records")],
        "holder_name": df["holder_name"].where(df["holder_name"].notna(), "—"),
        "region_name": df["region_name"],
        "sex": [t.label(SEX_LABELS, v) for v in df["sex"]],
        "age_band": [t.label(_UNKNOWN, v) if v == "unknown" else v for v in df["age_band"]],
        "case_status": [t.label(CASE_STATUS_LABELS, v) for v in df["case_status"]],
        "current_stage": [t.label(STAGE_LABELS, v) for v in df["current_stage"]],
    })
    return out.reset_index(drop=True)


TIMELINE_HEADERS = {
    "date": N_("Date"),
    "until": N_("Until"),
    "track": N_("Track"),
    "what": N_("What"),
    "org": N_("Organisation"),
    "detail": N_("Details"),
}


def timeline_rows(tl: pd.DataFrame, t, today) -> pd.DataFrame:
    """The timeline of :func:`case_timeline` in words: the columns of ``TIMELINE_HEADERS``
    (dates formatted) plus, for the chart, kind, start, end (today for open items, the start
    for single events), is_event and is_open."""
    from dashboard.domain import (DECLINE_REASON_LABELS, EXIT_DESTINATION_LABELS, JUDGEMENT_LABELS, JUSTICE_LABELS,
                                  SERVICE_LABELS, STAGE_LABELS)

    cols = [*TIMELINE_HEADERS, "kind", "start", "end", "is_event", "is_open"]
    if tl.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for _, x in tl.iterrows():
        kind, start, end = x["kind"], x["start_on"], x["end_on"] if _present(x["end_on"]) else None
        org = x["org"] if _present(x["org"]) else ""
        detail = ""
        if kind in ("stage", "justice"):
            what = t.label(STAGE_LABELS if kind == "stage" else JUSTICE_LABELS, x["item"])
            if _present(x["outcome"]):
                detail = t.label(JUDGEMENT_LABELS, x["outcome"])
        elif kind == "referral":
            service = t.label(SERVICE_LABELS, x["item"]) if _present(x["item"]) else ""
            what = t.gettext(N_("Referral: {service}")).format(service=service) if service else t.gettext(N_("Referral"))
            org = f"{org} → {x['to_org']}"
            parts = []
            if _present(x["acknowledged_on"]):
                parts.append(t.gettext(N_("acknowledged {date}")).format(date=t.date(x["acknowledged_on"], "short")))
            if end is not None:
                outcome = t.label(REFERRAL_OUTCOME_LABELS, x["outcome"]) if _present(x["outcome"]) else "—"
                if _present(x["detail"]):
                    outcome += f" ({t.label(DECLINE_REASON_LABELS, x['detail'])})"
                parts.append(t.gettext(N_("decided {date}: {outcome}")).format(date=t.date(end, "short"), outcome=outcome))
            else:
                parts.append(t.gettext(N_("no decision yet")))
            detail = ", ".join(parts)
        elif kind == "service":
            what = t.label(SERVICE_LABELS, x["item"])
        else:
            what = t.gettext(N_("Shelter stay"))
            if _present(x["detail"]):
                detail = t.gettext(N_("left for: {destination}")).format(
                    destination=t.label(EXIT_DESTINATION_LABELS, x["detail"]))
        is_event = kind in ("stage", "justice")
        is_open = not is_event and end is None
        if is_event:
            until = ""
        elif is_open:
            until = t.gettext(N_("ongoing")) if kind != "referral" else t.gettext(N_("pending"))
        else:
            until = t.date(end, "short")
        rows.append({
            "date": t.date(start, "short"), "until": until, "track": t.gettext(TIMELINE_KIND_LABELS[kind]), "what": what,
            "org": org, "detail": detail, "kind": kind, "start": start,
            "end": start if is_event else (end if end is not None else today), "is_event": is_event,
            "is_open": is_open,
        })
    return pd.DataFrame(rows, columns=cols)
