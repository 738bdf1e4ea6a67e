"""Small-cell suppression: primary ("< k"), secondary ("*") against subtraction from totals,
checked by hand on small tables and by an exhaustive attacker on random ones; the filters
aggregate-only viewers really get (differencing across selections)."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard import privacy
from dashboard.filters import Filters
from dashboard.privacy import SECONDARY_LABEL as S
from dashboard.privacy import TOTAL, Viewer

MINISTER = Viewer("m", "minister")
PARTNER = Viewer("p", "partner")
COMMITTEE = Viewer("c", "committee")
K = 5
H = "< 5"


# ---------------------------------------------------------------- an exhaustive attacker
def feasible_values(grid, hidden, bounds, row_eq, col_eq, margin_row, margin_col):
    """Every integer completion of the hidden cells of ``grid`` (margins included) that agrees
    with the shown cells, the known totals and each hidden cell's (low, high) bounds; returns
    {cell: set of values it takes}. Enumerates with forward checking: tables here are tiny."""
    x = np.asarray(grid)
    nr, nc = x.shape
    sign = np.ones((nr, nc), dtype=int)
    if margin_row is not None:
        sign[margin_row, :] *= -1
    if margin_col is not None:
        sign[:, margin_col] *= -1
    lines = [[(i, j) for j in range(nc)] for i in range(nr) if row_eq[i]]
    lines += [[(i, j) for i in range(nr)] for j in range(nc) if col_eq[j]]
    dom = {e: range(bounds[e][0], bounds[e][1] + 1) for e in hidden}
    seen = {e: set() for e in hidden}
    assign: dict = {}

    def val(e):
        return assign.get(e, None if e in dom else int(x[e]))

    def check():
        forced = []
        for line in lines:
            unknown = [e for e in line if val(e) is None]
            s = sum(sign[e] * val(e) for e in line if val(e) is not None)
            if not unknown:
                if s:
                    return None
            elif len(unknown) == 1:
                e = unknown[0]
                v = -s * sign[e]
                if v not in dom[e]:
                    return None
                forced.append((e, v))
            else:
                lo = sum(min(sign[e] * dom[e].start, sign[e] * (dom[e].stop - 1)) for e in unknown)
                hi = sum(max(sign[e] * dom[e].start, sign[e] * (dom[e].stop - 1)) for e in unknown)
                if not lo <= -s <= hi:
                    return None
        return forced

    def search():
        forced = check()
        if forced is None:
            return
        if forced:
            e, v = forced[0]
            assign[e] = v
            search()
            del assign[e]
            return
        rest = [e for e in hidden if e not in assign]
        if not rest:
            for e in hidden:
                seen[e].add(assign[e])
            return
        e = min(rest, key=lambda c: len(dom[c]))
        for v in dom[e]:
            assign[e] = v
            search()
            del assign[e]

    search()
    return seen


def attack_labels(grid, labels, k, row_eq, col_eq, margin_row, margin_col, star_low=1):
    """What a reader of the published table can pin down: for each cell shown "< k" or "*",
    the values it can take ("< k": 1..k-1; "*": star_low..a generous cap)."""
    cap = int(np.max(grid)) + 3
    hidden = [e for e, v in np.ndenumerate(labels) if isinstance(v, str)]
    bounds = {e: (1, k - 1) if labels[e].startswith("<") else (star_low, cap) for e in hidden}
    return feasible_values(grid, hidden, bounds, row_eq, col_eq, margin_row, margin_col)


def crosstab_long(inner: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame([{"r": f"r{i}", "c": f"c{j}", "n": int(v)} for (i, j), v in np.ndenumerate(inner)])


def published_grid(out: pd.DataFrame, rows: int, cols: int) -> np.ndarray:
    """The protect_crosstab result back as a (rows+1) x (cols+1) array of numbers/labels."""
    keys_r = [f"r{i}" for i in range(rows)] + [TOTAL]
    keys_c = [f"c{j}" for j in range(cols)] + [TOTAL]
    grid = np.empty((rows + 1, cols + 1), dtype=object)
    for r, c, v in zip(out["r"], out["c"], out["n"]):
        grid[keys_r.index(r), keys_c.index(c)] = v
    return grid


def full_grid(inner: np.ndarray) -> np.ndarray:
    r, c = inner.shape
    g = np.zeros((r + 1, c + 1), dtype=int)
    g[:r, :c] = inner
    g[r, :c], g[:r, c], g[r, c] = inner.sum(axis=0), inner.sum(axis=1), inner.sum()
    return g


# ---------------------------------------------------------------- primary suppression
def test_protect_hides_small_counts_and_stats_for_aggregate_roles():
    df = pd.DataFrame({"org": ["a", "b", "c"], "n": [0, 3, 12], "median_days": [None, 4.0, 9.5]})
    for viewer in (MINISTER, PARTNER):
        out = privacy.protect(df, viewer, K, counts=["n"], stats={"median_days": "n"})
        # 0 stays 0 (a zero reveals no one), 3 is 1..4 -> "< 5"; the median over 3 cases is withheld
        assert list(out["n"]) == [0, H, 12]
        assert list(out["median_days"]) == [None, None, 9.5]
    assert privacy.protect(df, COMMITTEE, K, counts=["n"]).equals(df)


def test_hidden_cells_are_recognised_and_numeric_for_charts():
    assert privacy.is_hidden(H) and privacy.is_hidden(S) and not privacy.is_hidden("12") and not privacy.is_hidden(3)
    assert privacy.numeric(pd.Series([H, S, 7])).isna().tolist() == [True, True, False]


# ---------------------------------------------------------------- secondary suppression, by hand
def test_one_way_table_against_its_total():
    # months 10, 3, 12 with the period total 25 shown elsewhere: 25 - 10 - 12 = 3, so the
    # smallest other month (10) is hidden too; a reader then knows 3 + 10 = 13 only.
    df = pd.DataFrame({"month": ["2026-01", "2026-02", "2026-03"], "cases": [10, 3, 12]})
    out = privacy.protect_table(df, MINISTER, K, ["cases"])
    assert list(out["cases"]) == [S, H, 12]
    assert privacy.protect_table(df, COMMITTEE, K, ["cases"]).equals(df)


def test_zeros_neither_hidden_nor_protecting():
    # 0, 2, 9 (total 11): the zero cannot protect the 2, so the 9 is hidden.
    df = pd.DataFrame({"sex": ["male", "female", "unknown"], "n": [0, 2, 9]})
    assert list(privacy.protect_table(df, MINISTER, K, ["n"])["n"]) == [0, H, S]


def test_nothing_small_nothing_hidden():
    df = pd.DataFrame({"g": ["a", "b"], "n": [7, 0]})
    assert list(privacy.protect_table(df, MINISTER, K, ["n"])["n"]) == [7, 0]


def test_two_small_cells_that_add_up_to_their_minimum_are_protected():
    # 1 + 1 + 40 = 42: both 1s hidden already, but a reader who sees 40 and 42 knows they
    # add up to 2, and each "< 5" is at least 1: both are 1. So the 40 goes too.
    df = pd.DataFrame({"g": ["a", "b", "c"], "n": [1, 1, 40]})
    assert list(privacy.protect_table(df, MINISTER, K, ["n"])["n"]) == [H, H, S]


def test_table_with_total_row_and_total_column():
    df = pd.DataFrame({"region": ["A", "B", "all"], "female": [10, 3, 13], "male": [7, 6, 13], "total": [17, 9, 26]})
    out = privacy.protect_table(df, MINISTER, K, ["female", "male"], total_row=("region", "all"), total_col="total")
    # B's row: 3 + male = 9 shows 6 -> hide B's 6; the male column: 7 + 6 = 13 -> hide A's 7;
    # then A's row: 10 + 7 = 17 -> hide A's 10. Totals stay (headline figures elsewhere).
    assert out["female"].tolist() == [S, H, 13]
    assert out["male"].tolist() == [S, S, 13]
    assert out["total"].tolist() == [17, 9, 26]
    grid = np.array([[10, 7, 17], [3, 6, 9], [13, 13, 26]])
    labels = out[["female", "male", "total"]].to_numpy()
    seen = attack_labels(grid, labels, K, [True] * 3, [True] * 3, 2, 2, star_low=K)
    assert len(seen[(1, 0)]) >= 2  # the 3 is not pinned, even knowing "*" means at least 5


def test_fewer_than_k_in_all_withholds_the_whole_split():
    # 3 cases in all ("< 5" wherever the total is shown): showing 3 and 0 would say all three
    # are in the first group, and 1, 1, 1 would say one each; every cell is withheld, zeros too.
    for values in ([3, 0], [1, 1, 1]):
        df = pd.DataFrame({"g": [f"g{i}" for i in range(len(values))], "n": values})
        assert list(privacy.protect_table(df, MINISTER, K, ["n"])["n"]) == [S] * len(values)


def test_crosstab_adds_protected_margins():
    long = pd.DataFrame({"r": ["A", "A", "B", "B"], "c": ["f", "m", "f", "m"], "n": [10, 3, 7, 6]})
    out = privacy.protect_crosstab(long, MINISTER, K, "r", "c", "n")
    cells = {(r, c): v for r, c, v in zip(out["r"], out["c"], out["n"])}
    # 3 hidden; row A (13) and column m (9) each need a second hidden cell: A-f (10) and
    # B-m (6); then row B and column f need one too: B-f (7). Margins stay.
    assert cells == {("A", "f"): S, ("A", "m"): H, ("B", "f"): S, ("B", "m"): S,
                     ("A", TOTAL): 13, ("B", TOTAL): 13, (TOTAL, "f"): 17, (TOTAL, "m"): 9, (TOTAL, TOTAL): 26}
    plain = privacy.protect_crosstab(long, COMMITTEE, K, "r", "c", "n")
    assert dict(zip(zip(plain["r"], plain["c"]), plain["n"]))[("A", "m")] == 3
    assert len(privacy.protect_crosstab(long, MINISTER, K, "r", "c", "n", totals=False)) == 4


def test_crosstab_stats_withheld_over_few_cases():
    long = pd.DataFrame({"r": ["A", "B"], "c": ["x", "x"], "n": [3, 20], "median": [2.0, 6.5]})
    out = privacy.protect_crosstab(long, PARTNER, K, "r", "c", "n", totals=False, stats={"median": "n"})
    assert out["median"].tolist() == [None, 6.5]


def test_intrinsic_case_shown_without_upper_bound():
    # a headline total of 8 split into 4 + 4: two "< 5" cells adding up to 8 would both be 4,
    # so one is shown "*" (no upper bound for the reader) instead.
    df = pd.DataFrame({"g": ["a", "b"], "n": [4, 4]})
    out = privacy.protect_table(df, MINISTER, K, ["n"])
    assert sorted(out["n"], key=str) == [S, H] or sorted(out["n"], key=str) == [H, S]
    labels = out[["n"]].to_numpy()
    grid = np.array([[4], [4]])
    seen = attack_labels(np.vstack([grid, [[8]]]), np.vstack([labels, [[8]]]), K, [False] * 3, [True], 2, None)
    assert all(len(v) >= 2 for v in seen.values())


# ---------------------------------------------------------------- properties on random tables
cells = st.sampled_from([0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 8, 12, 20])
tables = st.integers(1, 3).flatmap(lambda r: st.integers(1, 3).flatmap(
    lambda c: st.lists(st.lists(cells, min_size=c, max_size=c), min_size=r, max_size=r)))
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(tables, st.sampled_from([3, 5]))
def test_every_line_with_a_hidden_cell_has_two(rows, k):
    inner = np.array(rows)
    r, c = inner.shape
    out = privacy.protect_crosstab(crosstab_long(inner), MINISTER, k, "r", "c", "n")
    grid = published_grid(out, r, c)
    hidden = np.vectorize(privacy.is_hidden)(grid)
    for line in [*hidden, *hidden.T]:  # rows and columns, margins included
        assert line.sum() != 1
    # nothing shown is small; zeros are shown, unless the table is about very few people
    full = full_grid(inner)
    assert not ((full >= 1) & (full < k) & ~hidden).any()
    if full[r, c] >= 2 * k and (full[:r, :c] >= k).sum() >= 2:
        assert not (hidden & (full == 0)).any()


@FAST
@given(tables, st.sampled_from([3, 5]))
def test_no_small_count_recovered_from_the_margins(rows, k):
    inner = np.array(rows)
    r, c = inner.shape
    full = full_grid(inner)
    out = privacy.protect_crosstab(crosstab_long(inner), MINISTER, k, "r", "c", "n")
    labels = published_grid(out, r, c)
    # the reader's bounds are those of the labels: "< k" is 1..k-1, "*" any number
    seen = attack_labels(full, labels, k, [True] * (r + 1), [True] * (c + 1), r, c, star_low=0)
    for e, values in seen.items():
        assert full[e] in values  # the attacker's model is right
        if 1 <= full[e] < k:
            assert len(values) >= 2, (full.tolist(), labels.tolist(), e)


@FAST
@given(st.lists(cells, min_size=1, max_size=7), st.sampled_from([3, 5]))
def test_one_way_tables_resist_total_minus_shown(values, k):
    df = pd.DataFrame({"g": [f"g{i}" for i in range(len(values))], "n": values})
    out = privacy.protect_table(df, PARTNER, k, ["n"])
    grid = np.array(values + [sum(values)])[:, None]
    labels = np.array(list(out["n"]) + [privacy.hidden_label(k) if 1 <= sum(values) < k else sum(values)],
                      dtype=object)[:, None]
    hidden = [privacy.is_hidden(v) for v in out["n"]]
    assert sum(hidden) != 1 or privacy.is_hidden(labels[-1, 0])
    seen = attack_labels(grid, labels, k, [False] * len(grid), [True], len(values), None, star_low=0)
    for e, vals in seen.items():
        assert grid[e] in vals
        if 1 <= grid[e] < k:
            assert len(vals) >= 2


def test_suppression_is_quick_on_a_large_table():
    import time

    rng = np.random.default_rng(3)
    inner = rng.choice([0, 0, 1, 2, 3, 5, 8, 30, 100], size=(40, 10))
    t0 = time.perf_counter()
    out = privacy.protect_crosstab(crosstab_long(inner), MINISTER, K, "r", "c", "n")
    assert time.perf_counter() - t0 < 5
    hidden = np.vectorize(privacy.is_hidden)(published_grid(out, 40, 10))
    assert all(line.sum() != 1 for line in [*hidden, *hidden.T])


# ---------------------------------------------------------------- differencing across selections
TODAY = date(2026, 6, 15)


def test_aggregate_filters_leave_committee_alone():
    f = Filters(start=date(2026, 1, 15), end=date(2026, 3, 10), today=TODAY, preset="custom", regions=("A", "B"))
    assert privacy.aggregate_filters(f, COMMITTEE) is f


@pytest.mark.parametrize("viewer", [MINISTER, PARTNER, Viewer("s", "partner", regions=("A", "B"))])
def test_aggregate_filters_drop_regions_and_snap_months(viewer):
    f = Filters(start=date(2026, 1, 15), end=date(2026, 3, 10), today=TODAY, preset="custom", regions=("A",),
                scope=viewer.regions, sex=("female", "male"), exploitation=("forced_labour",))
    g = privacy.aggregate_filters(f, viewer)
    # 15 Jan - 10 Mar -> 1 Jan - 31 Mar; region A dropped (all regions of the scope); two sexes -> all;
    # one exploitation type kept
    assert (g.start, g.end, g.regions, g.sex, g.exploitation) == (date(2026, 1, 1), date(2026, 3, 31), (), (),
                                                                  ("forced_labour",))
    assert g.scope == viewer.regions


def test_month_snap_stops_at_today_and_keeps_presets():
    f = Filters(start=date(2026, 5, 3), end=date(2026, 6, 10), today=TODAY, preset="custom")
    g = privacy.aggregate_filters(f, MINISTER)
    assert (g.start, g.end) == (date(2026, 5, 1), TODAY)  # June is not over: up to today
    preset = Filters(start=date(2025, 7, 1), end=TODAY, today=TODAY)  # last 12 months
    assert privacy.aggregate_filters(preset, MINISTER) is preset


def test_admin_only_refuses_everyone_else():
    @privacy.admin_only
    def read(conn, viewer):
        return "read"

    assert read(None, Viewer("a", "admin")) == "read"
    for role in ("committee", "minister", "partner"):
        with pytest.raises(privacy.AccessDenied):
            read(None, Viewer("x", role))


# ---------------------------------------------------------------- differencing attacks on real queries
def _cases(conn, per_region_month: dict):
    """Cases by hand: {(region, 'YYYY-MM'): n}, identified on the 10th of that month."""
    from dashboard import schema

    regions = sorted({r for r, _ in per_region_month})
    conn.execute(schema.regions.insert(), [{"code": r, "name": f"Region {r}"} for r in regions])
    ids = dict(conn.execute(sa.select(schema.regions.c.code, schema.regions.c.id)).all())
    rows, n = [], 0
    for (region, month), count in per_region_month.items():
        for _ in range(count):
            n += 1
            rows.append({"code": f"T-{n:05d}", "region_id": ids[region], "sex": "female", "age_band": "18-20",
                         "trafficking_status": "actual", "identified_on": date.fromisoformat(f"{month}-10"),
                         "case_status": "active", "current_stage": "identification"})
    conn.execute(schema.cases.insert(), rows)


def test_total_minus_the_shown_months_recovers_nothing(engine):
    from dashboard.queries import home

    with engine.begin() as c:
        # January 9, February 2, March 11 (all in region A): 22 in the quarter
        _cases(c, {("A", "2026-01"): 9, ("A", "2026-02"): 2, ("A", "2026-03"): 11})
    f = Filters(start=date(2026, 1, 1), end=date(2026, 3, 31), today=TODAY, preset="custom")
    with engine.connect() as c:
        total = home.cases_identified(c, f)
        months = home.identified_per_month(c, f)
    assert total == 22 and list(months["cases"]) == [9, 2, 11]
    # primary suppression alone gives February away: 22 - 9 - 11 = 2
    naive = privacy.protect(months, MINISTER, K, counts=["cases"])
    assert total - sum(v for v in naive["cases"] if not privacy.is_hidden(v)) == 2
    # with the total taken into account, the smallest other month (9) is hidden too
    shown = privacy.protect_table(months, MINISTER, K, ["cases"])
    assert list(shown["cases"]) == [S, H, 11]
    grid = np.array([[9], [2], [11], [22]])
    labels = np.array([[S], [H], [11], [22]], dtype=object)
    seen = attack_labels(grid, labels, K, [False] * 4, [True], 3, None, star_low=K)
    assert seen[(1, 0)] == {1, 2, 3, 4}  # February: anything from 1 to 4 (January then 10 down to 7)


def _context(url: str, viewer: Viewer, f: Filters):
    from dashboard import ui
    from dashboard.i18n import translator
    from dashboard.settings import load_settings

    settings = load_settings(env={"NRM_DATABASE_URL": url})
    return ui.PageContext(t=translator("en"), viewer=viewer, filters=f, settings=settings)


def test_two_overlapping_selections_recover_nothing_for_a_minister(tmp_path):
    """Regions A 10, B 10, C 2. Choosing {A, B, C} then {A, B} would give C = 2; choosing A,
    then B, would give C = national - A - B = 2. A minister's queries run nationally whatever
    is asked (ui.PageContext.query -> privacy.aggregate_filters), so every answer is 22."""
    from dashboard.db import make_engine
    from dashboard.migrate import upgrade
    from dashboard.queries import home

    url = f"sqlite:///{tmp_path / 'diff.db'}"
    eng = make_engine(url)
    upgrade(eng)
    with eng.begin() as c:
        _cases(c, {("A", "2026-02"): 10, ("B", "2026-02"): 10, ("C", "2026-02"): 2})
    eng.dispose()
    base = Filters(start=date(2026, 1, 1), end=date(2026, 3, 31), today=TODAY, preset="custom")
    selections = [(), ("A", "B", "C"), ("A", "B"), ("A",), ("B",), ("C",), ("A", "C")]
    for viewer in (MINISTER, PARTNER):
        answers = {sel: _context(url, viewer, base.with_(regions=sel)).query(home.cases_identified) for sel in selections}
        assert set(answers.values()) == {22}, answers
        # also when a page passes its own filters
        ctx = _context(url, viewer, base)
        assert ctx.query(home.cases_identified, filters=base.with_(regions=("C",))) == 22
    committee = {sel: _context(url, COMMITTEE, base.with_(regions=sel)).query(home.cases_identified)
                 for sel in [("A", "B"), ("C",)]}
    assert committee == {("A", "B"): 20, ("C",): 2}  # committee members choose freely


def test_overlapping_periods_snap_to_whole_months(tmp_path):
    """15 Jan - 10 Mar minus 15 Jan - 9 Mar would be one day; both run 1 Jan - 31 Mar."""
    ctx = _context("sqlite://", MINISTER, Filters(start=date(2026, 1, 15), end=date(2026, 3, 10), today=TODAY,
                                                   preset="custom"))

    def period(conn, f):
        return (f.start, f.end)

    assert ctx.query(period) == (date(2026, 1, 1), date(2026, 3, 31))
    assert ctx.query(period, filters=ctx.filters.with_(end=date(2026, 3, 9))) == (date(2026, 1, 1), date(2026, 3, 31))
