"""Tests that try to break access control, generically, over whatever query and export
functions exist (modules are discovered, not listed):

- every ``@privacy.case_level`` function refuses ministers and partner staff, and region
  scopes it does not cover, before it touches the database;
- every ``@privacy.admin_only`` function refuses everyone but administrators;
- every public aggregate query ``fn(conn, f, ...)`` gives a region-scoped viewer exactly
  what an explicit choice of their region gives, nothing for another region, and no cell
  naming another region; a function that ignores the region filter altogether must be
  listed in REGION_FREE with the reason;
- case-level functions give a scoped committee member only their region's cases, even
  when asked for another region's case by its code;
- the meeting pack (PDF/XLSX export) for aggregate roles carries no case code, and a
  region-scoped user's pack no other region.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

import dashboard
from dashboard import audit, bootstrap, schema
from dashboard.filters import Filters, preset_range
from dashboard.privacy import AccessDenied, Viewer

TODAY = date.today()
START, END = preset_range("last_12_months", TODAY)
CASE_CODE = re.compile(r"\b[A-Z]{2}-\d{4}-\d{6}\b")  # the demo generator's pseudonymous codes
EMPTY_REGION = "ZZ-EMPTY"

# Functions that legitimately ignore the region filter (reference or plan-level data, the
# same for everyone), with the reason. Anything else that ignores it fails the test.
REGION_FREE = {
    "indicators.projects": "project metadata (codes, titles), not region data",
    "indicators.indicator_list": "indicator definitions",
    "indicators.manual_indicators": "indicator definitions with manual values entered nationally",
    "indicators.value_history": "manual values entered per period nationally",
    "plan.plan_info": "the national action plan's title and dates",
    "plan.lead_options": "organisations that lead activities (reference list)",
    "shelters.review_thresholds": "the country profile's thresholds",
    "flow.organisations_ordered": "the reference list of organisations (f accepted for ctx.query, unused)",
}


def _modules(package):
    out = []
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.name.endswith("__main__"):
            continue
        out.append(importlib.import_module(info.name))
    return out


ALL_MODULES = _modules(dashboard)
QUERY_MODULES = [m for m in ALL_MODULES if m.__name__.startswith("dashboard.queries.")]
EXPORT_MODULES = [m for m in ALL_MODULES if m.__name__.startswith("dashboard.export.")]


def _functions(modules):
    for mod in modules:
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if fn.__module__ == mod.__name__ and not name.startswith("_"):
                yield f"{mod.__name__.split('.')[-1]}.{name}", fn


CASE_LEVEL = sorted({(n, f) for n, f in _functions(ALL_MODULES) if getattr(f, "case_level", False)},
                    key=lambda p: p[0])
ADMIN_ONLY = sorted({(n, f) for n, f in _functions(ALL_MODULES) if getattr(f, "admin_only", False)},
                    key=lambda p: p[0])


def _takes_filters(fn) -> bool:
    params = list(inspect.signature(fn).parameters)
    return len(params) >= 2 and params[0] == "conn" and params[1] in ("f", "filters")


AGGREGATE = [(n, f) for n, f in _functions(QUERY_MODULES) if _takes_filters(f) and not getattr(f, "case_level", False)]


def test_discovery_finds_the_modules():
    assert "dashboard.queries.home" in {m.__name__ for m in QUERY_MODULES}
    assert len(AGGREGATE) >= 5 and CASE_LEVEL and ADMIN_ONLY


# ---------------------------------------------------------------- refusals before any read
class ExplodingConnection:
    """A connection that fails the test if anything is read through it."""

    def __getattr__(self, name):
        raise AssertionError(f"the database was touched ({name}) before the access check")


FILTERS = Filters(start=START, end=END, today=TODAY)


@pytest.mark.parametrize("name, fn", CASE_LEVEL, ids=[n for n, _ in CASE_LEVEL])
@pytest.mark.parametrize("viewer", [Viewer("minister", "minister"), Viewer("partner", "partner"),
                                    Viewer("scoped-minister", "minister", regions=("R1",)), None, "committee"],
                         ids=["minister", "partner", "scoped-minister", "no-viewer", "role-as-text"])
def test_case_level_refuses_aggregate_roles(name, fn, viewer):
    with pytest.raises(AccessDenied):
        fn(ExplodingConnection(), FILTERS, viewer)


@pytest.mark.parametrize("name, fn", CASE_LEVEL, ids=[n for n, _ in CASE_LEVEL])
def test_case_level_refuses_filters_wider_than_the_scope(name, fn):
    focal = Viewer("focal", "committee", regions=("R1",))
    for f in (FILTERS, FILTERS.with_(scope=("R1", "R2")), FILTERS.with_(scope=("R2",))):
        with pytest.raises(AccessDenied):
            fn(ExplodingConnection(), f, focal)


@pytest.mark.parametrize("name, fn", ADMIN_ONLY, ids=[n for n, _ in ADMIN_ONLY])
@pytest.mark.parametrize("role", ["committee", "minister", "partner"])
def test_admin_only_refuses_other_roles(name, fn, role):
    with pytest.raises(AccessDenied):
        fn(ExplodingConnection(), Viewer("x", role))


# ---------------------------------------------------------------- a demo database, two regions looked at
@pytest.fixture(scope="module")
def demo(module_engine):
    bootstrap.fill_demo(module_engine, "mali", 300, seed=11)
    with module_engine.begin() as conn:
        conn.execute(schema.regions.insert().values(code=EMPTY_REGION, name="Empty test region"))
        by_region = conn.execute(
            sa.select(schema.regions.c.code, sa.func.count(schema.cases.c.id))
            .join(schema.cases, schema.cases.c.region_id == schema.regions.c.id)
            .group_by(schema.regions.c.code).order_by(sa.func.count(schema.cases.c.id).desc(), schema.regions.c.code)
        ).all()
        names = dict(conn.execute(sa.select(schema.regions.c.code, schema.regions.c.name)).all())
    mine, other = by_region[0][0], by_region[1][0]
    return {"engine": module_engine, "mine": mine, "other": other, "names": names}


def _codes(conn, table, region_col, region: str) -> list[str]:
    reg = schema.regions
    return list(conn.execute(sa.select(table.c.code).join(reg, reg.c.id == region_col)
                             .where(reg.c.code == region).order_by(table.c.code)).scalars())


def _extra_args(name: str, fn, conn, f: Filters, demo) -> tuple | None:
    """Arguments for required parameters beyond (conn, f), chosen to tempt a leak: codes of
    the *other* region's items. None: no way to call it (reported as a skip)."""
    params = [p for p in list(inspect.signature(fn).parameters.values())[2:]
              if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    if not params:
        return ()
    args = []
    for p in params:
        if name.startswith("plan.") and p.name == "code":
            a, reg = schema.plan_activities, schema.regions
            code = conn.execute(sa.select(a.c.code).join(reg, reg.c.id == a.c.region_id)
                                .where(reg.c.code != demo["mine"]).order_by(a.c.code)).scalar()
            if code is None:
                return None
            args.append(code)  # an activity of another region
        elif name.startswith("indicators.") and p.name == "code":
            from dashboard.queries import indicators

            if name == "indicators.measure":
                args.append(sorted(indicators.COMPUTATIONS)[0])
            else:
                code = conn.execute(sa.select(schema.indicators.c.code).order_by(schema.indicators.c.code)).scalar()
                if code is None:
                    return None
                args.append(code)
        elif p.name == "start":
            args.append(f.start)
        elif p.name == "end":
            args.append(f.end)
        elif p.name == "pairs":
            from dashboard.queries import bottlenecks

            perf = bottlenecks.performance(conn, Filters(start=START, end=END, today=TODAY), by="pair")
            args.append(tuple(zip(perf["from_org"], perf["to_org"]))[:5])
        else:
            return None
    return tuple(args)


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):  # several frames at once (performance_levels)
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
        if a.empty and b.empty:
            return True
        try:
            pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)
            return True
        except AssertionError:
            return False
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        return a.reset_index(drop=True).equals(b.reset_index(drop=True))
    return a == b


