"""Concurrent load: many people open the dashboard at once (a committee meeting).

    .venv/bin/python -m benchmarks.load --cases 100000 --contexts 25 [--postgres] [--rounds 2]

Starts one server (loopback only) over the benchmark database of that size (built and kept
by benchmarks/run.py), then ``--contexts`` Chromium browser contexts (one browser, own
cookies each; the demo users in turn: committee, minister, partner, focal, admin) sign in
through the real form at the same moment, wait for each other, and open every page their
role has by typing its URL, all at once. Round 1 starts with the server's caches empty;
round 2 opens the same pages again (caches filled by round 1).

A page counts as visible when the script has stopped running, the sidebar marks that page
as the current one, its title (h1) and at least one figure, chart, table or form are in the
DOM and no skeleton is left. An error is an exception or error box, the sign-in form instead
of the page, or no visible page within the timeout. Server memory: VmHWM (peak resident
set) of the server process from /proc/<pid>/status. Appends its section to RESULTS.md.

The browser runs on the same machine as the server, so both compete for the same cores:
the times are an upper bound of what 25 people on their own computers would see.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERS = ["committee", "minister", "partner", "focal", "admin"]
FIGURES = ["stMetric", "stVegaLiteChart", "stDataFrame", "stTable", "stForm", "stDownloadButton"]
# the sign-in form (streamlit-authenticator's st.form "Login": its submit button carries the key)
LOGIN_FORM = '[data-testid="stForm"]:has([class*="st-key-FormSubmitter-Login-"])'
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

# true once the page at `path` is the one shown, has finished running and shows its content
_VISIBLE_JS = """
([path, figures]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.dataset.testScriptState !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stForm"]:has([class*="st-key-FormSubmitter-Login-"]) input[type="password"]')) return 'signed-out';
  if (document.querySelector('[data-testid="stException"], [data-testid="stAlertContentError"]')) return 'error';
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stStatusWidget"]')) return false;
  const active = document.querySelector('[data-testid="stSidebarNavLink"][aria-current="page"]');
  const links = document.querySelectorAll('[data-testid="stSidebarNavLink"]').length;
  if (links > 1) {
    if (!active) return false;
    const here = new URL(active.href).pathname.replace(/\\/$/, '').split('/').pop();
    if (here !== path && !(here === '' && path === '__default__')) return false;
  }
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  if (!h1 || !h1.innerText.trim()) return false;
  return figures.some(id => document.querySelector(`[data-testid="stMain"] [data-testid="${id}"]`)) ? 'ok' : false;
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "NRM_LOGIN_SLEEP"}
    env.update(NRM_DATABASE_URL=db_url, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", "--server.runOnSave", "false"],
        cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("server did not answer /_stcore/health within 120 s")


def vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def pages_of(db_url: str, username: str) -> tuple[list[str], str]:
    import sqlalchemy as sa

    from dashboard import users
    from dashboard.db import make_engine
    from dashboard.navigation import default_page, pages_for

    eng = make_engine(db_url, poolclass=sa.pool.NullPool)
    with eng.connect() as conn:
        viewer = users.viewer_for(conn, username)
    eng.dispose()
    return [p.url_path for p in pages_for(viewer)], default_page(viewer).url_path


async def _visible(page, path: str, timeout_s: float) -> str:
    handle = await page.wait_for_function(_VISIBLE_JS, arg=[path, FIGURES], polling=50, timeout=timeout_s * 1000)
    return await handle.json_value()


async def user_session(browser, base: str, username: str, paths: list[str], default: str, lang: str,
                       all_signed_in: asyncio.Event, signed_in_count: list, n: int, rounds: int,
                       timeout_s: float, out: list, errors: list) -> None:
    from dashboard.users import DEMO_PASSWORD

    ctx = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await ctx.new_page()
    try:
        t0 = time.perf_counter()
        await page.goto(f"{base}/?lang={lang}", timeout=timeout_s * 1000)
        form = page.locator(LOGIN_FORM)
        await page.wait_for_selector(f'{LOGIN_FORM} input[type="password"]', timeout=timeout_s * 1000)
        await form.locator('input[type="text"]').first.fill(username)
        await form.locator('input[type="password"]').first.fill(DEMO_PASSWORD)
        await form.locator('[data-testid="stFormSubmitButton"] button').first.click()
        await page.wait_for_selector(f'{LOGIN_FORM} input[type="password"]', state="detached", timeout=timeout_s * 1000)
        state = await _visible(page, "__default__", timeout_s)
        deadline = time.monotonic() + 30
        while not any(c["name"] == "nrm_dashboard" for c in await ctx.cookies()) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        out.append({"round": 0, "user": username, "page": "sign-in", "s": time.perf_counter() - t0, "state": state})
        if state != "ok":
            errors.append(f"{username}: sign-in ended with {state}")
    except Exception as exc:  # noqa: BLE001 - counted as an error
        errors.append(f"{username}: sign-in failed: {str(exc).splitlines()[0][:200]}")
    finally:
        signed_in_count[0] += 1
        if signed_in_count[0] >= n:
            all_signed_in.set()
    await all_signed_in.wait()
    for rnd in range(1, rounds + 1):
        for path in paths:
            t0 = time.perf_counter()
            try:
                await page.goto(f"{base}/{path}?lang={lang}", timeout=timeout_s * 1000)
                state = await _visible(page, "__default__" if path == default else path, timeout_s)
            except Exception as exc:  # noqa: BLE001
                state = f"timeout ({str(exc).splitlines()[0][:120]})"
            s = time.perf_counter() - t0
            out.append({"round": rnd, "user": username, "page": path, "s": s, "state": state})
            if state != "ok":
                errors.append(f"round {rnd}, {username}, /{path}: {state}")
    await ctx.close()


async def run_load(base: str, db_url: str, contexts: int, rounds: int, lang: str, timeout_s: float,
                   server_pid: int) -> dict:
    from playwright.async_api import async_playwright

    plans = {u: pages_of(db_url, u) for u in USERS}
    out: list[dict] = []
    errors: list[str] = []
    peak_rss = [0.0]

    async def sample_memory():
        while True:
            hwm = vm_hwm_mb(server_pid)
            if hwm:
                peak_rss[0] = max(peak_rss[0], hwm)
            await asyncio.sleep(0.5)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True)
        event, count = asyncio.Event(), [0]
        sampler = asyncio.create_task(sample_memory())
        t0 = time.perf_counter()
        await asyncio.gather(*[
            user_session(browser, base, USERS[i % len(USERS)], *plans[USERS[i % len(USERS)]], lang, event, count,
                         contexts, rounds, timeout_s, out, errors)
            for i in range(contexts)
        ])
        wall = time.perf_counter() - t0
        sampler.cancel()
        await browser.close()
    return {"samples": out, "errors": errors, "wall_s": wall, "vm_hwm_mb": vm_hwm_mb(server_pid) or peak_rss[0]}


