"""Bottlenecks between agencies: how fast referrals are acknowledged, decided and served,
which are overdue, which hand-offs are the slowest, and how long cases stay in each stage.

Definitions (../shared/DOMAIN.md; in-period rule: an event counts in the period its own
date falls in — referrals by sent date, acknowledgements by acknowledgement date, decisions
by decision date, first services by their start date):

* **Sent / acknowledged / accepted / declined** — referrals whose sent / acknowledged /
  decided date falls in the period (declined also by decline reason).
* **Acceptance rate** = accepted ÷ (accepted + declined), over decisions in the period; its
  n is the number of decisions.
* **Days to acknowledge / decide / first service** = that date − sent date (the stored
  ``days_to_*`` columns), over the referrals whose interval closed in the period
  (acknowledged_on / decided_on / first_service_on in the period): median and 90th
  percentile (linear interpolation), with n.
* **Overdue referral** = no decision and today − sent date > the target for the receiving
  organisation type or service (``dashboard.queries.targets``), as of today.
* **Bottleneck ranking** = organisation pairs ordered by median days to decision (ties:
  overdue count), with the change against the previous period of equal length.
* **Time in stage** = entry into the next referral-chain stage − entry into this one, for
  cases whose next-stage entry falls in the period; cases still in a stage (no later stage
  entered, not closed) are the **backlog**, with their age (today − entry), not in the median.

Everything is filtered by the cases' region, sex, age group and exploitation type.
"""
from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa

from dashboard import derived, privacy, schema
from dashboard.db import (date_param, days_diff, frame, histogram_select, month_key, percentiles,
                          quantiles_from_histogram)
from dashboard.domain import DECLINE_REASONS, N_, STAGES
from dashboard.filters import Filters
from dashboard.queries.targets import pending_select, target_days

c, r, o, se = schema.cases, schema.referrals, schema.organisations, schema.stage_events
sp = schema.stage_spans

MEASURES = ("acknowledge", "decision", "first_service")
MEASURE_LABELS = {
    "acknowledge": N_("Days to acknowledge"),
    "decision": N_("Days to decision"),
    "first_service": N_("Days to first service"),
}
_MEASURE_COLUMNS = {
    "acknowledge": (r.c.acknowledged_on, r.c.days_to_acknowledge),
    "decision": (r.c.decided_on, r.c.days_to_decision),
    "first_service": (r.c.first_service_on, r.c.days_to_first_service),
}

# Age of overdue referrals (today − sent date), in days: (code, lowest age, highest age or None).
AGE_BUCKETS = (("0-7", 0, 7), ("8-14", 8, 14), ("15-30", 15, 30), ("31-90", 31, 90), ("91+", 91, None))
AGE_BUCKET_LABELS = {
    "0-7": N_("up to 7 days"),
    "8-14": N_("8 to 14 days"),
    "15-30": N_("15 to 30 days"),
    "31-90": N_("31 to 90 days"),
    "91+": N_("more than 90 days"),
}

# Pass these to privacy.protect / ctx.protect with a ranking() frame.
RANKING_COUNTS = ["n", "overdue", "previous_n"]
RANKING_STATS = {"median": "n", "p90": "n", "previous_median": "previous_n", "change": "change_n"}

_KEYS = {"all": [], "receiver": ["to_org_id"], "pair": ["from_org_id", "to_org_id"]}


def _keys(by: str) -> list[str]:
    if by not in _KEYS:
        raise ValueError(f"unknown grouping {by!r}")
    return _KEYS[by]


def _organisations(conn) -> pd.DataFrame:
    return frame(conn, sa.select(o.c.id, o.c.code, o.c.name, o.c.org_type)).set_index("id")


