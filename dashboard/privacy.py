"""What each role may see, in one place. Every page and export goes through it.

- Case-level rows (one case, its timeline, lists by case code) are for ``admin`` and
  ``committee`` only: functions that return them are decorated with :func:`case_level`,
  which refuses other roles *before* anything is read, and refuses filters that are
  wider than the viewer's region scope.
- Aggregate-only roles (``minister``, ``partner``) never see a count between 1 and k-1:
  :func:`protect` turns such cells into the text "< k" and withholds medians and rates
  computed over fewer than k cases. The same function serves screens and exports.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from dashboard.domain import CASE_LEVEL_ROLES, N_, ROLES


class AccessDenied(PermissionError):
    """The viewer's role or region scope does not allow this read."""


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str
    regions: tuple[str, ...] | None = None  # region scope; None = national
    display_name: str = ""
    can_import: bool = False

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def case_level(self) -> bool:
        return self.role in CASE_LEVEL_ROLES

    @property
    def aggregate_only(self) -> bool:
        return not self.case_level


def check_scope(filters, viewer: Viewer) -> None:
    """Refuse filters that do not carry the viewer's region scope."""
    if viewer.regions is None:
        return
    if filters.scope is None or not set(filters.scope) <= set(viewer.regions):
        raise AccessDenied(f"{viewer.username} is limited to regions {', '.join(viewer.regions)}")


def case_level(fn):
    """Mark a query that returns case-level rows: ``fn(conn, filters, viewer, ...)``."""

    @functools.wraps(fn)
    def guarded(conn, filters, viewer: Viewer, *args, **kwargs):
        if not isinstance(viewer, Viewer) or not viewer.case_level:
            raise AccessDenied(f"role {getattr(viewer, 'role', None)!r} may not read case-level data")
        check_scope(filters, viewer)
        return fn(conn, filters, viewer, *args, **kwargs)

    guarded.case_level = True
    return guarded


def hidden_label(k: int) -> str:
    return f"< {k}"


def is_hidden(value) -> bool:
    """A cell hidden by :func:`protect` ("< k") or by secondary suppression ("*")."""
    return isinstance(value, str) and (value.startswith("< ") or value == SECONDARY_LABEL)


def numeric(series: pd.Series) -> pd.Series:
    """Numbers of a protected column, hidden cells as NaN (for charts)."""
    return pd.to_numeric(series, errors="coerce")


def protect(df: pd.DataFrame, viewer: Viewer, k: int, counts=(), stats: dict | None = None) -> pd.DataFrame:
    """A copy of ``df`` safe to show ``viewer``.

    counts: columns of counts; for aggregate-only viewers a value 1..k-1 becomes "< k".
    stats:  {column: n_column} medians, percentiles or rates computed over n_column cases;
            withheld (None) when n < k. n_column itself should also be listed in counts.
    Committee members and administrators get the frame unchanged.
    """
    if viewer.case_level or df.empty:
        return df.copy()
    out = df.copy()
    for col, n_col in (stats or {}).items():
        n = pd.to_numeric(df[n_col], errors="coerce").fillna(0)
        out[col] = df[col].astype(object).where(n >= k, None)
    label = hidden_label(k)
    for col in counts:
        values = pd.to_numeric(df[col], errors="coerce")
        small = (values >= 1) & (values < k)
        if small.any():
            out[col] = df[col].astype(object).where(~small, label)
    return out


# ---------------------------------------------------------------- secondary suppression
SECONDARY_LABEL = "*"  # a count hidden so that a "< k" cell cannot be worked out from a total
TOTAL = "_total"  # row/column key of the margins added by protect_crosstab
SUPPRESSION_NOTE = N_("“< {k}”: between 1 and {k1}, hidden to protect survivors. “*”: hidden so that such a "
                      "count cannot be worked out from the totals.")

_SHOWN, _PRIMARY, _SECONDARY = 0, 1, 2
_INF = float("inf")


def _as_counts(values) -> np.ndarray:
    x = pd.DataFrame(values).apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(dtype=float)
    return np.rint(x).astype(np.int64)


