"""Streamlit glue shared by every page: the engine, the page context (translator,
viewer, filters), cached queries, privacy, and small shared widgets.

Pages stay thin: ``ctx = ui.context()``, then ``ctx.query(module.function)``, then a
chart from dashboard.charts. Queries never import this module.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st
import sqlalchemy as sa

from dashboard import bootstrap, privacy, schema
from dashboard.db import DatabaseUnavailable
from dashboard.filters import PRESETS, Filters, preset_range
from dashboard.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, translator
from dashboard.privacy import Viewer
from dashboard.settings import Settings, load_settings

_TTL = load_settings().cache_ttl
_prepare_lock = threading.Lock()


def settings() -> Settings:
    """Settings as they are now (environment, then secrets.toml); cheap to call."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def engine_for(url: str):
    """One engine per database URL for the whole server process (first call migrates,
    and on the embedded default fills demo data)."""
    current = load_settings()
    with _prepare_lock:
        if url != current.database_url:
            current = current.with_(database_url=url, database_is_default=False)
        return bootstrap.prepare(current)


def engine():
    return engine_for(load_settings().database_url)


@st.cache_data(ttl=_TTL, show_spinner=False, max_entries=4000)
def _cached(url: str, key: str, _fn, _filters, _args, _kwargs):
    try:
        with engine_for(url).connect() as conn:
            return _fn(conn, _filters, *_args, **_kwargs)
    except sa.exc.OperationalError as exc:
        raise DatabaseUnavailable(str(exc.orig) if exc.orig else str(exc)) from exc


def clear_caches() -> None:
    """After a write (import, form): every cached figure is recomputed."""
    _cached.clear()
    reference_data.clear()
    chart_spec.clear()


@st.cache_data(ttl=_TTL, show_spinner=False)
def reference_data(url: str) -> dict:
    with engine_for(url).connect() as conn:
        regions = conn.execute(sa.select(schema.regions.c.code, schema.regions.c.name).order_by(schema.regions.c.name)).all()
        demo = bootstrap.is_demo(conn)
        country = bootstrap.meta_value(conn, "country")
    return {"regions": dict(regions), "demo": demo, "country": country}


@dataclass
class PageContext:
    t: Translator
    viewer: Viewer
    filters: Filters
    settings: Settings

    @property
    def lang(self) -> str:
        return self.t.lang

    def _(self, message: str) -> str:
        return self.t.gettext(message)

    # -- data
    def query(self, fn, *args, filters: Filters | None = None, **kwargs) -> pd.DataFrame:
        """Run an aggregate query ``fn(conn, filters, *args, **kwargs)``, cached with a TTL.
        The filters already carry the viewer's region scope."""
        f = self.filters if filters is None else filters
        f = privacy.aggregate_filters(f, self.viewer)  # one region or all, whole months (differencing)
        key = repr((fn.__module__, fn.__qualname__, f, args, sorted(kwargs.items())))
        return _cached(self.settings.database_url, key, fn, f, args, kwargs)

    def case_query(self, fn, *args, **kwargs) -> pd.DataFrame:
        """Run a case-level query ``fn(conn, filters, viewer, ...)`` (refused for other roles
        by the function itself). Cached per viewer."""
        key = repr((fn.__module__, fn.__qualname__, self.filters, self.viewer, args, sorted(kwargs.items())))
        return _cached(self.settings.database_url, key, fn, self.filters, (self.viewer, *args), kwargs)

    def protect(self, df: pd.DataFrame, counts=(), stats: dict | None = None) -> pd.DataFrame:
        return privacy.protect(df, self.viewer, self.settings.k, counts=counts, stats=stats)

    def protect_table(self, df: pd.DataFrame, counts, **kwargs) -> pd.DataFrame:
        """privacy.protect_table: primary and secondary suppression of a table whose total is known."""
        return privacy.protect_table(df, self.viewer, self.settings.k, counts, **kwargs)

    def protect_crosstab(self, df: pd.DataFrame, row: str, col: str, value: str, **kwargs) -> pd.DataFrame:
        """privacy.protect_crosstab: primary and secondary suppression of a cross-tab with margins."""
        return privacy.protect_crosstab(df, self.viewer, self.settings.k, row, col, value, **kwargs)

    def label(self, labels: dict, code) -> str:
        return self.t.label(labels, code)

    def chart(self, chart, *args, on_select="ignore", key=None, selection_mode=None, width="stretch", **kwargs):
        """Draw a chart with axes in the session's language (use it instead of st.altair_chart).

        Preferred: ``ctx.chart(builder, *args, **kwargs)`` with a chart builder of
        dashboard.charts and its arguments. The Vega-Lite spec (with its data as Arrow bytes) is
        then built once per distinct input and language and cached with the queries' TTL, so
        a warm run or another person on the same page skips Altair's build and schema
        validation entirely (they are most of a page's own time). An Altair chart object is
        also accepted (built and converted on every run)."""
        if not callable(chart) or hasattr(chart, "to_dict"):
            if args or kwargs:
                raise TypeError("arguments are for a chart builder, not for a chart object")
            from dashboard.charts import localize

            extra = {} if selection_mode is None else {"selection_mode": selection_mode}
            return st.altair_chart(localize(chart, self.lang), on_select=on_select, key=key, width=width, **extra)
        spec = chart_spec(f"{chart.__module__}.{chart.__qualname__}", self.lang, args, kwargs, _builder=chart)
        extra = {} if selection_mode is None else {"selection_mode": selection_mode}
        return st.vega_lite_chart(spec=dict(spec), on_select=on_select, key=key, width=width, **extra)


