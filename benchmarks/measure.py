"""Measure one page in a fresh process (so the peak memory is that page's own):

    python -m benchmarks.measure --db sqlite:///benchmarks/data/mali-10000.db --page shelters --json out.json

1. The page's full script run with Streamlit's AppTest (app.py + the page, signed in as
   ``committee``, or ``admin`` for a page the committee does not have), as tests/apptest.py
   does: one unmeasured run first (imports, compiling), then ``--runs`` times: clear
   ``st.cache_data`` and run (cold), then run ``--warm`` times again (warm).
2. During the first cold run: every query function the page calls through ``ctx.query`` /
   ``ctx.case_query`` (``dashboard.ui._cached`` wrapped to record function, filters and
   arguments), and every SQL statement any code sent to the database (SQLAlchemy cursor
   events), with its parameters.
3. Bytes sent: the sum of ``ByteSize()`` of the ForwardMsg *delta* protobufs one warm run
   enqueues for the browser (every element, chart spec with its inline data, dataframe Arrow
   bytes; the websocket frames carry exactly these). Media files served over HTTP (images,
   downloads) are not included.
4. Peak memory: ``ru_maxrss`` of this process after the AppTest runs (before 5 and 6).
5. The SQL floor: the recorded statements replayed directly (``exec_driver_sql`` + fetch),
   median of ``--runs``; and each recorded query function replayed directly on a connection,
   timed one by one (names the query that bounds the page).
6. The naive baseline (benchmarks.naive): read every table those statements touch into
   pandas and compute the page's main aggregates there.

Prints (or writes with --json) one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT|SAVEPOINT|RELEASE|ROLLBACK)\b", re.I)


def _median(xs):
    return statistics.median(xs) if xs else None


def tables_in(statements: list[str]) -> list[str]:
    from dashboard import schema

    names = set(schema.metadata.tables)
    found = set()
    for sql in statements:
        for m in re.finditer(r'\b(?:FROM|JOIN)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', sql, re.I):
            if m.group(1) in names:
                found.add(m.group(1))
    return sorted(found)


def measure(db_url: str, url_path: str, runs: int = 3, warm: int = 2, lang: str = "en", naive_runs: int = 1) -> dict:
    os.environ["NRM_DATABASE_URL"] = db_url
    os.environ["NRM_LOGIN_SLEEP"] = "0"
    sys.path.insert(0, str(ROOT))

    import sqlalchemy as sa
    import streamlit as st
    from streamlit.runtime.forward_msg_queue import ForwardMsgQueue
    from streamlit.testing.v1 import AppTest

    from dashboard import audit, ui
    from dashboard.db import make_engine
    from dashboard.navigation import PAGES

    spec = next(p for p in PAGES if p.url_path == url_path)
    user = "committee" if "committee" in spec.roles else "admin"
    out: dict = {"page": url_path, "user": user, "db": db_url.split("@")[-1], "errors": []}

    # -- bytes: count what the script enqueues for the browser
    sent = {"on": False, "bytes": 0, "deltas": 0, "largest": []}
    original_enqueue = ForwardMsgQueue.enqueue

    def counting_enqueue(self, msg):
        if sent["on"] and msg.WhichOneof("type") == "delta":
            size = msg.ByteSize()
            sent["bytes"] += size
            sent["deltas"] += 1
            kind = msg.delta.new_element.WhichOneof("type") if msg.delta.HasField("new_element") else \
                msg.delta.WhichOneof("type")
            sent["largest"].append((size, kind))
        return original_enqueue(self, msg)

    ForwardMsgQueue.enqueue = counting_enqueue

    # -- the page's query functions
    calls: dict[str, tuple] = {}
    recording = {"on": False}
    original_cached = ui._cached

    def recording_cached(url, key, _fn, _filters, _args, _kwargs):
        if recording["on"] and key not in calls:
            calls[key] = (_fn, _filters, _args, _kwargs)
        return original_cached(url, key, _fn, _filters, _args, _kwargs)

    recording_cached.clear = original_cached.clear
    ui._cached = recording_cached

    # -- every statement sent to the database
    statements: list[tuple[str, object]] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if recording["on"] and not executemany and not WRITE.match(statement):
            statements.append((statement, parameters))

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", on_execute)

    # -- the page through AppTest, signed in as tests/apptest.py does
    at = AppTest.from_file(APP, default_timeout=900)
    at.session_state["lang"] = lang
    at.session_state["authentication_status"] = True
    at.session_state["username"] = user
    at.session_state["name"] = user
    at.session_state["login_at"] = audit.now()
    at.run()
    at.switch_page(spec.file).run()  # first run: imports and compiling, not measured
    if at.exception:
        out["errors"].append(str(at.exception[0].message)[:500])
        return out

    cold, warm_times = [], []
    for i in range(runs):
        st.cache_data.clear()
        recording["on"] = i == 0
        t0 = time.perf_counter()
        at.run()
        cold.append(time.perf_counter() - t0)
        recording["on"] = False
        for _ in range(warm):
            t0 = time.perf_counter()
            at.run()
            warm_times.append(time.perf_counter() - t0)
        if at.exception:
            out["errors"].append(str(at.exception[0].message)[:500])
            return out
    sent["on"] = True
    at.run()
    sent["on"] = False
    out.update(
        cold_s=_median(cold), cold_all=cold, warm_s=_median(warm_times), warm_all=warm_times,
        bytes_sent=sent["bytes"], deltas=sent["deltas"],
        largest_elements=[[kind, size] for size, kind in sorted(sent["largest"], reverse=True)[:3]],
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        title=at.title[0].value if at.title else "",
        elements={"metrics": len(at.metric), "charts": len(at.get("vega_lite_chart")),
                  "dataframes": len(at.dataframe)},
    )
    ForwardMsgQueue.enqueue = original_enqueue
    ui._cached = original_cached
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", on_execute)

    # -- the SQL floor: the same statements, straight to the database
    engine = make_engine(db_url)

    def replay_statements() -> float:
        t0 = time.perf_counter()
        with engine.connect() as conn:
            for sql, params in statements:
                (conn.exec_driver_sql(sql, params) if params else conn.exec_driver_sql(sql)).fetchall()
        return time.perf_counter() - t0

    replay_statements()  # connect, warm the pool
    out["statements"] = len(statements)
    out["sql_s"] = _median([replay_statements() for _ in range(runs)])

    fn_times: dict[str, list[float]] = {}
    for _ in range(runs):
        for key, (fn, f, args, kwargs) in calls.items():
            t0 = time.perf_counter()
            with engine.connect() as conn:
                fn(conn, f, *args, **kwargs)
            fn_times.setdefault(f"{fn.__module__.removeprefix('dashboard.queries.')}.{fn.__qualname__}", []).append(
                time.perf_counter() - t0)
    per_fn = {name: _median(ts) * len(ts) / runs for name, ts in fn_times.items()}  # same fn, several args: summed
    out["query_fns"] = len(calls)
    out["query_fns_s"] = sum(per_fn.values()) if per_fn else 0.0
    out["slowest_queries"] = sorted(([n, round(s, 4)] for n, s in per_fn.items()), key=lambda x: -x[1])[:3]

    # -- the naive baseline
    from benchmarks import naive

    touched = tables_in([s for s, _ in statements])
    out["tables"] = touched
    filters = next((f for _, f, _, _ in calls.values()), None)
    times, rows = [], 0
    for _ in range(naive_runs):
        t0 = time.perf_counter()
        rows = naive.run(url_path, engine, touched, filters)
        times.append(time.perf_counter() - t0)
    out["naive_s"] = _median(times)
    out["naive_rows_read"] = rows
    engine.dispose()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--page", required=True, help="URL path of the page (dashboard/navigation.py)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warm", type=int, default=2, help="warm runs after each cold run")
    ap.add_argument("--naive-runs", type=int, default=1)
    ap.add_argument("--lang", default="en")
    ap.add_argument("--json", help="write the result here instead of printing it")
    args = ap.parse_args(argv)
    try:
        result = measure(args.db, args.page, args.runs, args.warm, args.lang, args.naive_runs)
    except Exception as exc:  # noqa: BLE001 - reported to the orchestrator as data
        import traceback

        result = {"page": args.page, "errors": [f"{type(exc).__name__}: {exc}"[:500]], "trace": traceback.format_exc()[-2000:]}
    text = json.dumps(result, default=str)
    if args.json:
        Path(args.json).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