def suppression_states(x, k: int, row_eq, col_eq, margin_row: int | None = None, margin_col: int | None = None,
                       fixed=None) -> np.ndarray:
    """Which cells of a table to hide: 0 shown, 1 primary ("< k"), 2 secondary ("*").

    ``x`` holds the whole table as published anywhere, margins included: ``margin_row`` /
    ``margin_col`` are the indices of the total row / column (their cells are the sums of
    the others). ``row_eq[i]`` / ``col_eq[j]`` say whether that row / column is an equation
    an attacker can use (its cells add up to a total they know). ``fixed`` (a boolean mask)
    marks cells that may not be hidden to protect another (default: the grand total, a headline
    figure of other pages); a fixed cell is still hidden when it is 1..k-1 itself. Other
    margins may be hidden to protect a cell, like any cell (costlier, being larger): the same
    rule then hides them where they are shown as a one-way breakdown of the grand total.

    Rules, iterated to a fixed point:

    1. primary: a count 1..k-1 is hidden; zeros are shown and never protect anything;
    2. complementary: an equation line with exactly one hidden cell gets its smallest other
       non-zero, non-fixed cell hidden too;
    3. no hidden count may be pinned down: an attacker who knows every shown cell, every
       known total, that "< k" cells are in 1..k-1 and that "*" cells are at least k, must be
       left with at least two possible values for each "< k" cell. A cell can change by one
       without breaking any known total exactly when it lies on a cycle of hidden cells that
       can move by +1/-1 alternately (the cells of a table with margins form a bipartite
       network: rows and columns are nodes, cells are edges), so each "< k" cell is checked
       for such a cycle, and where there is none the cheapest set of further cells that
       closes one is hidden (a shortest path, cost = the counts hidden). Where even that is
       impossible (the known totals are too small), the check is repeated for an attacker who
       only reads the labels ("*" at least 1) and the cheapest cycle for that attacker is used;
       where even that is impossible (e.g. a headline total of 8 split into two cells "< 5"),
       the cell itself is shown as "*" rather than "< k" (no upper bound for the reader).

    A fixed total of 1..k-1 (fewer than k people in the whole table, or in a column of a
    table without row totals) withholds every cell under it, zeros included ("*").

    Guarantee (tested against an exhaustive attacker): every cell 1..k-1 keeps at least two
    possible values for a reader who knows the shown cells, the totals, and the labels'
    bounds ("< k": 1..k-1; "*": at least 1, or at least 0 under a total of fewer than k); in
    most tables also for one who knows that "*" cells are at least k.
    """
    x = np.asarray(x, dtype=np.int64)
    nr, nc = x.shape
    state = np.zeros((nr, nc), dtype=np.int8)
    state[(x >= 1) & (x < k)] = _PRIMARY
    sign = np.ones((nr, nc), dtype=np.int64)
    if margin_row is not None:
        sign[margin_row, :] *= -1
    if margin_col is not None:
        sign[:, margin_col] *= -1
    if fixed is None:
        frozen = np.zeros((nr, nc), dtype=bool)
        if margin_row is not None and margin_col is not None:
            frozen[margin_row, margin_col] = True
    else:
        frozen = np.asarray(fixed, dtype=bool).copy()
    row_eq, col_eq = list(row_eq), list(col_eq)

    def rnode(i):
        return ("r", i) if row_eq[i] else "S"

    def cnode(j):
        return ("c", j) if col_eq[j] else "S"

    def candidate(i, j):
        return state[i, j] == _SHOWN and x[i, j] > 0 and not frozen[i, j]

    def lines():
        for i in range(nr):
            if row_eq[i]:
                yield [(i, j) for j in range(nc)]
        for j in range(nc):
            if col_eq[j]:
                yield [(i, j) for i in range(nr)]

    def complementary() -> None:
        changed = True
        while changed:
            changed = False
            for line in lines():
                hidden = [e for e in line if state[e]]
                if len(hidden) != 1:
                    continue
                options = [e for e in line if candidate(*e)]
                if options:
                    state[min(options, key=lambda e: (x[e], e))] = _SECONDARY
                    changed = True

    def bounds(e, secondary_low):
        """(low, high) of the cell's y = sign * x for the attacker, or None when it is known."""
        if state[e] == _PRIMARY:
            lo, hi = 1, k - 1
        elif withheld[e]:
            lo, hi = 0, _INF
        elif relabelled[e]:
            lo, hi = 1, _INF
        elif state[e] == _SECONDARY or candidate(*e):
            lo, hi = secondary_low, _INF
        else:
            return None
        return (lo, hi) if sign[e] > 0 else (-hi, -lo)

    def arcs(skip, secondary_low, with_candidates):
        """Directed residual arcs: (from, to, cost, cell); +1 on y goes row -> column."""
        out: dict = {}
        for i in range(nr):
            for j in range(nc):
                e = (i, j)
                if e == skip or not (state[e] or (with_candidates and candidate(i, j))):
                    continue
                b = bounds(e, secondary_low)
                if b is None:
                    continue
                y = sign[e] * x[e]
                cost = 0 if state[e] else int(x[e])
                if y + 1 <= b[1]:
                    out.setdefault(rnode(i), []).append((cnode(j), cost, e))
                if y - 1 >= b[0]:
                    out.setdefault(cnode(j), []).append((rnode(i), cost, e))
        return out

    def cheapest(graph, start, goal):
        """Cheapest path start -> goal: (cost, cells on it), or None."""
        import heapq

        if start == goal:
            return 0, []
        best = {start: (0, 0)}
        heap = [(0, 0, repr(start), start, ())]
        while heap:
            cost, n, _, node, path = heapq.heappop(heap)
            if node == goal:
                return cost, list(path)
            if best.get(node, (cost, n)) < (cost, n):
                continue
            for nxt, c, e in graph.get(node, ()):
                key = (cost + c, n + (c > 0))
                if nxt not in best or key < best[nxt]:
                    best[nxt] = key
                    heapq.heappush(heap, (key[0], key[1], repr(nxt), nxt, path + (e,)))
        return None

    def repair(e, secondary_low, with_candidates):
        """The cells to hide so that ``e`` can move (None: impossible)."""
        i, j = e
        b = bounds(e, secondary_low)
        y = sign[e] * x[e]
        graph = arcs(e, secondary_low, with_candidates)
        options = []
        if y + 1 <= b[1]:
            found = cheapest(graph, cnode(j), rnode(i))
            if found:
                options.append(found)
        if y - 1 >= b[0]:
            found = cheapest(graph, rnode(i), cnode(j))
            if found:
                options.append(found)
        if not options:
            return None
        cost, path = min(options, key=lambda o: (o[0], len(o[1])))
        return [c for c in path if not state[c]]

    relabelled = np.zeros((nr, nc), dtype=bool)
    withheld = np.zeros((nr, nc), dtype=bool)
    # A headline total of fewer than k: the split of so few people is not shown at all (zeros
    # included, or "1 + 1 + 1 + 1 < 5" would say each is 1).
    for i, j in zip(*np.nonzero(frozen & (state == _PRIMARY))):
        if i == margin_row and j == margin_col:
            cover = np.ones((nr, nc), dtype=bool)
        elif i == margin_row:
            cover = np.zeros((nr, nc), dtype=bool)
            cover[:, j] = True
        elif j == margin_col:
            cover = np.zeros((nr, nc), dtype=bool)
            cover[i, :] = True
        else:
            continue
        cover &= ~frozen
        state[cover], withheld[cover] = _SECONDARY, True
    complementary()
    pending = [(i, j) for i in range(nr) for j in range(nc) if state[i, j] == _PRIMARY]
    while pending:
        e = pending[0]
        if rnode(e[0]) == cnode(e[1]) == "S" or repair(e, k, False) == []:
            pending.pop(0)  # it can move already
            continue
        cells = repair(e, k, True)
        if not cells:
            cells = repair(e, 1, True)
            if cells == []:  # it can move for an attacker who only reads the labels
                pending.pop(0)
                continue
        if cells:
            for c in cells:
                state[c] = _SECONDARY
            complementary()
        elif state[e] == _PRIMARY:
            # The known totals alone nearly give it away (say 8 = two cells "< 5"): show it
            # as "*" (no upper bound for the reader) and check it again.
            state[e], relabelled[e] = _SECONDARY, True
        else:
            # still pinned by small totals on its lines ("< 5" = 1 + 1 + 1 + 1): show those as "*" too
            line = [(e[0], j) for j in range(nc)] + [(i, e[1]) for i in range(nr)]
            small = [c for c in line if state[c] == _PRIMARY and not frozen[c]]
            for c in small:
                state[c], relabelled[c] = _SECONDARY, True
            # or by the number of non-zero cells ("1 + 1 + 1 = 3"): withhold the zeros of its lines
            zeros = [] if small else [c for c in line if state[c] == _SHOWN and x[c] == 0 and not frozen[c]]
            for c in zeros:
                state[c], withheld[c] = _SECONDARY, True
            if not small and not zeros:
                pending.pop(0)
    return state


