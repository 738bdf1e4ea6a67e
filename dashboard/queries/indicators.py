"""Project indicators: results matrix, trends per quarter, progress and traffic lights.

Definitions (../shared/DOMAIN.md, and the rules this module sets):

- **Value of an indicator.** ``manual`` indicators: the value recorded for the latest period
  ending on or before the end of the chosen period; when a period was recorded more than
  once, the latest ``recorded_at`` wins (older rows stay as history). ``computed``
  indicators are computed live from case data with the page's filters (regions of the case,
  sex, age group, exploitation): **counts** (unit ``number``) are cumulative, from the
  indicator's baseline date to the end of the chosen period (at most the target date), as a
  results framework reports them; **rates** (``percent``, ``days``) are measured over the
  chosen period. Computation codes: :data:`COMPUTATIONS`.
- **Progress** = (actual − baseline) ÷ (target − baseline), capped at 0–100 %; for a
  ``decrease`` indicator both differences are negative, so baseline 20 → target 10 with
  actual 15 is 50 %.
- **Time elapsed** = (as-of date − baseline date) ÷ (target date − baseline date), capped at
  0–100 %, where the as-of date is the end of the period the value stands for.
- **Traffic light**: green when progress ≥ time elapsed − 10 points, amber when ≥ time
  elapsed − 25 points, red otherwise; grey without a value.
- **Trend**: manual values per recorded period; computed counts cumulative at the end of each
  quarter since the baseline date; computed rates per quarter.

Privacy: computed counts are case data. Pages pass them through ``ctx.protect`` (columns
``count`` and ``n``; ``rate`` withheld when ``n`` < k) and, for aggregate-only viewers,
:func:`withhold_small_steps` so that no two cumulative values shown differ by 1..k−1 and a
sex is not left derivable from the total and the other sex.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from dashboard import schema
from dashboard.db import days_diff, frame, quantiles_from_histogram
from dashboard.domain import N_
from dashboard.filters import Filters
from dashboard.privacy import is_hidden

c, s, r, ss = schema.cases, schema.services, schema.referrals, schema.shelter_stays
ind, res, proj, iv = schema.indicators, schema.project_results, schema.projects, schema.indicator_values

# code -> how it is aggregated: "count" of units, "pct" of units that hit, "median" of values
COMPUTATIONS = {
    "victims_assisted": "count",
    "cases_identified": "count",
    "referrals_sent": "count",
    "referrals_accepted_within_target_pct": "pct",
    "median_days_to_first_service": "median",
    "shelter_admissions": "count",
    "assisted_returns": "count",
}
COMPUTATION_HELP = {
    "victims_assisted": N_("Distinct cases with a service started in the period."),
    "cases_identified": N_("Cases whose identification date falls in the period."),
    "referrals_sent": N_("Referrals sent in the period."),
    "referrals_accepted_within_target_pct": N_(
        "Referrals decided in the period that were accepted within their target time, "
        "as a share of all referrals decided in the period."),
    "median_days_to_first_service": N_(
        "Median days from identification to the first service, for cases whose first service started in the period."),
    "shelter_admissions": N_("Shelter stays that began in the period."),
    "assisted_returns": N_("Assisted voluntary return services started in the period."),
}
LIGHTS = ("green", "amber", "red", "grey")
LIGHT_LABELS = {"green": N_("On track"), "amber": N_("Behind"), "red": N_("Off track"), "grey": N_("No data")}
GREEN_MARGIN, AMBER_MARGIN = 0.10, 0.25
SEX_ROWS = ("all", "female", "male")


class UnknownComputation(ValueError):
    """An indicator names a computation this module does not implement."""


def kind_of(source: str, computation: str | None) -> str:
    """'manual', 'count' (computed count) or 'rate' (computed percentage or median)."""
    if source != "computed":
        return "manual"
    if computation not in COMPUTATIONS:
        raise UnknownComputation(f"unknown indicator computation {computation!r}")
    return "count" if COMPUTATIONS[computation] == "count" else "rate"


# ---------------------------------------------------------------- quarters
def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def quarter_end(d: date) -> date:
    qs = quarter_start(d)
    nxt = date(qs.year + (qs.month == 10), 1 if qs.month == 10 else qs.month + 3, 1)
    return nxt - timedelta(days=1)


def quarter_label(d: date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def quarters(first: date, last: date) -> list[tuple[str, date, date]]:
    """(YYYY-Qn, start, end) of the calendar quarters from ``first`` to ``last``, the first
    and last clipped to those days."""
    out, d = [], quarter_start(first)
    while d <= last:
        out.append((quarter_label(d), max(d, first), min(quarter_end(d), last)))
        d = quarter_end(d) + timedelta(days=1)
    return out


def quarter_key(col, dialect: str):
    """'YYYY-Qn' of a date column (SQL, both dialects; one date function per row or two)."""
    if dialect == "postgresql":
        return sa.func.to_char(col, 'YYYY-"Q"Q', type_=sa.String)
    month = sa.cast(sa.func.strftime("%m", col), sa.Integer)
    return (sa.func.strftime("%Y", col, type_=sa.String) + sa.literal("-Q", sa.String)
            + sa.cast((month + 2) // 3, sa.String))


# ---------------------------------------------------------------- computed metrics
#
# Each computed indicator is evaluated with ONE grouped statement per call: the units of the
# computation (cases, referrals, stays or services) in a window, counted per day for counts
# and percentages (the pandas side then sums whole windows or quarters, vectorised), or as a
# histogram of values for medians (per quarter when a trend is asked for). Female and male
# come as conditional sums in the same pass ("all" is every unit, whatever its sex), so no
# statement is repeated per sex or per quarter. The join to ``cases`` is made only when a
# case filter or the sex needs it: every referral, service and stay belongs to a case
# (NOT NULL foreign key, enforced on both dialects), so the inner join drops nothing then.
SPLIT_SEXES = ("female", "male")


# How much of a table a window covers decides how a statement is written: the share of the
# days between the table's first and last date that the window covers (two index lookups
# to know). SQLite keeps no statistics on dates and reads a date range through its index
# whatever its width: one random lookup per row, which costs more than reading the whole
# table in order as soon as the range holds more than about a tenth of the rows
# (SQLITE_SCAN_SHARE) — unless an index on the date holds every column the statement reads
# (then the index range is read alone). PostgreSQL misjudges how many cases a HAVING on a date range keeps and
# looks each of them up; over most of the table (PG_MERGE_SHARE) the statement joins the
# cases first, which it merges in case order.
SQLITE_SCAN_SHARE, PG_MERGE_SHARE = 0.1, 0.5


def _date_of(code: str):
    """The date column that places a computation's units."""
    return {"cases_identified": c.c.identified_on, "referrals_sent": r.c.sent_on,
            "shelter_admissions": ss.c.entered_on, "assisted_returns": s.c.started_on,
            "victims_assisted": s.c.started_on, "referrals_accepted_within_target_pct": r.c.decided_on,
            "median_days_to_first_service": s.c.started_on}[code]


