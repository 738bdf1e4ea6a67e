"""Screenshots of the running app in Debian's Chromium, as a person would see it.

    .venv/bin/python scripts/shoot.py --url http://127.0.0.1:8600 --user committee --lang fr \
        --page shelters --page case-flow --out /tmp/shots

Start a server first, e.g.
    NRM_DATABASE_URL=sqlite:////tmp/demo.db .venv/bin/python -m streamlit run app.py --server.port 8600 &
Signs in through the real form (demo password), opens each page by its URL path, waits for
the page to finish running, and saves <out>/<user>-<lang>-<page>.png (full page).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from dashboard.users import DEMO_PASSWORD  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def launch(p):
    return p.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS, headless=True)


def wait_idle(page, timeout: float = 90.0) -> None:
    """Wait until Streamlit has finished running the script (no 'running' indicator)."""
    deadline = time.monotonic() + timeout
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    time.sleep(0.5)
    while time.monotonic() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count()
        skeleton = page.locator('[data-testid="stSkeleton"]').count()
        if not running and not skeleton:
            time.sleep(0.7)
            if not page.locator('[data-testid="stStatusWidget"]').count():
                return
        time.sleep(0.3)


def sign_in(page, base: str, user: str, lang: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base}/?lang={lang}")
    wait_idle(page)
    page.locator('input[type="text"]').first.fill(user)
    page.locator('input[type="password"]').first.fill(password)
    page.locator('[data-testid="stFormSubmitButton"] button').first.click()
    page.wait_for_selector('input[type="password"]', state="detached", timeout=60000)
    wait_idle(page)
    # the re-login cookie is written by a component a moment after sign-in
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not any(c["name"] == "nrm_dashboard" for c in page.context.cookies()):
        time.sleep(0.3)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8600")
    ap.add_argument("--user", default="committee")
    ap.add_argument("--lang", default="fr", choices=["fr", "en"])
    ap.add_argument("--page", action="append", default=[], help="URL path (repeatable); default: the landing page")
    ap.add_argument("--out", default="/tmp/shots")
    ap.add_argument("--width", type=int, default=1400)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": args.width, "height": 900})
        sign_in(page, args.url, args.user, args.lang)
        for path in args.page or [""]:
            page.goto(f"{args.url}/{path}?lang={args.lang}")
            wait_idle(page)
            target = out / f"{args.user}-{args.lang}-{path or 'landing'}.png"
            page.screenshot(path=str(target), full_page=True)
            print(target)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