def _label_cells(values: pd.Series, states, k: int) -> pd.Series:
    out = values.astype(object).copy()
    states = np.asarray(states)
    if (states == _PRIMARY).any():
        out[states == _PRIMARY] = hidden_label(k)
    if (states == _SECONDARY).any():
        out[states == _SECONDARY] = SECONDARY_LABEL
    return out


def _withhold_stats(out: pd.DataFrame, df: pd.DataFrame, k: int, stats: dict | None) -> None:
    for col, n_col in (stats or {}).items():
        n = pd.to_numeric(df[n_col], errors="coerce").fillna(0)
        out[col] = df[col].astype(object).where(n >= k, None)


def protect_table(df: pd.DataFrame, viewer: Viewer, k: int, counts, total_row: tuple | None = None,
                  total_col: str | None = None, across: bool = False, stats: dict | None = None) -> pd.DataFrame:
    """A wide table (one row per category, ``counts`` = count columns) safe to show ``viewer``,
    with primary *and* secondary suppression.

    Down each count column the rows are parts of a total that is published (in the row
    ``total_row`` = (column, value), or elsewhere: a headline figure, another page), so the
    rows are protected against "total minus the shown rows". With ``across`` (implied by
    ``total_col``, the column holding each row's total) the count columns are also parts of
    each row's total (e.g. women, men, unknown). The grand total (or, without ``across``, each
    column's total) is never hidden to protect a cell, being a headline figure elsewhere; it
    is hidden only when it is 1..k-1 itself.
    stats: {column: n_column} withheld when n < k, as in :func:`protect`.
    Committee members and administrators get the frame unchanged."""
    counts = list(counts)
    if viewer.case_level or df.empty:
        return df.copy()
    out = df.copy()
    _withhold_stats(out, df, k, stats)
    is_total = np.zeros(len(df), dtype=bool)
    if total_row is not None:
        is_total = (df[total_row[0]] == total_row[1]).to_numpy()
    cols = counts + ([total_col] if total_col else [])
    across = across or total_col is not None
    inner = _as_counts(df.loc[~is_total, counts].to_numpy())
    n_inner = inner.shape[0]
    # the whole table: inner rows, then the total row; inner columns, then the row totals
    grid = np.zeros((n_inner + 1, len(counts) + 1), dtype=np.int64)
    grid[:n_inner, : len(counts)] = inner
    grid[n_inner, : len(counts)] = (_as_counts(df.loc[is_total, counts].to_numpy())[0] if is_total.any()
                                    else inner.sum(axis=0))
    if total_col:
        grid[:n_inner, len(counts)] = _as_counts(df.loc[~is_total, [total_col]].to_numpy())[:, 0]
        grid[n_inner, len(counts)] = (_as_counts(df.loc[is_total, [total_col]].to_numpy())[0, 0] if is_total.any()
                                      else grid[:n_inner, len(counts)].sum())
    else:
        grid[:, len(counts)] = grid[:, : len(counts)].sum(axis=1)
    fixed = np.zeros(grid.shape, dtype=bool)
    if across:
        fixed[n_inner, len(counts)] = True  # the grand total
    else:
        fixed[n_inner, :] = True  # each column's total: a headline figure of its own
    states = suppression_states(grid, k, row_eq=[across] * (n_inner + 1),
                                col_eq=[True] * len(counts) + [across], margin_row=n_inner, margin_col=len(counts),
                                fixed=fixed)
    positions = np.flatnonzero(~is_total)
    total_pos = np.flatnonzero(is_total)
    for j, col in enumerate(cols):
        s = np.zeros(len(df), dtype=np.int8)
        s[positions] = states[:n_inner, j]
        if len(total_pos):
            s[total_pos] = states[n_inner, j]
        out[col] = _label_cells(out[col], s, k)
    return out


