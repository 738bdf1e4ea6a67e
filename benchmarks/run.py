"""Performance benchmark of every page (issue 9). Not part of the test suite.

    .venv/bin/python -m benchmarks [--sizes 10000 100000 250000] [--no-postgres] [--pages home shelters]

Builds demo databases of the requested sizes (Mali profile, dashboard.demo through
bootstrap.fill_demo; kept between runs: SQLite files in benchmarks/data/, PostgreSQL databases
``nrm_bench_<size>`` where a server answers), then measures each page of
dashboard/navigation.PAGES in a fresh process (benchmarks/measure.py: AppTest cold and warm,
the SQL floor, the naive pandas baseline, bytes sent, peak memory) and writes
benchmarks/RESULTS.md with the machine's description and PASS/MISS against the targets.
The sections of RESULTS.md written by ``benchmarks.load`` and ``benchmarks.load_ws`` and the hand-written
analysis are kept.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
DEFAULT_PG = os.environ.get("NRM_BENCH_PG_URL") or os.environ.get(
    "NRM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SEED = 1

# Targets of issue 9 (at 250,000 cases on a 2-core machine).
TARGETS = {
    "warm": ("warm ≤ 0.3 s", lambda r: r["warm_s"] <= 0.3),
    "cold": ("cold ≤ 1.5 s", lambda r: r["cold_s"] <= 1.5),
    "floor": ("cold ≤ 2 × own SQL", lambda r: r["cold_s"] <= 2 * max(r["sql_s"], 1e-9)),
    "naive": ("≥ 20 × faster than naive", lambda r: r["naive_s"] >= 20 * r["cold_s"]),
    "bytes": ("≤ 200 KB sent", lambda r: r["bytes_sent"] <= 200 * 1024),
    "memory": ("memory ≤ 500 MB", lambda r: r["peak_rss_mb"] <= 500),
}
KEEP = ("analysis", "load", "load-ws")  # sections written by hand, benchmarks.load and benchmarks.load_ws


# ---------------------------------------------------------------- machine
def _meminfo_gb() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def pg_version(url: str | None) -> str | None:
    if not url:
        return None
    try:
        import sqlalchemy as sa

        from dashboard.db import make_engine

        eng = make_engine(url, poolclass=sa.pool.NullPool)
        with eng.connect() as c:
            v = c.execute(sa.text("SHOW server_version")).scalar()
        eng.dispose()
        return v
    except Exception:  # noqa: BLE001 - "no server" is an answer
        return None


def machine(pg_url: str | None = None) -> dict:
    import pandas
    import streamlit

    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(), "cpu": _cpu_model(), "memory_gb": round(_meminfo_gb(), 1),
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "postgres": pg_version(pg_url), "streamlit": streamlit.__version__,
        "pandas": pandas.__version__, "load": tuple(round(x, 2) for x in load),
    }


def describe_machine(m: dict) -> str:
    return (f"{m['nproc']} CPU ({m['cpu']}), {m['memory_gb']} GB RAM, {m['os']}; Python {m['python']}, "
            f"SQLite {m['sqlite']}, PostgreSQL {m['postgres'] or 'not available'}, Streamlit {m['streamlit']}, "
            f"pandas {m['pandas']}")


# ---------------------------------------------------------------- databases
def _count_cases(url: str) -> int | None:
    import sqlalchemy as sa

    from dashboard.db import make_engine

    try:
        eng = make_engine(url, poolclass=sa.pool.NullPool)
        with eng.connect() as c:
            n = c.execute(sa.text("SELECT count(*) FROM cases")).scalar()
        eng.dispose()
        return int(n)
    except Exception:  # noqa: BLE001 - missing or half-built: rebuild
        return None


def _fill(url: str, size: int) -> float:
    from dashboard import bootstrap, migrate
    from dashboard.db import make_engine

    t0 = time.perf_counter()
    eng = make_engine(url)
    migrate.upgrade(eng)
    bootstrap.fill_demo(eng, "mali", size, seed=SEED)
    with eng.begin() as conn:
        bootstrap.set_meta(conn, "bench_built_on", datetime.now(timezone.utc).date().isoformat())
    eng.dispose()
    return time.perf_counter() - t0


def sqlite_db(size: int, log=print) -> str:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"mali-{size}.db"
    url = f"sqlite:///{path}"
    if path.exists() and _count_cases(url) == size:
        return url
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    log(f"building {path.name} ({size:,} cases)…")
    log(f"  built in {_fill(url, size):.0f} s")
    return url


def pg_db(admin_url: str, size: int, log=print) -> str | None:
    import sqlalchemy as sa

    from dashboard.db import make_engine

    name = f"nrm_bench_{size}"
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    if _count_cases(url) == size:
        return url
    try:
        admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001
        log(f"PostgreSQL not usable ({type(exc).__name__}: {str(exc).splitlines()[0]}); skipping it")
        return None
    log(f"building PostgreSQL database {name} ({size:,} cases)…")
    log(f"  built in {_fill(url, size):.0f} s")
    with make_engine(url, poolclass=sa.pool.NullPool).connect() as c:
        c.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))
    return url


# ---------------------------------------------------------------- measuring
def measure_page(url: str, page: str, runs: int, warm: int, naive_runs: int, timeout: int = 3600) -> dict:
    with tempfile.NamedTemporaryFile(prefix="bench-", suffix=".json", delete=False) as tmp:
        target = tmp.name
    cmd = [sys.executable, "-m", "benchmarks.measure", "--db", url, "--page", page, "--runs", str(runs),
           "--warm", str(warm), "--naive-runs", str(naive_runs), "--json", target]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        text = Path(target).read_text() if Path(target).stat().st_size else ""
        if not text:
            return {"page": page, "errors": [f"worker exited {proc.returncode}: {proc.stderr[-800:]}"]}
        return json.loads(text)
    except subprocess.TimeoutExpired:
        return {"page": page, "errors": [f"timed out after {timeout} s"]}
    finally:
        Path(target).unlink(missing_ok=True)


def missed(r: dict) -> list[str]:
    if r.get("errors"):
        return ["error"]
    return [key for key, (_, ok) in TARGETS.items() if not ok(r)]


# ---------------------------------------------------------------- RESULTS.md
def _kept_sections(text: str) -> dict[str, str]:
    out = {}
    for name in KEEP:
        m = re.search(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", text, re.S)
        if m:
            out[name] = m.group(0)
    return out


def _fmt_s(x) -> str:
    if x is None:
        return "—"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def _largest(r: dict) -> str:
    big = r.get("largest_elements") or []
    return f" ({big[0][0]} {big[0][1] / 1024:.0f} KB)" if big and big[0][1] > 20 * 1024 else ""


def table(rows: list[dict]) -> list[str]:
    out = ["| page | cold | warm | own SQL (stmts) | query fns: slowest | naive | naive ÷ cold | cold ÷ SQL | sent | peak mem | missed |",
           "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if r.get("errors"):
            out.append(f"| {r['page']} | error: {r['errors'][0][:120].replace('|', '/')} | | | | | | | | | error |")
            continue
        slow = ", ".join(f"{n} {_fmt_s(s)}" for n, s in r["slowest_queries"][:2]) or "— (no ctx.query)"
        out.append(
            f"| {r['page']} | {_fmt_s(r['cold_s'])} | {_fmt_s(r['warm_s'])} | {_fmt_s(r['sql_s'])} ({r['statements']}) "
            f"| {slow} | {_fmt_s(r['naive_s'])} | {r['naive_s'] / r['cold_s']:.1f} × | {r['cold_s'] / max(r['sql_s'], 1e-9):.1f} × "
            f"| {r['bytes_sent'] / 1024:.0f} KB{_largest(r)} | {r['peak_rss_mb']:.0f} MB | {', '.join(missed(r)) or 'PASS'} |")
    return out


def verdicts(rows: list[dict]) -> list[str]:
    good = [r for r in rows if not r.get("errors")]
    lines = []
    for key, (label, ok) in TARGETS.items():
        misses = [r for r in good if not ok(r)]
        if not misses:
            lines.append(f"- {label}: **PASS** ({len(good)}/{len(good)} pages)")
        else:
            lines.append(f"- {label}: **MISS** on {', '.join(r['page'] for r in misses)} "
                         f"({len(good) - len(misses)}/{len(good)} pass)")
    errors = [r["page"] for r in rows if r.get("errors")]
    if errors:
        lines.append(f"- errors: {', '.join(errors)}")
    return lines


def write_results(results: dict, m_start: dict, m_end: dict, args, elapsed: float, path: Path = RESULTS) -> None:
    kept = _kept_sections(path.read_text()) if path.exists() else {}
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Fresh run of `python -m benchmarks {' '.join(sys.argv[1:])}`, {when}, {elapsed / 60:.0f} min. "
        "Written by benchmarks/run.py; the concurrent-load sections by benchmarks/load.py and benchmarks/load_ws.py.",
        "",
        f"**Machine:** {describe_machine(m_start)}.",
        f"**Load average** (1/5/15 min) at the start {m_start['load']}, at the end {m_end['load']}: the machine is "
        "shared with other engineers' test runs, so absolute times are pessimistic and noisy; medians of "
        f"{args.runs} cold and {args.runs * args.warm} warm runs.",
        "",
        "## Targets (issue 9, at 250,000 cases)",
        "",
        "Every page warm ≤ 0.3 s and cold ≤ 1.5 s; cold ≤ 2 × its own SQL time; ≥ 20 × faster than the naive "
        "baseline; ≤ 200 KB sent per page; memory ≤ 500 MB. The tables for smaller sizes are judged against the "
        "same targets.",
        "",
        "## How each column is measured",
        "",
        "- **cold / warm**: the full script run (app.py and the page) with Streamlit's AppTest, signed in as "
        "`committee` (`admin` for the admin page), English; cold = `st.cache_data` cleared before the run "
        "(the database's own caches stay warm), warm = the run repeated. Median. One unmeasured run first.",
        "- **own SQL**: every SELECT the cold run sent to the database (the page's queries and app.py's sign-in "
        "and sidebar reads), replayed directly with `exec_driver_sql` and fetched: the floor the page cannot beat. "
        "(stmts) = their number.",
        "- **query fns: slowest**: the page's `ctx.query`/`ctx.case_query` functions (recorded by wrapping "
        "`dashboard.ui._cached`) replayed one by one on a connection, SQL and their own pandas step: the two "
        "slowest, which bound the page.",
        "- **naive**: every table those statements touch read in full with `pd.read_sql`, then the page's main "
        "aggregates computed in pandas (benchmarks/naive.py). **naive ÷ cold**: how many times faster the page is.",
        "- **sent**: sum of `ByteSize()` of the ForwardMsg delta protobufs of one warm run (every element, Vega-Lite "
        "specs with their inline data, dataframes' Arrow bytes): what goes over the websocket, before compression. "
        "KB = 1,024 bytes; in brackets the largest element when it is over 20 KB.",
        "- **peak mem**: `ru_maxrss` of the fresh process that ran the page (Python, Streamlit, pandas, Altair and "
        "the page), before the naive baseline ran.",
        "",
    ]
    for backend in ("sqlite", "postgresql"):
        for size in sorted({s for b, s in results if b == backend}):
            rows = results[(backend, size)]
            lines += [f"## {'SQLite' if backend == 'sqlite' else 'PostgreSQL'}, {size:,} cases", ""]
            lines += table(rows) + [""] + verdicts(rows) + [""]
    lines += [kept.get("analysis", "<!-- analysis:start -->\n<!-- analysis:end -->"), ""]
    lines += [kept.get("load", "<!-- load:start -->\n## Concurrent load\n\nNot run yet: "
                               "`python -m benchmarks.load --cases 100000 --contexts 25`.\n<!-- load:end -->"), ""]
    lines += [kept.get("load-ws", "<!-- load-ws:start -->\n## Concurrent load on the server alone\n\nNot run yet: "
                                  "`python -m benchmarks.load_ws --cases 100000 --users 25`.\n<!-- load-ws:end -->"), ""]
    path.write_text("\n".join(lines))


def replace_section(name: str, body: str, path: Path = RESULTS) -> None:
    """Replace (or append) the ``<!-- name:start -->…<!-- name:end -->`` section of RESULTS.md."""
    block = f"<!-- {name}:start -->\n{body.rstrip()}\n<!-- {name}:end -->"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def main(argv=None) -> int:
    from dashboard.navigation import PAGES, ROOT as APP_ROOT

    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 250_000])
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--pg-url", default=DEFAULT_PG, help="an admin URL; databases nrm_bench_<size> are created")
    ap.add_argument("--pages", nargs="+", help="URL paths (default: every page in dashboard/navigation.py)")
    ap.add_argument("--runs", type=int, default=5, help="cold runs per page (each followed by --warm warm runs)")
    ap.add_argument("--warm", type=int, default=2)
    ap.add_argument("--naive-runs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    pages = [p.url_path for p in PAGES if (APP_ROOT / p.file).exists() and (not args.pages or p.url_path in args.pages)]
    unknown = set(args.pages or ()) - {p.url_path for p in PAGES}
    if unknown:
        ap.error(f"unknown page(s): {', '.join(sorted(unknown))}")
    pg_admin = None if args.no_postgres else args.pg_url
    if pg_admin and pg_version(pg_admin) is None:
        print(f"no PostgreSQL answers at {pg_admin}: SQLite only")
        pg_admin = None
    m_start = machine(pg_admin)
    print(describe_machine(m_start), "load", m_start["load"])
    t0 = time.perf_counter()
    results: dict[tuple[str, int], list[dict]] = {}
    for size in args.sizes:
        backends = [("sqlite", sqlite_db(size))]
        if pg_admin:
            url = pg_db(pg_admin, size)
            if url:
                backends.append(("postgresql", url))
        for backend, url in backends:
            rows = []
            for page in pages:
                r = measure_page(url, page, args.runs, args.warm, args.naive_runs)
                rows.append(r)
                if r.get("errors"):
                    print(f"{backend:10} {size:>7,} {page:20} ERROR {r['errors'][0][:200]}")
                else:
                    print(f"{backend:10} {size:>7,} {page:20} cold {_fmt_s(r['cold_s']):>8} warm {_fmt_s(r['warm_s']):>8} "
                          f"sql {_fmt_s(r['sql_s']):>8} naive {_fmt_s(r['naive_s']):>8} {r['bytes_sent'] / 1024:5.0f} KB "
                          f"{r['peak_rss_mb']:4.0f} MB  {', '.join(missed(r)) or 'PASS'}", flush=True)
            results[(backend, size)] = rows
            write_results(results, m_start, machine(pg_admin), args, time.perf_counter() - t0, args.out)
            raw = DATA / f"results-{backend}-{size}.json"  # every figure, for a closer look
            raw.write_text(json.dumps(rows, indent=1, default=str))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
