"""Concurrent load on the server alone: the same scenario as benchmarks.load, without browsers.

    .venv/bin/python -m benchmarks.load_ws --cases 100000 --users 25 [--rounds 2] [--db-url URL]

benchmarks.load drives real Chromium contexts, which on a small machine spend as much CPU
drawing the pages as the server spends making them. This driver separates the two: each
"user" is a websocket client speaking Streamlit's own protocol, sending exactly the messages
a browser sends and timing the server's answers, and draws nothing.

1. *Capture* (a first server, one browser context at a time, once per demo user): sign in
   through the real form and click through the menu, recording every ``rerun_script``
   message the browser sends (query string, widget states, page hash, context), step by step.
2. *Replay* (a fresh server, caches empty): ``--users`` clients connect at the same moment
   and replay their user's steps: open (the first runs of a new session), sign in (the
   form's submit, with the user name and password the browser sent), then every page change
   of the menu, ``--rounds`` times, waiting for each other after signing in and after each
   round, like benchmarks.load. The cache hashes a client sends are those of the messages it
   has received (as the browser's message cache does).

A step's messages are sent one after the other, each once the run of the one before has
finished (the cookie component's answers, which a browser sends when its iframe has run).
A step's time runs from sending its first message until the server reports a run finished
successfully (``script_finished``, not one cut short for a rerun) in which the main area
received a title (h1) and a figure, chart, table or form and no sign-in form (after signing
in, the first run still draws the form above the page: it goes only on the cookie
component's rerun, as in the browser). An error is an
exception or error box, the sign-in form instead of the page, or no such run within
``--timeout``. Server CPU-seconds, peak memory (VmHWM), the machine's CPU and the load average
are reported as in benchmarks.load; ``--profile FILE`` samples the server with py-spy.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks import load as L

FIGURE_ELEMENTS = {"metric", "vega_lite_chart", "dataframe", "table", "download_button"}


# ---------------------------------------------------------------- capture
async def capture(base: str, db_url: str, lang: str, timeout_s: float) -> dict:
    """{username: [{"kind", "page", "msgs": [base64 BackMsg, ...]}, ...]} from real browser sessions."""
    from playwright.async_api import async_playwright
    from streamlit.proto.BackMsg_pb2 import BackMsg

    from dashboard.users import DEMO_PASSWORD

    plans = {u: L.pages_of(db_url, u) for u in L.USERS}
    out: dict[str, list] = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=shutil.which("chromium"), args=L.CHROMIUM_ARGS, headless=True)
        for user in L.USERS:
            paths, default = plans[user]
            steps: list[dict] = []
            last_sent = [time.monotonic()]

            def on_frame(payload):
                if not isinstance(payload, (bytes, bytearray)):
                    return
                msg = BackMsg()
                msg.ParseFromString(bytes(payload))
                if msg.WhichOneof("type") == "rerun_script" and steps:
                    steps[-1]["msgs"].append(base64.b64encode(bytes(payload)).decode())
                    last_sent[0] = time.monotonic()

            async def quiet(page):  # no message sent for 1.5 s and the script is not running
                while True:
                    await asyncio.sleep(0.25)
                    state = await page.evaluate(
                        "document.querySelector('[data-testid=stApp]')?.dataset.testScriptState")
                    if state == "notRunning" and time.monotonic() - last_sent[0] > 1.5:
                        return

            ctx = await browser.new_context(viewport=L.VIEWPORT)
            await ctx.add_init_script(L._INIT_JS)
            page = await ctx.new_page()
            page.on("websocket", lambda ws: ws.on("framesent", on_frame))
            steps.append({"kind": "open", "page": "sign-in form", "msgs": []})
            await page.goto(f"{base}/?lang={lang}", timeout=timeout_s * 1000)
            res = await L._wait(page, "", "form", timeout_s)
            assert res["state"] == "ok", f"{user}: open: {res}"
            await quiet(page)
            form = page.locator(L.LOGIN_FORM)
            await form.locator('input[type="text"]').first.fill(user)
            await form.locator('input[type="password"]').first.fill(DEMO_PASSWORD)
            steps.append({"kind": "first page", "page": default, "msgs": []})
            await form.locator('[data-testid="stFormSubmitButton"] button').first.click()
            res = await L._wait(page, "__default__", "signin", timeout_s)
            assert res["state"] == "ok", f"{user}: sign-in: {res}"
            await quiet(page)
            for path in L.tour(paths, default):
                target = "__default__" if path == default else path
                steps.append({"kind": "page change", "page": path, "msgs": []})
                how = await page.evaluate(L._CLICK_JS, [target])
                if how == "expanded":
                    how = await page.evaluate(L._CLICK_JS, [target])
                assert how == "clicked", f"{user}: {path}: {how}"
                res = await L._wait(page, target, "page", timeout_s)
                assert res["state"] == "ok", f"{user}: {path}: {res}"
                await quiet(page)
            await ctx.close()
            for s in steps:
                assert s["msgs"], f"{user}: no message recorded for {s['kind']} {s['page']}"
            out[user] = steps
            print(f"captured {user}: " + ", ".join(f"{s['page']}×{len(s['msgs'])}" for s in steps), flush=True)
        await browser.close()
    return {"base": base, "users": out}


# ---------------------------------------------------------------- replay
class Client:
    """One websocket session: sends recorded rerun requests, reads the server's messages."""

    def __init__(self, ws, capture_base: str, base: str):
        self.ws, self.capture_base, self.base = ws, capture_base, base
        self.cached: set[str] = set()      # hashes of cacheable messages received
        self.kinds: dict[str, tuple] = {}  # hash → (container, element kind) for reference messages

    async def send(self, b64: str) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        msg = BackMsg()
        msg.ParseFromString(base64.b64decode(b64))
        cs = msg.rerun_script  # cache hashes as the browser sent them (it sent none)
        if cs.HasField("context_info") and cs.context_info.url:
            cs.context_info.url = cs.context_info.url.replace(self.capture_base, self.base)
        await self.ws.send(msg.SerializeToString())

    async def until_finished(self, deadline: float) -> dict:
        """Read until a run finishes successfully; what its main area received."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        seen = {"h1": False, "figure": False, "error": None, "signed_out": False, "bytes": 0, "runs": 0}
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return {**seen, "state": "timeout"}
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except asyncio.TimeoutError:
                return {**seen, "state": "timeout"}
            seen["bytes"] += len(raw)
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if fm.metadata.cacheable and fm.hash:
                self.cached.add(fm.hash)
            if kind == "ref_hash":
                container, what = self.kinds.get(fm.ref_hash, (None, None))
            elif kind == "delta":
                container = fm.metadata.delta_path[0] if fm.metadata.delta_path else None
                what = self._what(fm.delta)
                if fm.hash:
                    self.kinds[fm.hash] = (container, what)
            elif kind == "script_finished":
                seen["runs"] += 1
                if fm.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return {**seen, "state": "done"}
                if fm.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    return {**seen, "state": "compile error"}
                seen.update(h1=False, figure=False, signed_out=False)  # cut short: the next run redraws
                continue
            else:
                continue
            if container != 0 or what is None:
                continue
            if what == "h1":
                seen["h1"] = True
            elif what in FIGURE_ELEMENTS or what == "form":
                seen["figure"] = True
            elif what == "password":
                seen["signed_out"] = True
            elif what in ("exception", "error box") and not seen["error"]:
                el = fm.delta.new_element if kind == "delta" else None
                text = (el.alert.body if what == "error box" else el.exception.message) if el is not None else ""
                seen["error"] = f"{what}: {' '.join(text.split())[:160]}" if text else what

    @staticmethod
    def _what(delta) -> str | None:
        from streamlit.proto.Alert_pb2 import Alert
        from streamlit.proto.TextInput_pb2 import TextInput

        dk = delta.WhichOneof("type")
        if dk == "add_block":
            return "form" if delta.add_block.WhichOneof("type") == "form" else None
        if dk != "new_element":
            return None
        el = delta.new_element
        ek = el.WhichOneof("type")
        if ek == "heading":
            return "h1" if el.heading.tag == "h1" else None
        if ek == "exception":
            return "exception"
        if ek == "alert" and el.alert.format == Alert.ERROR:
            return "error box"
        if ek == "text_input" and el.text_input.type == TextInput.PASSWORD:
            return "password"
        return ek


def _state(r: dict, kind: str) -> str:
    if r["state"] != "done":
        return r["state"]
    if r["error"]:
        return r["error"]
    if kind == "open":
        return "ok" if r["signed_out"] else "no sign-in form"
    if r["signed_out"]:
        return "signed-out"
    if not r["h1"]:
        return "no title"
    return "ok" if r["figure"] else "no figure"


async def run_user(i: int, user: str, steps: list[dict], cap_base: str, base: str, args, barrier, mark,
                   out: list, errors: list, server_pid: int) -> None:
    from websockets.asyncio.client import connect

    host = base.split("//", 1)[1]
    ws_url = f"ws://{host}/_stcore/stream"
    signed_in = False
    ws = None

    async def step(rnd: int, s: dict) -> bool:
        """Send the step's messages one after the other (each once the run of the one before has
        finished); its time ends at the first run that shows what the step should show."""
        t0, cpu0 = time.perf_counter(), L.cpu_seconds(server_pid)
        deadline = time.monotonic() + args.timeout
        elapsed, state, received, runs = None, "no message", 0, 0
        for b64 in s["msgs"]:
            await client.send(b64)
            r = await client.until_finished(deadline if elapsed is None else time.monotonic() + args.timeout)
            received, runs = received + r["bytes"], runs + r["runs"]
            if elapsed is None:
                state = _state(r, s["kind"])
                if state == "ok":
                    elapsed = time.perf_counter() - t0
                elif r["state"] == "timeout":
                    break
        out.append({"round": rnd, "kind": s["kind"], "user": user, "page": s["page"], "s": elapsed or None,
                    "driver_s": elapsed, "state": state, "bytes": received, "runs": runs,
                    "server_cpu": (L.cpu_seconds(server_pid) or 0) - (cpu0 or 0)})  # alone: this step's cost
        if state != "ok":
            errors.append(f"round {rnd}, {user}, {s['kind']} /{s['page']}: {state}")
        return state == "ok"

    try:
        ws = await connect(ws_url, subprotocols=["streamlit"], origin=base, max_size=None, open_timeout=args.timeout,
                           ping_interval=None)
        client = Client(ws, cap_base, base)
        if await step(0, steps[0]):
            signed_in = await step(0, steps[1])
    except Exception as exc:  # noqa: BLE001
        errors.append(f"{user}: sign-in failed: {type(exc).__name__}: {str(exc)[:200]}")
    if (await barrier.wait()) == 0:
        mark("signed in")
    for rnd in range(1, args.rounds + 1):
        for s in steps[2:] if signed_in else []:
            try:
                await step(rnd, s)
            except Exception as exc:  # noqa: BLE001
                out.append({"round": rnd, "kind": s["kind"], "user": user, "page": s["page"], "s": None,
                            "driver_s": None, "state": f"failed ({type(exc).__name__})"})
                errors.append(f"round {rnd}, {user}, /{s['page']}: {type(exc).__name__}: {str(exc)[:120]}")
            if args.think:
                await asyncio.sleep(args.think)
        if (await barrier.wait()) == 0:
            mark(f"round {rnd}")
    if ws is not None:
        await ws.close()


async def run_replay(cap: dict, base: str, args, server_pid: int) -> dict:
    out: list[dict] = []
    errors: list[str] = []
    marks: list[dict] = []
    peak = [0.0]

    def mark(name: str) -> None:
        usage = L.browser_usage(server_pid)
        marks.append({"phase": name, "t": time.perf_counter(), "server_cpu": L.cpu_seconds(server_pid),
                      "browser_cpu": usage[0], "harness_cpu": usage[2], "machine_cpu": L.machine_busy_seconds(),
                      "server_rss_mb": L.vm_hwm_mb(server_pid)})

    async def sample_memory():
        while True:
            peak[0] = max(peak[0], L.vm_hwm_mb(server_pid) or 0.0)
            await asyncio.sleep(1.0)

    barrier = asyncio.Barrier(args.users)
    sampler = asyncio.create_task(sample_memory())
    mark("start")
    await asyncio.gather(*[
        run_user(i, L.USERS[i % len(L.USERS)], cap["users"][L.USERS[i % len(L.USERS)]], cap["base"], base, args,
                 barrier, mark, out, errors, server_pid)
        for i in range(args.users)
    ])
    sampler.cancel()
    return {"samples": out, "errors": errors, "marks": marks, "wall_s": marks[-1]["t"] - marks[0]["t"],
            "vm_hwm_mb": L.vm_hwm_mb(server_pid) or peak[0], "browser_peak_mb": 0.0,
            "server_cpu_s": (marks[-1]["server_cpu"] or 0) - (marks[0]["server_cpu"] or 0)}


def report(res: dict, args, m: dict, backend: str, load_after: tuple) -> str:
    from benchmarks.run import describe_machine

    samples = res["samples"]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Concurrent load on the server alone: {args.users} users (no browser)",
        "",
        f"`python -m benchmarks.load_ws {' '.join(sys.argv[1:])}`, {when}: {args.users} websocket clients replaying "
        f"what a browser sends (captured from real Chromium sessions), against one server on loopback, {backend}, "
        f"{args.cases:,} cases, language {args.lang}, app code {args.app_dir or 'of this checkout'}"
        f"{''.join(f', --{o}' for o in args.streamlit_option)}; users in turn "
        f"{', '.join(L.USERS)}. Same scenario as "
        "benchmarks.load: all at once open a session, sign in, wait for each other, click through the menu, "
        f"{args.rounds} round(s), waiting for each other after each round"
        f"{f', {args.think:g} s pause between pages' if args.think else ', no pause between pages'}. Time = from "
        "sending the request until the server reports a successful run that sent a title and a figure. Nothing is "
        f"drawn: this is the server's own latency. Load average before {m['load']}, after {load_after}. "
        f"Machine: {describe_machine(m)}.",
        "",
        *L.step_table(samples, "open a session (sign-in form sent)"),
    ]
    if args.users == 1:  # one user at a time: each step's own server CPU
        lines += ["", "Server CPU-seconds of each step (one user, so each step's own cost):", "",
                  "| step | " + " | ".join(f"round {r}" for r in range(args.rounds + 1)) + " |",
                  "|---|" + "---:|" * (args.rounds + 1)]
        for kind, pg in dict.fromkeys((s["kind"], s["page"]) for s in samples):
            cells = []
            for r in range(args.rounds + 1):
                row = [s for s in samples if s["kind"] == kind and s["page"] == pg and s["round"] == r]
                cells.append(f"{row[0]['server_cpu']:.2f} s ({row[0]['s'] or float('nan'):.2f} s)" if row else "")
            lines.append(f"| {kind} {pg} | " + " | ".join(cells) + " |")
        lines.append("")
        lines.append("(in brackets: the step's time)")
    lines += ["", *L.phase_table(res["marks"], browser=False)]
    kb = [s.get("bytes", 0) / 1024 for s in samples if s["kind"] == "page change"]
    lines += L.verdict_lines(res, "", f". Received per page change: p50 {L.pct(kb, .5):.0f} KB, max "
                             f"{max(kb, default=0):.0f} KB", ", server alone")
    return "\n".join(lines)


def main(argv=None) -> int:
    sys.path.insert(0, str(L.ROOT))
    from benchmarks.run import machine

    ap = argparse.ArgumentParser(prog="python -m benchmarks.load_ws", description=__doc__.split("\n\n")[0])
    L.add_common_args(ap, "step")
    ap.add_argument("--users", type=int, default=25)
    ap.add_argument("--capture", type=Path, help="the captured messages: read if it exists, else captured and written")
    ap.add_argument("--section", default="load-ws", help="name of the section of --out to write")
    args = ap.parse_args(argv)
    db_url = L.database(args)
    if db_url is None:
        print("PostgreSQL is not available", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-ws-"))
    if args.capture and args.capture.exists():
        cap = json.loads(args.capture.read_text())
    else:
        proc, base = L.start_server(db_url, tmp / "capture-server.log", args.app_dir)
        try:
            cap = asyncio.run(capture(base, db_url, args.lang, 120.0))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        if args.capture:
            args.capture.write_text(json.dumps(cap))
    m = machine(args.pg_url if db_url.startswith("postgresql") else None)
    log = tmp / "server.log"
    res = L.measure_server(db_url, log, args, lambda base, pid: asyncio.run(run_replay(cap, base, args, pid)))
    L.write_report(args, db_url, res, m, report, log)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