def protect_crosstab(df: pd.DataFrame, viewer: Viewer, k: int, row: str, col: str, value: str,
                     totals: bool = True, stats: dict | None = None) -> pd.DataFrame:
    """A long cross-tab (``row``, ``col``, ``value`` = count; one line per cell, missing cells
    count as 0) safe to show ``viewer``: primary suppression, then secondary suppression so no
    hidden cell can be recovered from the row totals, the column totals and the grand total,
    which are assumed published (they are, on other pages). ``totals``: add the margins to
    the result as lines whose ``row`` and/or ``col`` is :data:`TOTAL` (protected the same way).
    stats: {column: n_column} withheld when n < k. Committee members and administrators get
    every figure (and the margins when ``totals``)."""
    rows = list(dict.fromkeys(df[row]))
    cols = list(dict.fromkeys(df[col]))
    grid = np.zeros((len(rows) + 1, len(cols) + 1), dtype=np.int64)
    ri = {r: i for i, r in enumerate(rows)}
    ci = {c: j for j, c in enumerate(cols)}
    values = _as_counts(df[[value]].to_numpy())[:, 0]
    for r, c, v in zip(df[row], df[col], values):
        grid[ri[r], ci[c]] += v
    grid[-1, :-1] = grid[:-1, :-1].sum(axis=0)
    grid[:-1, -1] = grid[:-1, :-1].sum(axis=1)
    grid[-1, -1] = grid[:-1, :-1].sum()
    out = df.copy()
    if totals:
        margin = [{row: r, col: TOTAL, value: int(grid[ri[r], -1])} for r in rows]
        margin += [{row: TOTAL, col: c, value: int(grid[-1, ci[c]])} for c in cols]
        margin.append({row: TOTAL, col: TOTAL, value: int(grid[-1, -1])})
        out = pd.concat([out, pd.DataFrame(margin)], ignore_index=True)
    if viewer.case_level or df.empty:
        return out
    base = out.copy()
    _withhold_stats(out, base.fillna({n: 0 for n in (stats or {}).values()}), k, stats)
    states = suppression_states(grid, k, row_eq=[True] * len(grid), col_eq=[True] * grid.shape[1],
                                margin_row=len(rows), margin_col=len(cols))
    ri[TOTAL], ci[TOTAL] = len(rows), len(cols)
    s = np.array([states[ri[r], ci[c]] for r, c in zip(out[row], out[col])], dtype=np.int8)
    out[value] = _label_cells(out[value], s, k)
    return out