def report(res: dict, args, m: dict, backend: str) -> str:
    from benchmarks.run import describe_machine

    samples = res["samples"]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## Concurrent load",
        "",
        f"`python -m benchmarks.load {' '.join(sys.argv[1:])}`, {when}: {args.contexts} Chromium contexts (one "
        f"browser) against one server on loopback, {backend}, {args.cases:,} cases, language {args.lang}; users in "
        f"turn {', '.join(USERS)}. All sign in at once through the form, wait for each other, then open every page "
        f"of their role by URL, {args.rounds} round(s) (round 1: server caches empty). Time = from `page.goto` until "
        "the page is visible (script finished, that page marked current, title and a figure in the DOM). The browser "
        f"shares the machine's {m['nproc']} cores with the server. Load average before {m['load']}, "
        f"after {tuple(round(x, 2) for x in os.getloadavg())}. Machine: {describe_machine(m)}.",
        "",
        "| round | page | loads | p50 | p95 | max | errors |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for rnd in sorted({s["round"] for s in samples}):
        group = [s for s in samples if s["round"] == rnd]
        for page in dict.fromkeys(s["page"] for s in group):
            rows = [s for s in group if s["page"] == page]
            ok = [s["s"] for s in rows if s["state"] == "ok"]
            lines.append(f"| {rnd or 'sign-in'} | {page} | {len(rows)} | {pct(ok, .5):.2f} s | {pct(ok, .95):.2f} s | "
                         f"{max(ok, default=float('nan')):.2f} s | {len(rows) - len(ok)} |")
        if rnd:
            ok = [s["s"] for s in group if s["state"] == "ok"]
            lines.append(f"| **{rnd}** | **all pages** | {len(group)} | **{pct(ok, .5):.2f} s** | **{pct(ok, .95):.2f} s** "
                         f"| {max(ok, default=float('nan')):.2f} s | {len(group) - len(ok)} |")
    page_loads = [s for s in samples if s["round"] >= 1]
    ok_all = [s["s"] for s in page_loads if s["state"] == "ok"]
    p95 = pct(ok_all, .95)
    verdict = "PASS" if p95 <= 3 and not res["errors"] else "MISS"
    lines += [
        "",
        f"All rounds: {len(page_loads)} page loads, p50 {pct(ok_all, .5):.2f} s, p95 {p95:.2f} s, "
        f"{len(res['errors'])} error(s); whole run {res['wall_s']:.0f} s. Server peak memory (VmHWM) "
        f"**{res['vm_hwm_mb']:.0f} MB**.",
        f"Target (p95 ≤ 3 s and no errors at 100,000 cases): **{verdict}**.",
    ]
    if res["errors"]:
        lines += ["", "Errors:", ""] + [f"- {e}" for e in res["errors"][:30]]
    return "\n".join(lines)


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from benchmarks.run import DEFAULT_PG, RESULTS, machine, pg_db, replace_section, sqlite_db

    ap = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--contexts", type=int, default=25)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--lang", default="fr", choices=["fr", "en"])
    ap.add_argument("--postgres", action="store_true", help="use the PostgreSQL benchmark database")
    ap.add_argument("--pg-url", default=DEFAULT_PG)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per page before it counts as an error")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--no-write", action="store_true", help="print the section, do not touch RESULTS.md")
    args = ap.parse_args(argv)
    if not shutil.which("chromium"):
        print("chromium is not installed", file=sys.stderr)
        return 2
    db_url = pg_db(args.pg_url, args.cases) if args.postgres else sqlite_db(args.cases)
    if db_url is None:
        print("PostgreSQL is not available", file=sys.stderr)
        return 2
    m = machine(args.pg_url if args.postgres else None)
    log = Path(tempfile.mkdtemp(prefix="bench-load-")) / "server.log"
    proc, base = start_server(db_url, log)
    try:
        res = asyncio.run(run_load(base, db_url, args.contexts, args.rounds, args.lang, args.timeout, proc.pid))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    body = report(res, args, m, "PostgreSQL" if args.postgres else "SQLite")
    print(body)
    if not args.no_write:
        replace_section("load", body, args.out)
        print(f"\nwrote the load section of {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