def _share(conn, code: str, start: date, end: date) -> float:
    """The share (0..1) of the days the computation's table has data for that [start, end] covers."""
    col = _date_of(code)
    first, last = conn.execute(sa.select(sa.select(sa.func.min(col)).scalar_subquery(),
                                         sa.select(sa.func.max(col)).scalar_subquery())).one()
    if first is None:
        return 0.0
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
    covered = (min(end, last) - max(start, first)).days + 1
    return max(0.0, covered / ((last - first).days + 1))


def _first_services(conn):
    """The derived per-case first service (``case_first_service``: case_id, first_on, kept by
    dashboard.derived in the same transaction as every write of services) when the database
    has it filled; None otherwise (the services themselves are read then: same answers)."""
    table = getattr(schema, "case_first_service", None)
    if table is None or not sa.inspect(conn).has_table(table.name):
        return None
    return table if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() else None


def _case_filtered(where: list) -> bool:
    return any(not isinstance(clause, sa.sql.elements.True_) for clause in where)


def _dated(col, start: date, end: date, scan: bool = False):
    """(the date column to select, the conditions start <= col <= end). With ``scan`` (SQLite,
    a window over much of the table), both use ``+col``: the same value (SQLite's unary plus
    is a no-op) that keeps the planner off the date index, for the range and for grouping."""
    if scan:
        col = UnaryExpression(col, operator=custom_op("+"), type_=col.type)
    return col, [col >= start, col <= end]


@dataclass(frozen=True)
class _Plan:
    """What the way a statement is written depends on (see above): how much of its table the
    window covers, the derived first services if filled, and on SQLite the columns of each
    index that starts with the computation's date."""
    share: float = 0.0
    firsts: sa.Table | None = None
    date_indexes: tuple[frozenset, ...] = ()


def _plan(conn, code: str, start: date, end: date) -> _Plan:
    firsts = _first_services(conn) if code in ("victims_assisted", "median_days_to_first_service") else None
    indexes = ()
    if conn.dialect.name == "sqlite":
        col = _date_of(code)
        indexes = tuple(frozenset(n for n in ix["column_names"] if n)
                        for ix in sa.inspect(conn).get_indexes(col.table.name)
                        if ix["column_names"] and ix["column_names"][0] == col.name)
    return _Plan(_share(conn, code, start, end), firsts, indexes)