def _trivial(result) -> bool:
    """Nothing to see: empty, or only zeros and missing values (no region could differ)."""
    if isinstance(result, dict) and result and all(isinstance(v, pd.DataFrame) for v in result.values()):
        return all(_trivial(v) for v in result.values())
    if isinstance(result, pd.DataFrame):
        numbers = result.select_dtypes("number")
        return result.empty or (not numbers.empty and len(numbers.columns) == len(result.columns)
                                and not numbers.fillna(0).to_numpy().any())
    if isinstance(result, (int, float)):
        return not result
    return False


def _cells(result):
    if isinstance(result, pd.DataFrame):
        for col in result.columns:
            yield from (v for v in result[col] if isinstance(v, str))
    elif isinstance(result, dict):
        for v in result.values():
            if isinstance(v, pd.DataFrame):
                yield from _cells(v)
            elif isinstance(v, str):
                yield v


@pytest.mark.parametrize("name, fn", AGGREGATE, ids=[n for n, _ in AGGREGATE])
def test_region_scope_on_every_aggregate_query(demo, name, fn):
    mine, other = demo["mine"], demo["other"]
    base = Filters(start=START, end=END, today=TODAY)
    with demo["engine"].connect() as conn:
        args = _extra_args(name, fn, conn, base, demo)
        if args is None:
            pytest.skip(f"{name}: no generic arguments for its required parameters")
        scoped = fn(conn, base.with_(scope=(mine,)), *args)
        explicit = fn(conn, base.with_(regions=(mine,)), *args)
        foreign = fn(conn, base.with_(regions=(other,), scope=(mine,)), *args)
        nothing = fn(conn, base.with_(regions=(EMPTY_REGION,)), *args)
        national = fn(conn, base, *args)
    assert _same(scoped, explicit), f"{name}: a scope of {mine} differs from choosing {mine}"
    assert _same(foreign, nothing), f"{name}: choosing {other} outside a scope of {mine} returned data"
    forbidden = {c for c in demo["names"] if c not in (mine,)} | {n for c, n in demo["names"].items() if c != mine}
    leaked = sorted(set(_cells(scoped)) & forbidden)
    assert not leaked, f"{name}: a viewer scoped to {mine} received other regions: {leaked}"
    if _same(explicit, national) and _same(nothing, national) and not _trivial(national):
        assert name in REGION_FREE, (f"{name} gives the same answer for one region, no region and the whole country: "
                                     "it ignores the region filter (or add it to REGION_FREE with the reason)")


