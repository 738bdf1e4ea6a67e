"""Concurrent load: many people use the dashboard at once (a committee meeting).

    .venv/bin/python -m benchmarks.load --cases 100000 --contexts 25 [--postgres] [--rounds 2] [--think S]
        [--db-url URL] [--app-dir DIR] [--streamlit-option runner.postScriptGC=false] [--out FILE --section NAME]

Starts one server (loopback only) over the benchmark database of that size (built and kept
by benchmarks/run.py; ``--db-url`` names another one, e.g. a copy), then ``--contexts``
Chromium browser contexts (one browser, own cookies each; the demo users in turn: committee,
minister, partner, focal, admin), all at the same moment, none staggered:

1. *open*: load the app's URL (Streamlit's JavaScript bundle, a new session) until the
   sign-in form is shown;
2. *first page*: fill the real sign-in form and submit it, until the role's default page is
   shown (round 1's server caches are empty, so this is also the cold start);
3. wait until every context is signed in, then *page changes*: move through the menu as a
   person does, clicking the sidebar links (``st.navigation`` switches pages over the same
   websocket: no reload, no new session, no re-login from the cookie), every page of the
   role once per round, beginning after the default page and ending on it; every context
   waits for the others at the end of a round (round 1: server caches filled only by what
   the others opened before; round 2: all warm). ``--think`` adds a pause between pages.

A page counts as visible when the script has stopped running, the sidebar marks that page
as the current one (Streamlit moves that mark when the server starts the new page's run, not
on the click, so an old page cannot pass), its title (h1) and at least one figure, chart,
table or form are in the DOM and no skeleton is left. The
time is taken in the browser: from the click event (or the start of the navigation) until
the DOM first meets that condition (a MutationObserver, not polling); the time seen by the
driver (from the call to click until the answer reached Python) is reported beside it. An
error is an exception or error box, the sign-in form instead of the page, or no visible page
within ``--timeout``.

Measured besides: CPU-seconds used by the server process, by Chromium (all its processes)
and by the whole machine (/proc/stat: other people's work on a shared machine shows as the
difference), per phase; the server's peak resident memory (VmHWM) and Chromium's peak RSS;
the load average before and after. ``--profile FILE`` samples the server with py-spy (raw
collapsed stacks of the threads holding the GIL; set PY_SPY to its path if it is not on PATH).

``--app-dir`` runs the server from another copy of the app (e.g. ``git archive HEAD`` unpacked,
so that edits in progress in this checkout do not change what is measured); ``--streamlit-option``
passes options to ``streamlit run``. benchmarks/load_ws.py runs the same scenario without
browsers (the server's own latency).

The browser runs on the same machine as the server, so both compete for the same cores:
the times are an upper bound of what the same number of people on their own computers
would see. Run it with a few contexts and with many to tell browser-bound from server-bound.
Appends (or replaces) its section (``--section``, default "load") of RESULTS.md or ``--out``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
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
# One browser, nothing it does not need for these pages: no extensions, sync, translation,
# background networking or component updates, no GPU process; timers and renderers of pages
# that are not in front are NOT throttled (25 contexts are 25 people looking at their page).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 "--disable-extensions", "--mute-audio", "--disable-default-apps", "--disable-breakpad",
                 "--disable-client-side-phishing-detection", "--disable-domain-reliability",
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows",
                 "--disable-features=Translate,OptimizationHints,MediaRouter,InterestFeedContentSuggestions,"
                 "CalculateNativeWinOcclusion,AutofillServerCommunication,CertificateTransparencyComponentUpdater"]
# small, but wide enough that Streamlit keeps the sidebar (the menu) open
VIEWPORT = {"width": 1024, "height": 700}

# Installed in every document before Streamlit's own scripts: counts script runs (the
# stApp's data-test-script-state leaving "notRunning") and notes the time of the last click.
_INIT_JS = """
(() => {
  window.__nrmRuns = 0; window.__nrmRunsAtClick = 0; window.__nrmClickAt = null;
  new MutationObserver(ms => {
    for (const m of ms) if (m.target.dataset && m.target.dataset.testScriptState
                            && m.target.dataset.testScriptState !== 'notRunning') window.__nrmRuns++;
  }).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
  document.addEventListener('click', () => {
    window.__nrmClickAt = performance.now(); window.__nrmRunsAtClick = window.__nrmRuns;
  }, true);
})();
"""

# Resolves when the page is visible (see the module docstring), or with what is wrong.
# mode "form": the sign-in form is what should be shown; "signin": the form was just
# submitted (the form may still be there while signing in); "page": a menu click.
_WAIT_JS = """
async ([path, figures, mode, timeoutMs]) => {
  const clicked = mode !== 'form';
  const t0 = clicked ? window.__nrmClickAt : 0;
  const runsAt = clicked ? window.__nrmRunsAtClick : -1;
  const loginForm = '[data-testid="stForm"]:has([class*="st-key-FormSubmitter-Login-"]) input[type="password"]';
  let last = 'nothing yet';
  const check = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return false;
    if (app.dataset.testScriptState !== 'notRunning') { last = 'running'; return false; }
    if (document.querySelector('[data-testid="stException"], [data-testid="stAlertContentError"]')) return 'error';
    if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stStatusWidget"]')) {
      last = 'skeleton'; return false;
    }
    const form = document.querySelector(loginForm);
    if (mode === 'form') return form ? 'ok' : ((last = 'no sign-in form'), false);
    if (form) { if (mode === 'page') return 'signed-out'; last = 'signed-out'; return false; }
    const links = [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')];
    if (links.length > 1) {
      const active = links.find(a => a.getAttribute('aria-current') === 'page');
      if (!active) { last = 'no current page in the menu'; return false; }
      const here = new URL(active.href).pathname.replace(/\\/$/, '').split('/').pop();
      if (here !== path && !(here === '' && path === '__default__')) {
        last = `menu shows ${here || 'default'}`; return false;
      }
    }
    const h1 = document.querySelector('[data-testid="stMain"] h1');
    if (!h1 || !h1.innerText.trim()) { last = 'no title'; return false; }
    if (!figures.some(id => document.querySelector(`[data-testid="stMain"] [data-testid="${id}"]`))) {
      last = 'no figure'; return false;
    }
    return 'ok';
  };
  return await new Promise(resolve => {
    let done = false, pending = false;
    const finish = state => {
      if (done) return;
      done = true; obs.disconnect(); clearInterval(iv); clearTimeout(to);
      resolve({state, s: (performance.now() - t0) / 1000, runs: window.__nrmRuns - Math.max(runsAt, 0)});
    };
    const run = () => { pending = false; const s = check(); if (s) finish(s); };
    const obs = new MutationObserver(() => { if (!pending) { pending = true; setTimeout(run, 0); } });
    obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
    const iv = setInterval(run, 200);
    const to = setTimeout(() => finish(`timeout (${last})`), timeoutMs);
    run();
  });
}
"""

# Click the menu link of `path` ("__default__": the default page, whose link is the app's root).
_CLICK_JS = """
([path]) => {
  const seg = a => new URL(a.href).pathname.replace(/\\/$/, '').split('/').pop();
  const want = path === '__default__' ? '' : path;
  const more = document.querySelector('[data-testid="stSidebarNavViewButton"]');
  let link = [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')].find(a => seg(a) === want);
  if (!link && more && /more/i.test(more.innerText)) {
    more.click();
    return 'expanded';
  }
  if (!link) return 'no link';
  link.click();
  return 'clicked';
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db_url: str, log: Path, app_dir: Path | None = None, options: list[str] | None = None
                 ) -> tuple[subprocess.Popen, str]:
    """``streamlit run app.py`` on a free loopback port, from ``app_dir`` (default: this checkout;
    another directory, e.g. a snapshot of a commit, runs that code with this venv), with extra
    Streamlit options ``NAME=VALUE`` (e.g. ``runner.postScriptGC=false``)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "NRM_LOGIN_SLEEP"}
    env.update(NRM_DATABASE_URL=db_url, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.fileWatcherType", "none", "--server.runOnSave", "false",
         *[part for o in options or () for part in (f"--{o.split('=', 1)[0]}", o.split("=", 1)[1])]],
        cwd=app_dir or ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
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


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a process (and its waited-for children) from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _processes() -> dict[int, tuple[int, str, float, float]]:
    """pid → (ppid, command name, CPU-seconds incl. reaped children, RSS MB) of every process."""
    tick, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.find("(") + 1:raw.rfind(")")]
        f = raw.rsplit(")", 1)[1].split()
        out[int(d.name)] = (int(f[1]), name, sum(int(x) for x in f[11:15]) / tick, int(f[21]) * page / 2**20)
    return out


def browser_usage(server_pid: int) -> tuple[float, float, float]:
    """(CPU-seconds, RSS MB) of this process's descendants that are Chromium, and the
    CPU-seconds of this process with its other descendants (Playwright's driver), not the server."""
    procs = _processes()
    me, cpu, rss, harness = os.getpid(), 0.0, 0.0, 0.0
    for pid, (ppid, name, c, r) in procs.items():
        chain, p = set(), pid
        while p in procs and p not in chain and p not in (me, server_pid, 1, 0):
            chain.add(p)
            p = procs[p][0]
        if p != me and pid != me:
            continue
        if "chrom" in name.lower():
            cpu, rss = cpu + c, rss + r
        elif pid != server_pid:
            harness += c
    return cpu, rss, harness


def machine_busy_seconds() -> float:
    """CPU-seconds the whole machine spent not idle (all cores, all users) since boot."""
    f = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = f[3] + (f[4] if len(f) > 4 else 0)  # idle + iowait
    return (sum(f[:8]) - idle) / os.sysconf("SC_CLK_TCK")


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


def tour(paths: list[str], default: str) -> list[str]:
    """The menu in order, starting after the default page and ending on it."""
    i = paths.index(default)
    return paths[i + 1:] + paths[:i + 1]


async def _wait(page, path: str, mode: str, timeout_s: float) -> dict:
    return await asyncio.wait_for(page.evaluate(_WAIT_JS, [path, FIGURES, mode, timeout_s * 1000]), timeout_s + 30)


async def user_session(browser, base: str, username: str, paths: list[str], default: str, args,
                       barrier: asyncio.Barrier, marks: list, mark, out: list, errors: list) -> None:
    from dashboard.users import DEMO_PASSWORD

    timeout_s = args.timeout
    ctx = await browser.new_context(viewport=VIEWPORT)
    await ctx.add_init_script(_INIT_JS)
    page = await ctx.new_page()
    signed_in = False

    def record(rnd, kind, path, res, t0):
        driver_s = time.perf_counter() - t0
        state = res.get("state", "?")
        out.append({"round": rnd, "kind": kind, "user": username, "page": path, "s": res.get("s"),
                    "driver_s": driver_s, "runs": res.get("runs"), "state": state})
        if state != "ok":
            errors.append(f"round {rnd}, {username}, {kind} /{path}: {state}")

    try:
        t0 = time.perf_counter()
        # "commit": the response has begun; the wait below (its own timeout) covers the rest of the load
        await page.goto(f"{base}/?lang={args.lang}", wait_until="commit", timeout=timeout_s * 1000)
        record(0, "open", "sign-in form", await _wait(page, "", "form", timeout_s), t0)
        form = page.locator(LOGIN_FORM)
        await form.locator('input[type="text"]').first.fill(username)
        await form.locator('input[type="password"]').first.fill(DEMO_PASSWORD)
        t0 = time.perf_counter()
        await form.locator('[data-testid="stFormSubmitButton"] button').first.click()
        res = await _wait(page, "__default__", "signin", timeout_s)
        record(0, "first page", default, res, t0)
        signed_in = res["state"] == "ok"
    except Exception as exc:  # noqa: BLE001 - counted as an error
        errors.append(f"{username}: sign-in failed: {str(exc).splitlines()[0][:200]}")
    if (await barrier.wait()) == 0:
        mark("signed in")
    for rnd in range(1, args.rounds + 1):
        for path in tour(paths, default) if signed_in else []:
            target = "__default__" if path == default else path
            t0 = time.perf_counter()
            try:
                how = await page.evaluate(_CLICK_JS, [target])
                if how == "expanded":  # "View more" opened the rest of the menu
                    how = await page.evaluate(_CLICK_JS, [target])
                res = await _wait(page, target, "page", timeout_s) if how == "clicked" else {"state": how}
            except Exception as exc:  # noqa: BLE001
                res = {"state": f"failed ({str(exc).splitlines()[0][:120]})"}
            record(rnd, "page change", path, res, t0)
            if args.think:
                await asyncio.sleep(args.think)
        if (await barrier.wait()) == 0:
            mark(f"round {rnd}")
    await ctx.close()


async def run_load(base: str, db_url: str, args, server_pid: int) -> dict:
    from playwright.async_api import async_playwright

    plans = {u: pages_of(db_url, u) for u in USERS}
    out: list[dict] = []
    errors: list[str] = []
    peak = {"server_mb": 0.0, "browser_mb": 0.0}
    marks: list[dict] = []

    def mark(name: str) -> None:
        usage = browser_usage(server_pid)
        marks.append({"phase": name, "t": time.perf_counter(), "server_cpu": cpu_seconds(server_pid),
                      "browser_cpu": usage[0], "harness_cpu": usage[2], "machine_cpu": machine_busy_seconds(),
                      "server_rss_mb": vm_hwm_mb(server_pid)})

    async def sample_memory():
        while True:
            peak["server_mb"] = max(peak["server_mb"], vm_hwm_mb(server_pid) or 0.0)
            peak["browser_mb"] = max(peak["browser_mb"], browser_usage(server_pid)[1])
            await asyncio.sleep(1.0)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True)
        barrier = asyncio.Barrier(args.contexts)
        sampler = asyncio.create_task(sample_memory())
        mark("start")
        await asyncio.gather(*[
            user_session(browser, base, USERS[i % len(USERS)], *plans[USERS[i % len(USERS)]], args, barrier,
                         marks, mark, out, errors)
            for i in range(args.contexts)
        ])
        sampler.cancel()
        await browser.close()
    return {"samples": out, "errors": errors, "marks": marks, "wall_s": marks[-1]["t"] - marks[0]["t"],
            "vm_hwm_mb": vm_hwm_mb(server_pid) or peak["server_mb"], "browser_peak_mb": peak["browser_mb"],
            "server_cpu_s": (marks[-1]["server_cpu"] or 0) - (marks[0]["server_cpu"] or 0)}


def _row(label: str, rows: list[dict]) -> str:
    ok = [s["s"] for s in rows if s["state"] == "ok"]
    drv = [s["driver_s"] for s in rows if s["state"] == "ok" and s.get("driver_s") is not None]

    def secs(x: float) -> str:
        return "—" if x != x else f"{x:.2f} s"  # NaN: no step finished

    return (f"| {label} | {len(rows)} | {secs(pct(ok, .5))} | {secs(pct(ok, .95))} | "
            f"{secs(max(ok, default=float('nan')))} | {secs(pct(drv, .95))} | {len(rows) - len(ok)} |")


def step_table(samples: list[dict], open_label: str) -> list[str]:
    """The table of step times (shared with benchmarks.load_ws): opening the app, the first
    page after signing in, then every page change per round and page."""
    lines = ["| step | count | p50 | p95 | max | driver p95 | errors |", "|---|---:|---:|---:|---:|---:|---:|"]
    firsts = [s for s in samples if s["kind"] == "first page"]
    changes = [s for s in samples if s["kind"] == "page change"]
    lines.append(_row(open_label, [s for s in samples if s["kind"] == "open"]))
    lines.append(_row("**first page after sign-in** (submit → default page)", firsts))
    for rnd in sorted({s["round"] for s in changes}):
        group = [s for s in changes if s["round"] == rnd]
        for pg in dict.fromkeys(s["page"] for s in group):
            lines.append(_row(f"round {rnd}: → {pg}", [s for s in group if s["page"] == pg]))
        lines.append(_row(f"**round {rnd}: all page changes**", group))
    lines.append(_row("**all page changes**", changes))
    return lines


def phase_table(marks: list[dict], browser: bool) -> list[str]:
    """CPU-seconds per phase: the server, Chromium (``browser``), this harness, the machine."""
    cols = ["wall", "server CPU", "server cores", *(["Chromium CPU"] if browser else []), "harness CPU",
            "whole machine CPU", "others*"]
    lines = ["| phase | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    for a, b in zip(marks, marks[1:]):
        wall = b["t"] - a["t"]
        sc = (b["server_cpu"] or 0) - (a["server_cpu"] or 0)
        bc = b["browser_cpu"] - a["browser_cpu"] if browser else 0.0
        hc = b["harness_cpu"] - a["harness_cpu"]
        mc = b["machine_cpu"] - a["machine_cpu"]
        cells = [f"{wall:.1f} s", f"{sc:.1f} s", f"{sc / max(wall, 1e-9):.2f}", *([f"{bc:.1f} s"] if browser else []),
                 f"{hc:.1f} s", f"{mc:.1f} s ({mc / max(wall, 1e-9):.2f} cores)", f"{mc - sc - bc - hc:.1f} s"]
        lines.append(f"| {a['phase']} → {b['phase']} | " + " | ".join(cells) + " |")
    who = "server − Chromium − harness" if browser else "server − harness"
    harness = "this script and Playwright's driver" if browser else "this script"
    lines += ["", f"Harness = {harness}. \\* others = "
              f"whole machine − {who}: other people's work on the shared machine (and the kernel's)."]
    return lines


def verdict_lines(res: dict, head: str, tail: str, scope: str = "") -> list[str]:
    """The figures against the target (p95 ≤ 3 s, no errors), then the errors listed."""
    samples = res["samples"]
    timed = [s for s in samples if s["kind"] in ("first page", "page change")]
    all_ok = [s["s"] for s in timed if s["state"] == "ok"]
    p95 = pct(all_ok, .95)
    verdict = "PASS" if p95 <= 3 and not res["errors"] else "MISS"
    lines = [
        "",
        f"First pages and page changes together: {len(timed)}, p50 {pct(all_ok, .5):.2f} s, p95 {p95:.2f} s{head}; "
        f"{len(res['errors'])} error(s); whole run {res['wall_s']:.0f} s, server {res['server_cpu_s']:.0f} "
        f"CPU-seconds ({res['server_cpu_s'] / res['wall_s']:.2f} cores on average; one Python process runs scripts "
        f"under one GIL). Server peak memory (VmHWM) **{res['vm_hwm_mb']:.0f} MB**{tail}.",
        f"Target (p95 ≤ 3 s and no errors at 100,000 cases){scope}: **{verdict}**.",
    ]
    if res["errors"]:
        lines += ["", "Errors:", ""] + [f"- {e}" for e in res["errors"][:30]]
        if len(res["errors"]) > 30:
            lines.append(f"- … and {len(res['errors']) - 30} more")
    return lines


def report(res: dict, args, m: dict, backend: str, load_after: tuple) -> str:
    from benchmarks.run import describe_machine

    samples = res["samples"]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Concurrent load: {args.contexts} contexts",
        "",
        f"`python -m benchmarks.load {' '.join(sys.argv[1:])}`, {when}: {args.contexts} Chromium contexts (one "
        f"browser, viewport {VIEWPORT['width']}×{VIEWPORT['height']}) against one server on loopback, {backend}, "
        f"{args.cases:,} cases, language {args.lang}, app code {args.app_dir or 'of this checkout'}"
        f"{''.join(f', --{o}' for o in args.streamlit_option)}; users in turn "
        f"{', '.join(USERS)}. All at once: open the app, "
        "sign in through the form (first page = the role's default page after submitting), wait for each other, "
        f"then click through every page of the menu, {args.rounds} round(s), everyone waiting for the others after "
        f"each round{f', {args.think:g} s pause between pages' if args.think else ', no pause between pages'}. "
        "Time = in the browser, from the click (or the start of loading) until the page is visible (script "
        "finished, that page marked current, title and a figure in the DOM); *driver p95* = the same seen from "
        "Python. The browser shares the machine's "
        f"{m['nproc']} cores with the server. Load average before {m['load']}, after {load_after}. "
        f"Machine: {describe_machine(m)}.",
        "",
        *step_table(samples, "open the app (sign-in form shown)"),
        "",
        *phase_table(res["marks"], browser=True),
    ]
    changes = [s["s"] for s in samples if s["kind"] == "page change" and s["state"] == "ok"]
    lines += verdict_lines(res, f" (page changes alone p95 {pct(changes, .95):.2f} s)",
                           f"; Chromium peak RSS (all processes, shared pages counted in each) "
                           f"{res['browser_peak_mb']:.0f} MB")
    return "\n".join(lines)


def add_common_args(ap: argparse.ArgumentParser, what: str) -> None:
    """Options shared with benchmarks.load_ws (``what``: "page" or "step", for --timeout)."""
    from benchmarks.run import DEFAULT_PG, RESULTS

    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--think", type=float, default=0.0, help="seconds of pause between two page changes")
    ap.add_argument("--lang", default="fr", choices=["fr", "en"])
    ap.add_argument("--postgres", action="store_true", help="use the PostgreSQL benchmark database")
    ap.add_argument("--pg-url", default=DEFAULT_PG)
    ap.add_argument("--db-url", help="use this database (e.g. a copy of a benchmark database) instead")
    ap.add_argument("--app-dir", type=Path, help="run the server from this copy of the app (default: this checkout)")
    ap.add_argument("--streamlit-option", action="append", default=[], metavar="NAME=VALUE",
                    help="extra option of `streamlit run` for the measured server, e.g. runner.postScriptGC=true "
                         "(repeatable)")
    ap.add_argument("--timeout", type=float, default=60.0, help=f"seconds per {what} before it counts as an error")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--json", type=Path, help="also write every sample and phase mark here")
    ap.add_argument("--profile", type=Path, help="record the server with py-spy (raw stacks, GIL holders) here")
    ap.add_argument("--no-write", action="store_true", help="print the section, do not touch RESULTS.md")


def database(args) -> str | None:
    """The database to load: --db-url, else the benchmark database of --cases (built if missing)."""
    from benchmarks.run import pg_db, sqlite_db

    if args.db_url:
        return args.db_url
    return pg_db(args.pg_url, args.cases) if args.postgres else sqlite_db(args.cases)


def measure_server(db_url: str, log: Path, args, drive) -> dict:
    """Start the measured server, run ``drive(base_url, server_pid)`` (py-spy recording when
    --profile), stop the server; returns what ``drive`` returned."""
    proc, base = start_server(db_url, log, args.app_dir, args.streamlit_option)
    spy = None
    if args.profile:
        exe = os.environ.get("PY_SPY") or shutil.which("py-spy")
        spy = subprocess.Popen([exe, "record", "--pid", str(proc.pid), "--rate", "50", "--gil", "--format", "raw",
                                "--output", str(args.profile)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return drive(base, proc.pid)
    finally:
        if spy is not None:
            spy.send_signal(2)  # SIGINT: py-spy writes its file and exits
            try:
                spy.wait(timeout=60)
            except subprocess.TimeoutExpired:
                spy.kill()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def write_report(args, db_url: str, res: dict, m: dict, report_fn, log: Path) -> None:
    """Print the section, keep the samples (--json) and write the section into --out."""
    from benchmarks.run import replace_section

    load_after = tuple(round(x, 2) for x in os.getloadavg())
    backend = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
    body = report_fn(res, args, m, backend, load_after)
    print(body)
    print(f"\nserver log: {log}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    if not args.no_write:
        replace_section(args.section, body, args.out)
        print(f"\nwrote the {args.section} section of {args.out}")


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from benchmarks.run import machine

    ap = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    add_common_args(ap, "page")
    ap.add_argument("--contexts", type=int, default=25)
    ap.add_argument("--section", default="load", help="name of the section of --out to write")
    args = ap.parse_args(argv)
    if not shutil.which("chromium"):
        print("chromium is not installed", file=sys.stderr)
        return 2
    db_url = database(args)
    if db_url is None:
        print("PostgreSQL is not available", file=sys.stderr)
        return 2
    m = machine(args.pg_url if db_url.startswith("postgresql") else None)
    log = Path(tempfile.mkdtemp(prefix="bench-load-")) / "server.log"
    res = measure_server(db_url, log, args, lambda base, pid: asyncio.run(run_load(base, db_url, args, pid)))
    write_report(args, db_url, res, m, report, log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