def _units(code: str, f: Filters, start: date, end: date, dialect: str, with_sex: bool = True,
           plan: _Plan = _Plan()):
    """One row per counted unit in [start, end]: ``on`` (the date that places it), ``sex``
    (when ``with_sex``), and for "pct" ``hit`` (1/0), for "median" ``v``. ``plan``: what
    the way the statement is written depends on (:func:`_plan`)."""
    where = f.case_clauses()
    filtered = _case_filtered(where)
    need_case = with_sex or filtered
    sex = [c.c.sex] if with_sex else []
    firsts = plan.firsts

    def scan(*cols) -> bool:
        """SQLite, a window over much of the table, and no index on the date holding ``cols``."""
        needed = {col.name for col in cols}
        return (dialect == "sqlite" and plan.share > SQLITE_SCAN_SHARE
                and not any(needed <= ix for ix in plan.date_indexes))

    def on_cases(table, fk, on_col, *conds, reads=()):
        src = table.join(c, c.c.id == fk) if need_case else table
        on, in_window = _dated(on_col, start, end, scan=scan(on_col, *reads, *([fk] if need_case else [])))
        return (sa.select(on.label("on"), *sex).select_from(src)
                .where(*in_window, *conds, *(where if need_case else [])))

    if code == "cases_identified":
        read = {col for clause in where for col in sa.sql.visitors.iterate(clause)
                if isinstance(col, sa.Column) and col.table is c}  # what the case filters read
        on, in_window = _dated(c.c.identified_on, start, end, scan=need_case and scan(c.c.identified_on, *sex, *read))
        return sa.select(on.label("on"), *sex).where(*in_window, *where)
    if code == "referrals_sent":
        return on_cases(r, r.c.case_id, r.c.sent_on)
    if code == "shelter_admissions":
        return on_cases(ss, ss.c.case_id, ss.c.entered_on)
    if code == "assisted_returns":
        return on_cases(s, s.c.case_id, s.c.started_on, s.c.service_type == "assisted_voluntary_return",
                        reads=(s.c.service_type,))
    if code == "victims_assisted":
        # a case counts once, on its first service in the window
        if firsts is not None:
            # its first service of all when that is in the window; for a case served before
            # the window, its first service in the window (a few index lookups per such case)
            # (written as a subquery per such case, so that both planners start from them)
            fs = firsts
            later_on = (sa.select(sa.func.min(s.c.started_on))
                        .where(s.c.case_id == fs.c.case_id, s.c.started_on >= start, s.c.started_on <= end)
                        .scalar_subquery())
            before = (sa.select(fs.c.case_id, later_on.label("on")).where(fs.c.first_on < start)
                      .subquery("served_before"))
            first = sa.union_all(
                sa.select(fs.c.case_id, fs.c.first_on.label("on")).where(fs.c.first_on >= start, fs.c.first_on <= end),
                sa.select(before.c.case_id, before.c.on).where(before.c.on.is_not(None))).subquery("first_service")
            if not need_case:
                return sa.select(first.c.on)
            return (sa.select(first.c.on, *sex).select_from(first.join(c, c.c.id == first.c.case_id))
                    .where(*where))
        if not filtered and scan(s.c.started_on, s.c.case_id):
            # grouped in the order of the case index (no sort), the window inside the aggregate
            in_window = sa.and_(s.c.started_on >= start, s.c.started_on <= end)
            on = sa.func.min(sa.case((in_window, s.c.started_on), else_=None))
            first = sa.select(s.c.case_id, on.label("on")).group_by(s.c.case_id).subquery("first_service")
            if not with_sex:
                return sa.select(first.c.on).where(first.c.on.is_not(None))
            return (sa.select(first.c.on, c.c.sex).select_from(first.join(c, c.c.id == first.c.case_id))
                    .where(first.c.on.is_not(None)))
        # the cases joined first: their filters narrow the services before they are grouped
        # (by the case's primary key, on which its sex depends: no sort beyond the merge)
        in_window = [s.c.started_on >= start, s.c.started_on <= end]
        if need_case:
            first = (sa.select(c.c.id, *sex, sa.func.min(s.c.started_on).label("on"))
                     .select_from(s.join(c, c.c.id == s.c.case_id)).where(*in_window, *where).group_by(c.c.id))
        else:
            first = (sa.select(s.c.case_id, sa.func.min(s.c.started_on).label("on"))
                     .where(*in_window).group_by(s.c.case_id))
        first = first.subquery("first_service")
        return sa.select(first.c.on, *([first.c.sex] if with_sex else []))
    if code == "referrals_accepted_within_target_pct":
        # the target of a referral (targets.target_days): the row for the receiver's type and
        # the service asked for, else the row for the type with no service
        receiver = schema.organisations.alias("receiver")
        rt = schema.referral_targets
        specific, general = rt.alias("specific_target"), rt.alias("general_target")
        target = sa.func.coalesce(specific.c.days, general.c.days)
        within = r.c.days_to_decision <= target  # decided_on − sent_on, stored with the referral
        hit = sa.case((sa.and_(r.c.outcome == "accepted", within), 1), else_=0)
        src = r.join(c, c.c.id == r.c.case_id) if need_case else r
        src = (src.join(receiver, receiver.c.id == r.c.to_org_id)
               .outerjoin(specific, sa.and_(specific.c.org_type == receiver.c.org_type,
                                            specific.c.service_type == r.c.service_type))
               .outerjoin(general, sa.and_(general.c.org_type == receiver.c.org_type,
                                           general.c.service_type.is_(None))))
        on, in_window = _dated(r.c.decided_on, start, end, scan=scan(
            r.c.decided_on, r.c.outcome, r.c.days_to_decision, r.c.to_org_id, r.c.service_type,
            *([r.c.case_id] if need_case else [])))
        return (sa.select(on.label("on"), *sex, hit.label("hit")).select_from(src)
                .where(r.c.decided_on.is_not(None), *in_window, *(where if need_case else [])))
    if code == "median_days_to_first_service":
        # the case's first service of all, when it falls in the window
        if firsts is not None:  # one index range of the derived table
            fs = firsts
            return (sa.select(fs.c.first_on.label("on"), *sex,
                              days_diff(c.c.identified_on, fs.c.first_on, dialect).label("v"))
                    .select_from(fs.join(c, c.c.id == fs.c.case_id))
                    .where(fs.c.first_on >= start, fs.c.first_on <= end, *where))
        first_on = sa.func.min(s.c.started_on)
        in_window = sa.and_(first_on >= start, first_on <= end)
        if filtered or (dialect != "sqlite" and plan.share > PG_MERGE_SHARE):
            # the cases joined first: their filters narrow the services before they are grouped
            # (and PostgreSQL then merges two scans in case order, whatever it thinks HAVING keeps)
            first = (sa.select(c.c.id, c.c.sex, c.c.identified_on, first_on.label("first_on"))
                     .select_from(s.join(c, c.c.id == s.c.case_id)).where(*where)
                     .group_by(c.c.id).having(in_window).subquery("first_service"))
            return sa.select(first.c.first_on.label("on"), *([first.c.sex] if with_sex else []),
                             days_diff(first.c.identified_on, first.c.first_on, dialect).label("v"))
        first = (sa.select(s.c.case_id, first_on.label("first_on")).group_by(s.c.case_id).having(in_window)
                 .subquery("first_service"))
        return (sa.select(first.c.first_on.label("on"), *sex,
                          days_diff(c.c.identified_on, first.c.first_on, dialect).label("v"))
                .select_from(first.join(c, c.c.id == first.c.case_id)))
    raise UnknownComputation(f"unknown indicator computation {code!r}")