@pytest.mark.parametrize("name, fn", CASE_LEVEL, ids=[n for n, _ in CASE_LEVEL])
def test_case_level_rows_stay_in_the_scope(demo, name, fn):
    mine, other = demo["mine"], demo["other"]
    focal = Viewer("focal", "committee", regions=(mine,))
    f = Filters(start=START, end=END, today=TODAY, scope=(mine,))
    params = [p for p in list(inspect.signature(fn).parameters.values())[3:]
              if p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
    with demo["engine"].connect() as conn:
        mine_codes = set(_codes(conn, schema.cases, schema.cases.c.region_id, mine))
        other_codes = _codes(conn, schema.cases, schema.cases.c.region_id, other)
        args = []
        for p in params:
            if p.name == "thresholds":
                from dashboard.export.pack import review_thresholds

                args.append(review_thresholds(conn))
            elif p.name == "code":
                args.append(other_codes[0])  # another region's case, asked for by its code
            else:
                pytest.skip(f"{name}: no generic argument for {p.name}")
        result = fn(conn, f, focal, *args)
    codes = set(CASE_CODE.findall(" ".join(_cells(result))))
    assert codes <= mine_codes, f"{name} gave a focal point of {mine} other regions' cases: {sorted(codes - mine_codes)[:5]}"
    forbidden = {c for c in demo["names"] if c != mine} | {n for c, n in demo["names"].items() if c != mine}
    assert not set(_cells(result)) & forbidden, f"{name} named another region for a focal point of {mine}"
    if any(p.name == "code" for p in params):
        empty = result.empty if isinstance(result, pd.DataFrame) else not result
        assert empty, f"{name} opened case {other_codes[0]} of {other} for a focal point of {mine}"


# ---------------------------------------------------------------- exports
def _pack(demo, viewer, f, agenda=True):
    from dashboard.export import pack as packs
    from dashboard.i18n import translator

    with demo["engine"].connect() as conn:
        ctx = packs.Context(viewer=viewer, k=5, t=translator("en"), country="Mali",
                            region_names=packs.region_names(conn), demo=True, extracted_at=audit.now(),
                            agenda=agenda, charts=False)
        return packs.collect(conn, f, ctx)


def _pack_text(pack) -> str:
    parts = [str(v) for pair in pack.cover for v in pair] + list(pack.notices)
    for section in pack.sections:
        parts += [section.title, section.intro, section.empty, *section.paragraphs]
        for table in section.tables:
            parts.append(table.df.to_csv(index=False))
    return "\n".join(parts)


@pytest.mark.skipif(not any(m.__name__ == "dashboard.export.pack" for m in EXPORT_MODULES), reason="no meeting pack")
@pytest.mark.parametrize("role", ["minister", "partner"])
def test_meeting_pack_has_no_case_codes_for_aggregate_roles(demo, role):
    text = _pack_text(_pack(demo, Viewer(role, role), Filters(start=START, end=END, today=TODAY)))
    assert not CASE_CODE.findall(text)
    committee = _pack_text(_pack(demo, Viewer("c", "committee"), Filters(start=START, end=END, today=TODAY)))
    assert CASE_CODE.findall(committee), "the agenda (case codes) should be in the committee's pack: the check is blind"


@pytest.mark.skipif(not any(m.__name__ == "dashboard.export.pack" for m in EXPORT_MODULES), reason="no meeting pack")
def test_meeting_pack_of_a_focal_point_stays_in_the_region(demo):
    mine = demo["mine"]
    focal = Viewer("focal", "committee", regions=(mine,))
    pack = _pack(demo, focal, Filters(start=START, end=END, today=TODAY, scope=(mine,)))
    with demo["engine"].connect() as conn:
        mine_codes = set(_codes(conn, schema.cases, schema.cases.c.region_id, mine))
    codes = set(CASE_CODE.findall(_pack_text(pack)))
    assert codes and codes <= mine_codes, f"other regions' cases in a focal point's pack: {sorted(codes - mine_codes)[:5]}"
    others = {c for c in demo["names"] if c != mine} | {n for c, n in demo["names"].items() if c != mine}
    for table in pack.tables():
        for col in table.df.columns:
            if "region" in str(col).lower():
                found = set(table.df[col].astype(str)) & others
                assert not found, f"table {table.key}, column {col}: other regions {sorted(found)}"