@st.cache_data(ttl=_TTL, show_spinner=False, max_entries=2000)
def chart_spec(name: str, lang: str, args: tuple, kwargs: dict, _builder) -> dict:
    """The Vega-Lite spec of ``_builder(*args, **kwargs)`` localised to ``lang``, converted
    exactly as st.altair_chart converts it (Streamlit's own converter: same spec, data as
    Arrow bytes), keyed by the builder's name and its hashed arguments."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    from dashboard.charts import localize

    return _convert_altair_to_vega_lite_spec(localize(_builder(*args, **kwargs), lang))


_CTX_KEY = "_nrm_page_context"


def set_context(ctx: PageContext) -> None:
    st.session_state[_CTX_KEY] = ctx


def context() -> PageContext:
    """The context app.py built for this run (pages call this first)."""
    ctx = st.session_state.get(_CTX_KEY)
    if ctx is None:
        st.stop()
    return ctx


# ---------------------------------------------------------------- widgets
def language_selector() -> Translator:
    params_lang = st.query_params.get("lang")
    if "lang" not in st.session_state:
        st.session_state["lang"] = params_lang if params_lang in LANGUAGES else LANGUAGES[0]
    lang = st.sidebar.radio(
        "Langue / Language", LANGUAGES, key="lang", format_func=LANGUAGE_NAMES.get, horizontal=True,
    )
    st.query_params["lang"] = lang
    return translator(lang)


FILTER_KEYS = ("flt_regions", "flt_period", "flt_range")


def seed_filter_state(state, params: dict, today: date, allowed: set[str], scope) -> None:
    """Give each filter widget missing from ``state`` (session state) its value from the URL
    ``params``, on every run, not only once per session: Streamlit drops a widget's state when
    a page change reaches the server before the browser has reported that widget (signing in,
    then the re-login cookie's rerun), and a selectbox without state silently falls back to
    its first option ("this quarter"). The URL holds the filters of the last run
    (sidebar_filters writes them back), so a dropped filter comes back as it was."""
    missing = [key for key in FILTER_KEYS if key not in state]
    if not missing:
        return
    base = Filters.from_params(params, today, known_regions=allowed, scope=scope)
    initial = {"flt_regions": list(base.regions), "flt_period": base.preset, "flt_range": (base.start, base.end)}
    for key in missing:
        state[key] = initial[key]


def sidebar_filters(t: Translator, viewer: Viewer, regions: dict[str, str], today: date) -> Filters:
    """Region and period filters, shared by all pages and kept in the URL."""
    _ = t.gettext
    allowed = {c: n for c, n in regions.items() if viewer.regions is None or c in viewer.regions}
    seed_filter_state(st.session_state, dict(st.query_params), today, set(allowed), viewer.regions)
    st.sidebar.subheader(_("Filters"))
    label_regions = _("Regions")
    if viewer.regions is not None:
        st.sidebar.caption(_("Your account covers: {regions}").format(regions=", ".join(allowed.values())))
    all_label = _("All regions") if viewer.regions is None else _("All my regions")
    if viewer.aggregate_only:
        # no region choice (privacy.aggregate_filters): national minus the other regions one by one
        # would give a small region's count away; regional figures come in protected tables
        st.sidebar.caption(_("Figures cover every region: with aggregate figures only, regions cannot be chosen, "
                             "so that no small count can be worked out by subtraction.") if viewer.regions is None else
                           _("Figures cover all your regions together: with aggregate figures only, regions cannot "
                             "be chosen, so that no small count can be worked out by subtraction."))
        chosen = ()
    else:
        st.sidebar.multiselect(label_regions, list(allowed), key="flt_regions", format_func=allowed.get,
                               placeholder=all_label)
        chosen = tuple(st.session_state["flt_regions"])
    preset_labels = {
        "this_quarter": _("This quarter"),
        "last_quarter": _("Last quarter"),
        "year_to_date": _("Year to date"),
        "last_12_months": _("Last 12 months"),
        "custom": _("Custom range"),
    }
    preset = st.sidebar.selectbox(_("Period"), PRESETS, key="flt_period", format_func=preset_labels.get)
    if preset == "custom":
        picked = st.sidebar.date_input(_("From – to"), key="flt_range", max_value=today, format="DD/MM/YYYY")
        if isinstance(picked, (list, tuple)) and len(picked) == 2:
            start, end = picked
        else:
            st.sidebar.warning(_("Pick both the first and the last day."))
            start, end = st.session_state.get("flt_last_range", preset_range("last_12_months", today))
    else:
        start, end = preset_range(preset, today)
    st.session_state["flt_last_range"] = (start, end)
    filters = Filters(start=start, end=end, today=today, preset=preset, regions=chosen, scope=viewer.regions)
    snapped = privacy.aggregate_filters(filters, viewer)
    if (snapped.start, snapped.end) != (filters.start, filters.end):
        st.sidebar.caption(_("Figures for ministers and partners cover whole months."))
    filters = snapped
    st.sidebar.caption(_("Period: {period}").format(period=t.period(filters.start, filters.end)))
    for key in ("period", "from", "to", "regions"):
        if key in st.query_params and key not in filters.to_params():
            del st.query_params[key]
    for key, value in filters.to_params().items():
        if key in ("period", "from", "to", "regions"):
            st.query_params[key] = value
    return filters


def metric(label: str, value: str, help: str | None = None, delta: str | None = None, delta_color: str = "normal",
           **kwargs) -> None:
    """st.metric with a border; extra keywords (chart_data, delta_description, delta_arrow, ...) pass through."""
    st.metric(label, value, delta=delta, help=help, delta_color=delta_color, border=True, **kwargs)


def empty_notice(t: Translator, what: str | None = None) -> None:
    st.info(what or t.gettext("Nothing in this selection: try a longer period or more regions."), icon=":material/info:")


def database_down(t: Translator, detail: str) -> None:
    _ = t.gettext
    st.error(_("The database cannot be reached right now. Nothing has been lost: try again in a few minutes, "
               "or ask the administrator to check the database server."), icon=":material/cloud_off:")
    with st.expander(_("Technical detail")):
        st.code(detail)


def show_dataframe(df: pd.DataFrame, columns: dict | None = None, **kwargs) -> None:
    """A table with translated headers (``columns`` maps column -> label)."""
    shown = df.rename(columns=columns) if columns else df
    st.dataframe(shown, hide_index=True, width="stretch", **kwargs)