def _cells(conn, f: Filters, code: str, start: date, end: date, by_quarter: bool, by_sex: bool) -> pd.DataFrame:
    """The units of a computation in [start, end], aggregated in one statement, long format:
    [quarter,] sex ("all", and "female"/"male" when ``by_sex``), then for counts and
    percentages n (and num, the hits), for medians v and c (a histogram: c units have value v).
    Rows with no unit are left out."""
    how, dialect = COMPUTATIONS[code], conn.dialect.name
    u = _units(code, f, start, end, dialect, by_sex, _plan(conn, code, start, end)).subquery("units")
    if how == "median":
        keys = ([quarter_key(u.c.on, dialect).label("quarter")] if by_quarter else []) + [u.c.v]
    else:
        keys = [u.c.on] if by_quarter else []  # per day: quarters are summed from it in pandas
    cols = [sa.func.count().label("n")]
    if how == "pct":
        cols.append(sa.func.sum(u.c.hit).label("num"))
    for sx in SPLIT_SEXES if by_sex else ():
        is_sx = u.c.sex == sx
        cols.append(sa.func.sum(sa.case((is_sx, 1), else_=0)).label(f"n_{sx}"))
        if how == "pct":
            cols.append(sa.func.sum(sa.case((is_sx, u.c.hit), else_=0)).label(f"num_{sx}"))
    stmt = sa.select(*keys, *cols).select_from(u)
    df = frame(conn, stmt.group_by(*keys) if keys else stmt)
    key_names = [k.name for k in keys]
    measures = ["n", "num"] if how == "pct" else ["n"]
    parts = []
    for sx in ("all", *(SPLIT_SEXES if by_sex else ())):
        names = measures if sx == "all" else [f"{m}_{sx}" for m in measures]
        part = df[key_names + names].set_axis(key_names + measures, axis=1).assign(sex=sx)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    for m in measures:
        out[m] = out[m].fillna(0).astype("int64")
    out = out[out["n"] > 0]
    if how == "median":
        out = out.rename(columns={"n": "c"})
    elif by_quarter:
        days = pd.to_datetime(out["on"])
        out["quarter"] = days.dt.year.astype(str) + "-Q" + days.dt.quarter.astype(str)
    return out.reset_index(drop=True)


def _summed(cells: pd.DataFrame, how: str, keys: list[str]) -> pd.DataFrame:
    """keys..., value, n from :func:`_cells` (groups without a unit are absent)."""
    cols = [*keys, "value", "n"]
    if cells.empty:
        return pd.DataFrame(columns=cols)
    if how == "median":
        got = quantiles_from_histogram(cells[[*keys, "v", "c"]], keys, {"median": 0.5})
        return got.rename(columns={"median": "value"})[cols].reset_index(drop=True)
    measures = ["n", "num"] if how == "pct" else ["n"]
    got = cells.groupby(keys, sort=True)[measures].sum().reset_index() if keys else \
        pd.DataFrame({m: [int(cells[m].sum())] for m in measures})
    got["n"] = got["n"].astype("int64")
    if how == "count":
        got["value"] = got["n"].astype(float)
    else:
        got["value"] = 100.0 * got["num"].astype(float) / got["n"]
    return got[cols].reset_index(drop=True)