# ---------------------------------------------------------------- differencing across selections
def month_start(d: date) -> date:
    return d.replace(day=1)


def month_end(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def aggregate_filters(filters, viewer: Viewer):
    """The filters an aggregate-only viewer's query really runs with (every query goes
    through it in ``ui.PageContext.query``, whatever the URL or the page asked for).

    Two selections whose difference is one small group would give its count away: regions
    A, B, C minus regions A, C = region B; and with one region at a time, the national total
    minus each other region (all ≥ k, all shown) = the one region shown as "< k". So for
    ministers and partner staff:

    - no region selection: figures cover every region of their scope (national, or all of
      a scoped account's regions); figures by region come in tables protected with
      :func:`protect_table` / :func:`protect_crosstab`, whose totals are taken into account;
    - sex and exploitation type: all, or one (a list of several falls back to all);
    - dates are at month precision: a custom period runs from the first day of its first
      month to the last day of its last month (no later than today).

    Committee members and administrators get ``filters`` unchanged. What remains possible
    (one period minus another) is described in docs/PRIVACY.md.
    """
    if viewer.case_level:
        return filters
    changes = {}
    if filters.regions:
        changes["regions"] = ()
    for name in ("sex", "exploitation"):
        if len(getattr(filters, name)) > 1:
            changes[name] = ()
    start = month_start(filters.start)
    end = max(start, min(month_end(filters.end), max(filters.today, filters.end)))
    if (start, end) != (filters.start, filters.end):
        changes.update(start=start, end=end)
    return filters.with_(**changes) if changes else filters


def admin_only(fn):
    """Mark a read or write that only administrators may make: ``fn(conn, viewer, ...)``
    (the audit log, user accounts). Refused before anything is read."""

    @functools.wraps(fn)
    def guarded(conn, viewer: Viewer, *args, **kwargs):
        if not isinstance(viewer, Viewer) or viewer.role != "admin":
            raise AccessDenied(f"role {getattr(viewer, 'role', None)!r} may not read the audit log or user accounts")
        return fn(conn, viewer, *args, **kwargs)

    guarded.admin_only = True
    return guarded