def _name_orgs(conn, df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Add code, name and type columns for each organisation id column in ``keys``."""
    if not keys:
        return df
    orgs = _organisations(conn)
    for key in keys:
        side = "from" if key == "from_org_id" else "to"
        df[f"{side}_org"] = df[key].map(orgs["code"])
        df[f"{side}_name"] = df[key].map(orgs["name"])
        df[f"{side}_type"] = df[key].map(orgs["org_type"])
    return df



def _with_cases(table, f: Filters):
    """``table`` joined to its cases when the filters need them (``table.c.case_id``)."""
    return table.join(c, c.c.id == table.c.case_id) if f.restricts_cases() else table


def _case_where(f: Filters) -> list:
    return f.case_clauses() if f.restricts_cases() else []


# ---------------------------------------------------------------- performance per receiver / pair
def _null(type_):
    return sa.cast(sa.null(), type_)


def _period_events(f: Filters, keys: list[str]):
    """One UNION ALL over the referrals, one index range per date column (each of the four
    dates has its own index that covers the columns read here):

    keys, kind ('sent' | 'acknowledge' | 'decision' | 'first_service'), outcome,
    decline_reason, v (days_to_* of that kind; NULL for sent), n (referrals) — the
    referrals whose date of that kind falls in the period, grouped."""
    parts = []
    for kind, (on, days) in (("sent", (r.c.sent_on, None)), *_MEASURE_COLUMNS.items()):
        decision = kind == "decision"
        cols = [
            *(r.c[k] for k in keys),
            sa.literal(kind, sa.String(16)).label("kind"),
            (r.c.outcome if decision else _null(r.c.outcome.type)).label("outcome"),
            (r.c.decline_reason if decision else _null(r.c.decline_reason.type)).label("decline_reason"),
            (days if days is not None else _null(sa.Integer)).label("v"),
            sa.func.count().label("n"),
        ]
        group = [*(r.c[k] for k in keys), *((r.c.outcome, r.c.decline_reason) if decision else ()),
                 *((days,) if days is not None else ())]
        stmt = sa.select(*cols).select_from(_with_cases(r, f)).where(f.in_period(on), *_case_where(f))
        parts.append(stmt.group_by(*group) if group else stmt)
    return sa.union_all(*parts)


def performance(conn, f: Filters, by: str = "receiver") -> pd.DataFrame:
    """Referral figures per receiving organisation (``by="receiver"``), per (sending,
    receiving) pair (``"pair"``) or overall (``"all"``, one row):

    sent, acknowledged, accepted, declined, declined_<reason> for each decline reason
    (no_capacity, not_eligible, person_refused, other — a missing reason counts as other),
    decisions (accepted + declined), acceptance_rate (accepted ÷ decisions), and for each of
    acknowledge / decision / first_service: <m>_n, <m>_median, <m>_p90 (days, over the
    intervals that closed in the period). Organisation columns: to_org, to_name, to_type
    (and from_* for pairs). Groups where nothing happened in the period are absent.

    One SQL statement (:func:`_period_events`): counts and day histograms per group; the
    percentiles are interpolated from the histograms (:func:`dashboard.db.quantiles_from_histogram`)."""
    keys = _keys(by)
    return _summarise(conn, frame(conn, _period_events(f, keys)), keys, by)


def performance_levels(conn, f: Filters) -> dict[str, pd.DataFrame]:
    """:func:`performance` overall, per receiver and per pair at once (``{"all": ...,
    "receiver": ..., "pair": ...}``, the same frames): one SQL statement, by pair, whose
    groups add up to the receivers' and to the overall ones (counts and day histograms
    both add up), so the page pays for one scan of the referrals instead of three."""
    ev = frame(conn, _period_events(f, _keys("pair")))
    out = {"pair": _summarise(conn, ev, _keys("pair"), "pair")}
    detail = ["kind", "outcome", "decline_reason", "v"]
    for by in ("receiver", "all"):
        keys = _keys(by)
        if ev.empty:
            coarser = ev.drop(columns=[k for k in _keys("pair") if k not in keys])
        else:
            coarser = ev.groupby([*keys, *detail], dropna=False, as_index=False)["n"].sum()
        out[by] = _summarise(conn, coarser, keys, by)
    return out


def _summarise(conn, ev: pd.DataFrame, keys: list[str], by: str) -> pd.DataFrame:
    """The :func:`performance` frame from the grouped events of :func:`_period_events`."""
    names = ["sent", "acknowledged", "accepted", "declined", *(f"declined_{x}" for x in DECLINE_REASONS)]
    measure_cols = [f"{m}_{s}" for m in MEASURES for s in ("n", "median", "p90")]
    empty = pd.DataFrame(columns=[*keys, *names, "decisions", "acceptance_rate", *measure_cols])
    if ev.empty:
        return empty
    ev = ev.copy()
    ev["n"] = ev["n"].astype("int64")
    for k in keys:
        ev[k] = ev[k].astype("int64")
    declined = (ev["kind"] == "decision") & (ev["outcome"] == "declined")
    reason = ev["decline_reason"].astype(object).fillna("other")  # a missing reason counts as other
    flags = {
        "sent": ev["kind"] == "sent",
        "acknowledged": ev["kind"] == "acknowledge",
        "accepted": (ev["kind"] == "decision") & (ev["outcome"] == "accepted"),
        "declined": declined,
        **{f"declined_{x}": declined & (reason == x) for x in DECLINE_REASONS},
    }
    counted = pd.DataFrame({name: ev["n"].where(flag, 0) for name, flag in flags.items()})
    if keys:
        df = counted.groupby([ev[k] for k in keys]).sum().reset_index()
    else:
        df = counted.sum().to_frame().T
        if all(int(df[col].iloc[0]) == 0 for col in ("sent", "acknowledged", "accepted", "declined")):
            return empty
    df[names] = df[names].astype(int)
    df["decisions"] = df["accepted"] + df["declined"]
    df["acceptance_rate"] = (df["accepted"] / df["decisions"].where(df["decisions"] > 0)).astype(float)
    for m in MEASURES:
        part = ev[(ev["kind"] == m) & ev["v"].notna()]
        hist = part.groupby([*keys, "v"], as_index=False)["n"].sum().rename(columns={"n": "c"})
        stats = quantiles_from_histogram(hist, keys).rename(
            columns={"n": f"{m}_n", "median": f"{m}_median", "p90": f"{m}_p90"})
        if keys:
            df = df.merge(stats, on=keys, how="left")
        else:
            for col in (f"{m}_n", f"{m}_median", f"{m}_p90"):
                df[col] = stats[col].iloc[0] if not stats.empty else None
        df[f"{m}_n"] = pd.to_numeric(df[f"{m}_n"]).fillna(0).astype(int)
        df[f"{m}_median"] = pd.to_numeric(df[f"{m}_median"]).astype(float)
        df[f"{m}_p90"] = pd.to_numeric(df[f"{m}_p90"]).astype(float)
    df = _name_orgs(conn, df, keys)
    sort = ["to_org"] if by == "receiver" else ["from_org", "to_org"] if by == "pair" else []
    return df.sort_values(sort).reset_index(drop=True) if sort else df


# ---------------------------------------------------------------- overdue
def _age_bucket(age):
    whens = []
    for code, lo, hi in AGE_BUCKETS:
        whens.append((age <= hi, code) if hi is not None else (age >= lo, code))
    return sa.case(*whens[:-1], else_=whens[-1][1])


def overdue_by_age(conn, f: Filters) -> pd.DataFrame:
    """Overdue referrals as of today per receiving organisation and age bucket (today −
    sent date): to_org, to_name, to_type, bucket, referrals. Buckets in ``AGE_BUCKETS``."""
    pend = pending_select(f, conn.dialect.name, overdue_only=True).subquery("overdue")
    bucket = _age_bucket(pend.c.age_days).label("bucket")
    stmt = sa.select(pend.c.to_org_id, bucket, sa.func.count().label("referrals")).group_by(pend.c.to_org_id, bucket)
    df = frame(conn, stmt)
    if df.empty:
        return pd.DataFrame(columns=["to_org", "to_name", "to_type", "bucket", "referrals"])
    df["referrals"] = df["referrals"].astype(int)
    df = _name_orgs(conn, df, ["to_org_id"])
    order = {code: i for i, (code, _lo, _hi) in enumerate(AGE_BUCKETS)}
    df["o"] = df["bucket"].map(order)
    return df.sort_values(["to_org", "o"])[["to_org", "to_name", "to_type", "bucket", "referrals"]].reset_index(drop=True)


def overdue_summary(conn, f: Filters) -> pd.DataFrame:
    """One row: pending (no decision as of today), overdue (of which past their target),
    median_age and p90_age of the overdue ones (days since sent), n (= overdue)."""
    pend = pending_select(f, conn.dialect.name).subquery("pending")
    counts = frame(conn, sa.select(
        sa.func.count().label("pending"),
        sa.func.coalesce(sa.func.sum(sa.case((pend.c.overdue, 1), else_=0)), 0).label("overdue"),
    ))
    ages = percentiles(conn, sa.select(pend.c.age_days.label("v")).where(pend.c.overdue), [])
    out = counts.astype(int)
    out["n"] = int(ages["n"].iloc[0]) if not ages.empty else 0
    out["median_age"] = float(ages["median"].iloc[0]) if not ages.empty else None
    out["p90_age"] = float(ages["p90"].iloc[0]) if not ages.empty else None
    return out


OVERDUE_LIST_LIMIT = 500


@privacy.case_level
def overdue_list(conn, f: Filters, viewer, limit: int = OVERDUE_LIST_LIMIT) -> pd.DataFrame:
    """Case level (committee and admin only): the overdue referrals as of today, most
    overdue first — case_code, referral_code, from_org, from_name, to_org, to_name,
    service_type, sent_on, age_days, target_days, days_over. At most ``limit`` rows."""
    pend = pending_select(f, conn.dialect.name, overdue_only=True).subquery("overdue")
    sender, receiver = o.alias("sender"), o.alias("receiver")
    stmt = (
        sa.select(
            c.c.code.label("case_code"), r.c.code.label("referral_code"),
            sender.c.code.label("from_org"), sender.c.name.label("from_name"),
            receiver.c.code.label("to_org"), receiver.c.name.label("to_name"),
            pend.c.service_type, pend.c.sent_on, pend.c.age_days, pend.c.target_days, pend.c.days_over,
        )
        .select_from(
            pend.join(r, r.c.id == pend.c.referral_id)
            .join(c, c.c.id == pend.c.case_id)
            .join(sender, sender.c.id == pend.c.from_org_id)
            .join(receiver, receiver.c.id == pend.c.to_org_id)
        )
        .order_by(pend.c.days_over.desc(), pend.c.sent_on, r.c.code)
        .limit(limit)
    )
    return frame(conn, stmt)


# ---------------------------------------------------------------- ranking
def _decision_stats(conn, f: Filters) -> pd.DataFrame:
    values = (
        sa.select(r.c.from_org_id, r.c.to_org_id, r.c.days_to_decision.label("v"))
        .select_from(_with_cases(r, f))
        .where(f.in_period(r.c.decided_on), *_case_where(f))
    )
    keys = ["from_org_id", "to_org_id"]
    return quantiles_from_histogram(frame(conn, histogram_select(values, keys)), keys)


def ranking(conn, f: Filters, limit: int | None = 3, min_n: int = 1) -> pd.DataFrame:
    """The worst hand-offs: organisation pairs ordered by median days to decision (over the
    referrals decided in the period, decision date − sent date), ties broken by the number of
    referrals of the pair overdue as of today, then by n.

    Columns: from_org, to_org (codes), from_name, to_name, n, median, p90, overdue,
    previous_n, previous_median (same pair, previous period of equal length,
    ``Filters.previous``), change (median − previous_median, days; NaN without a previous
    median), change_n (min(n, previous_n), the n behind the change).
    Only pairs with at least ``min_n`` decisions in the period are ranked (pass the
    small-count threshold k for aggregate-only viewers, so that the top rows are not
    withheld); ``limit=None`` returns every pair. Protect with ``RANKING_COUNTS`` and
    ``RANKING_STATS``."""
    cols = ["from_org", "to_org", "from_name", "to_name", "n", "median", "p90", "overdue",
            "previous_n", "previous_median", "change", "change_n"]
    now = _decision_stats(conn, f)
    if now.empty:
        return pd.DataFrame(columns=cols)
    now = now[now["n"] >= max(min_n, 1)]
    if now.empty:
        return pd.DataFrame(columns=cols)
    keys = ["from_org_id", "to_org_id"]
    before = _decision_stats(conn, f.previous()).rename(columns={"n": "previous_n", "median": "previous_median"})
    pend = pending_select(f, conn.dialect.name, overdue_only=True).subquery("overdue")
    overdue = frame(conn, sa.select(pend.c.from_org_id, pend.c.to_org_id, sa.func.count().label("overdue"))
                    .group_by(pend.c.from_org_id, pend.c.to_org_id))
    df = now.merge(before[[*keys, "previous_n", "previous_median"]], on=keys, how="left")
    df = df.merge(overdue, on=keys, how="left") if not overdue.empty else df.assign(overdue=0)
    df["n"] = df["n"].astype(int)
    df["overdue"] = pd.to_numeric(df["overdue"]).fillna(0).astype(int)
    df["previous_n"] = pd.to_numeric(df["previous_n"]).fillna(0).astype(int)
    for col in ("median", "p90", "previous_median"):
        df[col] = pd.to_numeric(df[col]).astype(float)
    df["change"] = df["median"] - df["previous_median"]
    df["change_n"] = df[["n", "previous_n"]].min(axis=1)
    df = _name_orgs(conn, df, keys)
    df = df.sort_values(["median", "overdue", "n", "from_org", "to_org"], ascending=[False, False, False, True, True])
    if limit is not None:
        df = df.head(limit)
    return df[cols].reset_index(drop=True)


def within_target_select(f: Filters, dialect: str, by_month: bool = False) -> sa.Select:
    """decided, within_target (see :func:`decided_within_target`), and with ``by_month``
    per month (YYYY-MM) of the decision date: the referrals decided in the period are first
    grouped by receiver, service asked for and days to decision (one range of
    ``ix_referrals_decided_pair``), then each group gets its target."""
    month = [month_key(r.c.decided_on, dialect).label("month")] if by_month else []
    groups = (
        sa.select(*month, r.c.to_org_id, r.c.service_type, r.c.days_to_decision.label("days"),
                  sa.func.count().label("n"))
        .select_from(_with_cases(r, f))
        .where(f.in_period(r.c.decided_on), *_case_where(f))
        .group_by(*month, r.c.to_org_id, r.c.service_type, r.c.days_to_decision)
        .subquery("groups")
    )
    receiver = o.alias("receiver")
    decided = (
        sa.select(groups, target_days(groups, receiver).label("target"))
        .select_from(groups.join(receiver, receiver.c.id == groups.c.to_org_id))
        .subquery("decided")
    )
    keys = [decided.c.month] if by_month else []
    stmt = sa.select(
        *keys,
        sa.func.coalesce(sa.func.sum(decided.c.n), 0).label("decided"),
        sa.func.coalesce(sa.func.sum(sa.case((decided.c.days <= decided.c.target, decided.c.n), else_=0)), 0)
        .label("within_target"),
    ).where(decided.c.target.is_not(None))
    return stmt.group_by(*keys) if keys else stmt


def decided_within_target(conn, f: Filters) -> pd.DataFrame:
    """One row: decided (referrals decided in the period — decision date in the period —
    whose receiver has a target; those without a target are left out), within_target (of
    which days_to_decision ≤ target days for the receiving organisation type or service),
    share (within_target ÷ decided; NaN when nothing was decided)."""
    df = frame(conn, within_target_select(f, conn.dialect.name)).astype(int)
    df["share"] = (df["within_target"] / df["decided"].where(df["decided"] > 0)).astype(float)
    return df


# ---------------------------------------------------------------- time in stage
CHAIN = STAGES  # detection … closed; closed ends the previous stage and has no time of its own
_POSITION = {s: i for i, s in enumerate(CHAIN)}


def time_in_stage(conn, f: Filters) -> pd.DataFrame:
    """Per referral-chain stage (detection … return and reintegration, in order):

    stage, n, median, p90 — days from entering the stage to entering the next one (the next
    stage the case entered along the chain, closing included), over the cases whose
    next-stage entry falls in the period; backlog (cases in that stage now: no later stage
    entered and not closed), backlog_median_age, backlog_p90_age (today − entry, days).
    A stage entered more than once counts from its first entry; stage events after today
    are not counted.

    Read from the derived tables (``dashboard.derived``): ``stage_span_months`` for the
    whole calendar months of the period (without case filters), ``stage_spans`` (per case
    and stage, the first entry and the next stage's) for the days before and after them
    and for the open spans (next_on NULL, one index range). When those were never filled,
    or a stage event lies after today, the same figures are computed from the stage events
    (:func:`_time_in_stage_from_events`)."""
    today = f.today
    latest = derived.latest_stage_entry(conn) if derived.is_filled(conn, sp) else None
    if latest is None or latest > today:
        return _time_in_stage_from_events(conn, f)
    source = sp.join(c, c.c.id == sp.c.case_id) if f.restricts_cases() else sp

    def spans_between(start, end):
        return frame(conn, sa.select(sp.c.stage, sp.c.days.label("v"), sa.func.count().label("c"))
                      .select_from(source).where(sp.c.next_on >= start, sp.c.next_on <= end, *_case_where(f))
                      .group_by(sp.c.stage, sp.c.days))

    first, last = _whole_months(f)
    if f.restricts_cases() or first is None:
        times = spans_between(f.start, f.end)
    else:  # whole months from stage_span_months, the days before and after from the spans
        sm = schema.stage_span_months
        parts = [frame(conn, sa.select(sm.c.stage, sm.c.days.label("v"), sa.func.sum(sm.c.n).label("c"))
                        .where(sm.c.month >= first, sm.c.month <= last).group_by(sm.c.stage, sm.c.days))]
        if f.start < first:
            parts.append(spans_between(f.start, first - timedelta(days=1)))
        after = derived.next_month(last)
        if after <= f.end:
            parts.append(spans_between(after, f.end))
        parts = [p for p in parts if not p.empty]
        times = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["stage", "v", "c"])
    # next_on, stage, entered: the order of ix_stage_spans_next, so no sort for the grouping
    open_ = frame(conn, sa.select(sp.c.stage, sp.c.entered, sa.func.count().label("c"))
                  .select_from(source).where(sp.c.next_on.is_(None), *_case_where(f))
                  .group_by(sp.c.stage, sp.c.entered))
    if not open_.empty:
        open_["v"] = [(today - d).days for d in open_["entered"]]
        open_ = open_.groupby(["stage", "v"], as_index=False)["c"].sum()
    long = pd.concat([quantiles_from_histogram(times, ["stage"]).assign(kind="time"),
                      quantiles_from_histogram(open_[["stage", "v", "c"]] if not open_.empty else open_, ["stage"])
                      .assign(kind="backlog")], ignore_index=True)
    return _stage_rows(long)


def _whole_months(f: Filters):
    """(first day of the first, first day of the last) whole calendar month inside the
    period, or (None, None) when there is none."""
    first = f.start if f.start.day == 1 else derived.next_month(f.start)
    after = derived.next_month(date(f.end.year, f.end.month, 1))
    end_month = date(f.end.year, f.end.month, 1) if f.end == after - timedelta(days=1) else None
    last = end_month if end_month is not None else _previous_month(date(f.end.year, f.end.month, 1))
    return (first, last) if first <= last else (None, None)


def _previous_month(d: date) -> date:
    return date(d.year - (d.month == 1), 12 if d.month == 1 else d.month - 1, 1)


def _stage_rows(long: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for stage in CHAIN[:-1]:
        t = long[(long["stage"] == stage) & (long["kind"] == "time")]
        b = long[(long["stage"] == stage) & (long["kind"] == "backlog")]
        rows.append({
            "stage": stage,
            "n": int(t["n"].iloc[0]) if not t.empty else 0,
            "median": float(t["median"].iloc[0]) if not t.empty else None,
            "p90": float(t["p90"].iloc[0]) if not t.empty else None,
            "backlog": int(b["n"].iloc[0]) if not b.empty else 0,
            "backlog_median_age": float(b["median"].iloc[0]) if not b.empty else None,
            "backlog_p90_age": float(b["p90"].iloc[0]) if not b.empty else None,
        })
    out = pd.DataFrame(rows)
    if (out["n"] == 0).all() and (out["backlog"] == 0).all():
        return out.iloc[0:0]
    return out


def _time_in_stage_from_events(conn, f: Filters) -> pd.DataFrame:
    """:func:`time_in_stage` from the stage events themselves: first entries per case and
    stage (up to today), LEAD over the chain position, a histogram per stage."""
    today = date_param(f.today)
    pos = sa.case(_POSITION, value=se.c.stage)
    firsts = (
        sa.select(se.c.case_id, se.c.stage, pos.label("pos"), sa.func.min(se.c.occurred_on).label("entered"))
        .select_from(_with_cases(se, f))
        # "position known" rather than stage IN (...): same rows, and SQLite then reads the
        # (case_id, stage, occurred_on) index in order instead of sorting for the GROUP BY
        .where(pos.is_not(None), se.c.occurred_on <= today, *_case_where(f))
        .group_by(se.c.case_id, se.c.stage)
        .subquery("firsts")
    )
    spans = sa.select(
        firsts.c.stage, firsts.c.entered,
        sa.func.lead(firsts.c.entered).over(partition_by=firsts.c.case_id, order_by=firsts.c.pos).label("next_on"),
    ).cte("spans").prefix_with("MATERIALIZED")
    dialect = conn.dialect.name
    values = sa.union_all(
        sa.select(spans.c.stage, sa.literal_column("'time'").label("kind"),
                  days_diff(spans.c.entered, spans.c.next_on, dialect).label("v"))
        .where(f.in_period(spans.c.next_on)),
        sa.select(spans.c.stage, sa.literal_column("'backlog'").label("kind"),
                  days_diff(spans.c.entered, today, dialect).label("v"))
        .where(spans.c.next_on.is_(None), spans.c.stage != "closed"),
    )
    return _stage_rows(percentiles(conn, values, ["stage", "kind"]))