def measure(conn, f: Filters, code: str, start: date, end: date, keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """A computed metric over [start, end], grouped by ``keys`` (among "sex", "quarter"):
    keys..., value, n (n = units counted: cases, referrals, stays or services). With "sex",
    one row per sex met (female and male, and others such as unknown)."""
    if code not in COMPUTATIONS:
        raise UnknownComputation(f"unknown indicator computation {code!r}")
    how, dialect = COMPUTATIONS[code], conn.dialect.name
    cols = list(keys) + ["value", "n"]
    if end < start:
        return pd.DataFrame(columns=cols)
    if "sex" not in keys:
        cells = _cells(conn, f, code, start, end, "quarter" in keys, False).drop(columns="sex")
        got = _summed(cells, how, list(keys))
        if not keys and got.empty and how != "median":  # one row, as an aggregate without GROUP BY gives
            got = pd.DataFrame({"value": [0.0 if how == "count" else None], "n": [0]})
        return got[cols]
    # every sex (not only female and male): grouped by the sex itself
    u = _units(code, f, start, end, dialect, True, _plan(conn, code, start, end)).subquery("units")
    key_cols = {"sex": u.c.sex, "quarter": quarter_key(u.c.on, dialect)}
    group = [key_cols[k].label(k) for k in keys]
    if how == "median":
        stmt = sa.select(*group, u.c.v, sa.func.count().label("c")).group_by(*[key_cols[k] for k in keys], u.c.v)
        return _summed(frame(conn, stmt), how, list(keys))[cols]
    agg = [sa.func.count().label("n")] + ([sa.func.sum(u.c.hit).label("num")] if how == "pct" else [])
    got = frame(conn, sa.select(*group, *agg).group_by(*[key_cols[k] for k in keys]))
    if "num" in got:
        got["num"] = got["num"].fillna(0).astype("int64")
    return _summed(got, how, list(keys))[cols]


def _by_sex(conn, f: Filters, code: str, start: date, end: date, by_sex: bool) -> pd.DataFrame:
    """sex (all, and female/male when asked), value, n over [start, end]: one statement."""
    how = COMPUTATIONS[code]
    sexes = ("all", *SPLIT_SEXES) if by_sex else ("all",)
    if end < start:
        return pd.DataFrame({"sex": sexes, "value": None, "n": 0})
    got = _summed(_cells(conn, f, code, start, end, False, by_sex), how, ["sex"]).set_index("sex")
    empty = 0.0 if how == "count" else None
    return pd.DataFrame({"sex": sexes,
                         "value": [got.at[sx, "value"] if sx in got.index else empty for sx in sexes],
                         "n": [int(got.at[sx, "n"]) if sx in got.index else 0 for sx in sexes]})


def count_window(f: Filters, baseline_on: date, target_on: date) -> tuple[date, date]:
    """Days a computed count covers: from the baseline date to the period's end (at most the target date)."""
    return baseline_on, min(f.end, target_on)


# ---------------------------------------------------------------- indicator metadata
def _meta_select(lang: str):
    outcome = res.alias("outcome")
    title = (lambda t: t.c.title_en) if lang == "en" else (lambda t: t.c.title_fr)
    # an indicator hangs on an output (whose parent is the outcome) or directly on an outcome
    outcome_code = sa.case((res.c.level == "outcome", res.c.code), else_=outcome.c.code)
    outcome_title = sa.case((res.c.level == "outcome", title(res)), else_=title(outcome))
    return (
        sa.select(
            proj.c.code.label("project"), outcome_code.label("outcome"), outcome_title.label("outcome_title"),
            sa.case((res.c.level == "output", res.c.code), else_=None).label("output"),
            sa.case((res.c.level == "output", title(res)), else_=None).label("output_title"),
            ind.c.id, ind.c.code, (ind.c.label_en if lang == "en" else ind.c.label_fr).label("label"), ind.c.unit,
            ind.c.baseline, ind.c.baseline_on, ind.c.target, ind.c.target_on, ind.c.direction,
            ind.c.disaggregation, ind.c.source, ind.c.computation,
        )
        .select_from(ind.join(res, res.c.id == ind.c.result_id).join(proj, proj.c.id == res.c.project_id)
                     .outerjoin(outcome, outcome.c.id == res.c.parent_id))
        .order_by(proj.c.code, outcome_code, sa.func.coalesce(res.c.code, ""), ind.c.code)
    )


def projects(conn, f: Filters, lang: str = "fr") -> pd.DataFrame:
    """code, title, organisation, donor, starts_on, ends_on of every project."""
    o = schema.organisations
    stmt = (sa.select(proj.c.code, (proj.c.title_en if lang == "en" else proj.c.title_fr).label("title"),
                      o.c.name.label("organisation"), proj.c.donor, proj.c.starts_on, proj.c.ends_on)
            .select_from(proj.outerjoin(o, o.c.id == proj.c.organisation_id)).order_by(proj.c.starts_on, proj.c.code))
    return frame(conn, stmt)


def indicator_list(conn, f: Filters, project: str | None = None, lang: str = "fr") -> pd.DataFrame:
    """Indicator metadata in results-matrix order (project, outcome, output, indicator), with ``kind``."""
    stmt = _meta_select(lang)
    if project is not None:
        stmt = stmt.where(proj.c.code == project)
    df = frame(conn, stmt)
    df["kind"] = [kind_of(src, comp) for src, comp in zip(df["source"], df["computation"])]
    return df


def manual_indicators(conn, f: Filters, lang: str = "fr") -> pd.DataFrame:
    """The indicators whose values are recorded by hand (for the update form)."""
    df = indicator_list(conn, f, None, lang)
    return df[df["kind"] == "manual"].reset_index(drop=True)


# ---------------------------------------------------------------- manual values
def _latest_values(f: Filters, indicator_ids=None):
    """Latest recorded row per (indicator, period, sex), for periods ending by the period's end."""
    rn = sa.func.row_number().over(
        partition_by=(iv.c.indicator_id, iv.c.period_start, iv.c.period_end, iv.c.sex),
        order_by=(iv.c.recorded_at.desc(), iv.c.id.desc()),
    ).label("rn")
    stmt = sa.select(iv.c.indicator_id, iv.c.period_start, iv.c.period_end, iv.c.sex, iv.c.value, iv.c.note,
                     iv.c.recorded_by, iv.c.recorded_at, rn).where(iv.c.period_end <= f.end)
    if indicator_ids is not None:
        stmt = stmt.where(iv.c.indicator_id.in_(list(indicator_ids)))
    sub = stmt.subquery("ranked")
    return sa.select(*(col for col in sub.c if col.name != "rn")).where(sub.c.rn == 1)


def value_history(conn, f: Filters, code: str) -> pd.DataFrame:
    """Every value recorded for a manual indicator, newest period first: period_start,
    period_end, sex, value, note, recorded_by, recorded_at, current (True for the row that
    counts: the latest recorded for its period and sex)."""
    rn = sa.func.row_number().over(
        partition_by=(iv.c.period_start, iv.c.period_end, iv.c.sex), order_by=(iv.c.recorded_at.desc(), iv.c.id.desc()))
    stmt = (sa.select(iv.c.period_start, iv.c.period_end, iv.c.sex, iv.c.value, iv.c.note, iv.c.recorded_by,
                      iv.c.recorded_at, (rn == 1).label("current"))
            .select_from(iv.join(ind, ind.c.id == iv.c.indicator_id)).where(ind.c.code == code)
            .subquery("h"))
    df = frame(conn, sa.select(stmt).order_by(stmt.c.period_end.desc(), stmt.c.recorded_at.desc(), stmt.c.sex))
    if not df.empty:
        df["current"] = df["current"].astype(bool)
    return df


# ---------------------------------------------------------------- the results matrix
VALUE_COLS = ["manual", "count", "rate", "n"]


def _value_row(kind: str, value, n) -> dict:
    return {"manual": value if kind == "manual" else None, "count": value if kind == "count" else None,
            "rate": value if kind == "rate" else None, "n": n if kind != "manual" else None}


SERIES_COLS = ["quarter", "period_start", "period_end", "sex", *VALUE_COLS]


def results_matrix(conn, f: Filters, project: str | None = None, lang: str = "fr", counts: bool = True) -> pd.DataFrame:
    """One row per indicator and sex (``all``; ``female`` and ``male`` too for indicators
    disaggregated by sex), in results-matrix order: project, outcome, outcome_title, output,
    output_title, code, label, unit, baseline, baseline_on, target, target_on, direction,
    disaggregation, source, computation, kind, sex, manual, count, rate, n, as_of.

    The value sits in ``manual``, ``count`` or ``rate`` by kind (module docstring); ``n`` is
    the number of units behind a computed value; ``as_of`` the day it stands for. Add
    progress and traffic lights with :func:`with_progress` (after protecting the values).

    A computed count is the last cumulative value of its trend (:func:`count_series`, the
    same window). With ``counts=False`` the count rows are left empty (``count`` and ``n``
    None) for :func:`fill_counts` to fill from a :func:`count_series` the caller also needs
    (the page draws the trends from it: one pass over the data for both)."""
    meta = indicator_list(conn, f, project, lang)
    rows = []
    manual_ids = meta.loc[meta["kind"] == "manual", "id"].tolist()
    latest = frame(conn, _latest_values(f, manual_ids)) if manual_ids else pd.DataFrame(
        columns=["indicator_id", "period_end", "sex", "value"])
    rates: dict[tuple, pd.DataFrame] = {}  # one statement per distinct computation
    for m in meta.to_dict("records"):
        sexes = SEX_ROWS if m["disaggregation"] == "sex" else ("all",)
        base = {k: v for k, v in m.items()}
        if m["kind"] == "manual":
            mine = latest[latest["indicator_id"] == m["id"]]
            last = mine["period_end"].max() if not mine.empty else None
            for sex in sexes:
                hit = mine[(mine["period_end"] == last) & (mine["sex"] == sex)] if last is not None else mine.iloc[0:0]
                value = float(hit["value"].iloc[0]) if not hit.empty else None
                rows.append({**base, "sex": sex, **_value_row("manual", value, None), "as_of": last})
            continue
        if m["kind"] == "count":
            start, end = count_window(f, m["baseline_on"], m["target_on"])
            for sex in sexes:  # filled below, from the trend
                rows.append({**base, "sex": sex, **_value_row("count", None, None if end >= start else 0),
                             "as_of": end if end >= start else None})
            continue
        start, end = f.start, f.end
        key = (m["computation"], start, end, m["disaggregation"] == "sex")
        if key not in rates:
            rates[key] = _by_sex(conn, f, *key).set_index("sex")
        values = rates[key]
        for sex in sexes:
            rows.append({**base, "sex": sex, **_value_row(m["kind"], values.at[sex, "value"], int(values.at[sex, "n"])),
                         "as_of": end if end >= start else None})
    cols = [*meta.columns.drop("id"), "sex", *VALUE_COLS, "as_of"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows, columns=["id", *cols]).drop(columns=["id"])
    if counts and (out["kind"] == "count").any():
        out = fill_counts(out, _count_series(conn, f, meta[meta["kind"] == "count"]))
    return out


def fill_counts(matrix: pd.DataFrame, series: pd.DataFrame) -> pd.DataFrame:
    """The computed counts of a matrix built with ``counts=False``, from the last quarter of
    their trend (``series``: :func:`count_series` with the same filters and project): count
    and n; a count whose window is empty (period ending before the baseline date) has none."""
    out = matrix.copy()
    if series.empty:
        return out
    last = series[series["period_end"] == series.groupby("code")["period_end"].transform("max")]
    got = {(code, sex): (count, n) for code, sex, count, n in zip(last["code"], last["sex"], last["count"], last["n"])}
    for idx in out.index[out["kind"] == "count"]:
        hit = got.get((out.at[idx, "code"], out.at[idx, "sex"]))
        if hit is not None:
            out.at[idx, "count"], out.at[idx, "n"] = hit
    out[["count", "n"]] = out[["count", "n"]].infer_objects()  # float, as when built with the values
    return out


def _series_of(conn, f: Filters, m: dict, memo: dict | None = None) -> pd.DataFrame:
    """The trend of a computed indicator (its metadata ``m``): one grouped statement."""
    start, end = count_window(f, m["baseline_on"], m["target_on"])
    spans = quarters(start, end)
    if not spans:
        return pd.DataFrame(columns=SERIES_COLS)
    code, how = m["computation"], COMPUTATIONS[m["computation"]]
    by_sex = m["disaggregation"] == "sex"
    key = (code, start, end, by_sex)
    if memo is not None and key in memo:
        got = memo[key]
    else:
        got = _summed(_cells(conn, f, code, start, end, True, by_sex), how, ["quarter", "sex"])
        got = {(q, sx): (value, int(n)) for q, sx, value, n in zip(got["quarter"], got["sex"], got["value"], got["n"])}
        if memo is not None:
            memo[key] = got
    rows = []
    for sex in SEX_ROWS if by_sex else ("all",):
        running = 0
        for label, qs, qe in spans:
            value, n = got.get((label, sex), (None, 0))
            if how == "count":
                running += n
                rows.append({"quarter": label, "period_start": qs, "period_end": qe, "sex": sex,
                             **_value_row("count", float(running), running)})
            else:
                rows.append({"quarter": label, "period_start": qs, "period_end": qe, "sex": sex,
                             **_value_row("rate", value, n)})
    return pd.DataFrame(rows, columns=SERIES_COLS)


def _count_series(conn, f: Filters, meta: pd.DataFrame) -> pd.DataFrame:
    parts, memo = [], {}
    for m in meta.to_dict("records"):
        if m["kind"] == "count":
            df = _series_of(conn, f, m, memo)
            if not df.empty:
                parts.append(df.assign(code=m["code"]))
    cols = ["code", *SERIES_COLS]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def count_series(conn, f: Filters, project: str | None = None) -> pd.DataFrame:
    """The trends of every computed count of a project (all projects with None), one after
    the other: code, then the columns of :func:`indicator_series` (the rows of one code are
    exactly its ``indicator_series``). One grouped statement per computation."""
    return _count_series(conn, f, indicator_list(conn, f, project, "en"))


def indicator_series(conn, f: Filters, code: str) -> pd.DataFrame:
    """The trend of one indicator: quarter, period_start, period_end, sex, manual, count,
    rate, n — manual values per recorded period (latest recorded wins); computed counts
    cumulative at the end of each quarter from the baseline date to the period's end (at most
    the target date); computed rates per quarter over the same span. Sexes: all, and female
    and male for indicators disaggregated by sex."""
    meta = indicator_list(conn, f, None, "en")
    meta = meta[meta["code"] == code]
    cols = SERIES_COLS
    if meta.empty:
        return pd.DataFrame(columns=cols)
    m = meta.iloc[0]
    sexes = SEX_ROWS if m["disaggregation"] == "sex" else ("all",)
    if m["kind"] == "manual":
        df = frame(conn, _latest_values(f, [int(m["id"])]))
        df = df[df["sex"].isin(sexes)]
        if df.empty:
            return pd.DataFrame(columns=cols)
        out = pd.DataFrame({"quarter": [quarter_label(d) for d in df["period_start"]],
                            "period_start": df["period_start"], "period_end": df["period_end"], "sex": df["sex"],
                            "manual": df["value"].astype(float), "count": None, "rate": None, "n": None})
        return out.sort_values(["period_end", "sex"]).reset_index(drop=True)[cols]
    return _series_of(conn, f, m.to_dict())


# ---------------------------------------------------------------- progress and lights (pure)
def progress(actual, baseline: float, target: float) -> float | None:
    """(actual − baseline) ÷ (target − baseline), capped at 0..1 (a fraction); None without a value."""
    if actual is None or pd.isna(actual) or target == baseline:
        return None
    return min(1.0, max(0.0, (float(actual) - baseline) / (target - baseline)))


def elapsed(as_of, baseline_on: date, target_on: date) -> float | None:
    """Share of the time from baseline to target gone by on ``as_of`` (0..1)."""
    if as_of is None or pd.isna(as_of):
        return None
    span = (target_on - baseline_on).days
    if span <= 0:
        return 1.0
    return min(1.0, max(0.0, (pd.Timestamp(as_of).date() - baseline_on).days / span))


def light(prog: float | None, elapsed_share: float | None) -> str:
    """green / amber / red by progress against time elapsed; grey without a value."""
    if prog is None or pd.isna(prog) or elapsed_share is None:
        return "grey"
    eps = 1e-9  # a progress exactly on a boundary counts as reaching it
    if prog + eps >= elapsed_share - GREEN_MARGIN:
        return "green"
    if prog + eps >= elapsed_share - AMBER_MARGIN:
        return "amber"
    return "red"


def actual_of(row) -> float | None:
    """The numeric value of a (protected) matrix or series row; None when missing or hidden."""
    value = row["manual"] if row["kind"] == "manual" else row["count"] if row["kind"] == "count" else row["rate"]
    if value is None or is_hidden(value) or pd.isna(value):
        return None
    return float(value)


def with_progress(matrix: pd.DataFrame) -> pd.DataFrame:
    """Add actual, progress (0..1), elapsed (0..1) and light to a (protected) results matrix."""
    out = matrix.copy()
    if out.empty:
        for col in ("actual", "progress", "elapsed", "light"):
            out[col] = pd.Series(dtype=object)
        return out
    out["actual"] = [actual_of(row) for _, row in out.iterrows()]
    out["progress"] = [progress(v, b, t) for v, b, t in zip(out["actual"], out["baseline"], out["target"])]
    out["elapsed"] = [elapsed(d, b, t) for d, b, t in zip(out["as_of"], out["baseline_on"], out["target_on"])]
    out["light"] = [light(p, e) for p, e in zip(out["progress"], out["elapsed"])]
    return out


# ---------------------------------------------------------------- secondary suppression (pure)
def withhold_small_steps(series: pd.DataFrame, k: int) -> pd.DataFrame:
    """For aggregate-only viewers, after ``protect``: in cumulative count series, withhold
    (None) every value that differs from the last value shown for the same sex by 1..k−1
    (counting from 0; cells already "< k" stay so), so no difference of two values shown
    reveals a small count; then, in any quarter where one of female/male is hidden or
    withheld, withhold the other too.
    Other kinds are returned unchanged."""
    out = series.reset_index(drop=True)
    if out.empty or "count" not in out:
        return out
    counts = out["count"].notna()
    for sex in out.loc[counts, "sex"].unique():
        shown = 0.0
        for idx in out[counts & (out["sex"] == sex)].sort_values("period_end").index:
            value = out.at[idx, "count"]
            if is_hidden(value) or value is None or pd.isna(value):
                continue  # already "< k" (or missing): says no more than protect allows
            step = float(value) - shown
            if step == 0 or step >= k:
                shown = float(value)
            else:
                out.at[idx, "count"] = None
                out.at[idx, "n"] = None
    for period in out.loc[counts, "period_end"].unique():
        pair = out[counts & (out["period_end"] == period) & out["sex"].isin(["female", "male"])]
        if len(pair) == 2 and any(_missing(v) for v in pair["count"]):
            for idx in pair.index:
                if not is_hidden(out.at[idx, "count"]):
                    out.at[idx, "count"] = None
                    out.at[idx, "n"] = None
    return out


def _missing(value) -> bool:
    return is_hidden(value) or value is None or bool(pd.isna(value))


def align_counts(matrix: pd.DataFrame, series: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Computed counts of the matrix replaced by the last value of their (protected) series
    (the same window), so the matrix never shows what the series withholds."""
    out = matrix.copy()
    for code, df in series.items():
        if df.empty:
            continue
        last = df[df["period_end"] == df["period_end"].max()].set_index("sex")
        rows = out.index[(out["code"] == code) & (out["kind"] == "count")]
        for idx in rows:
            sex = out.at[idx, "sex"]
            if sex in last.index:
                out.at[idx, "count"] = last.at[sex, "count"]
                out.at[idx, "n"] = last.at[sex, "n"]
    return out
