"""Regenerate the README's screenshot gallery from the browser suite's screenshots.

    .venv/bin/pytest tests/e2e -n 2            # writes tests/artifacts/screenshots/<user>-<lang>-<page>.png
    .venv/bin/python scripts/screenshots.py    # -> docs/screenshots/<page>.png + the gallery in README.md

For each page of dashboard/navigation.py, one shot (English, as the committee sees it, or the
first role that has the page), plus the minister's summary in French; each is cut to the top
of the page (--max-height), scaled to --width and stored as a palette PNG, so the repository
stays small. The gallery is the part of README.md between ``<!-- gallery:start -->`` and
``<!-- gallery:end -->`` (added at the end the first time).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402 - Pillow comes with fpdf2

from dashboard.i18n import translator  # noqa: E402
from dashboard.navigation import PAGES  # noqa: E402

SOURCE = ROOT / "tests" / "artifacts" / "screenshots"
TARGET = ROOT / "docs" / "screenshots"
README = ROOT / "README.md"
PREFERRED_USERS = ("committee", "admin", "partner", "minister")
WHO = {"committee": "a committee member", "admin": "an administrator", "partner": "partner staff",
       "minister": "a minister"}
EXTRA = (("minister-fr-summary", "summary-minister-fr", "Synthèse — the minister's view, in French (small counts hidden)"),)


def pick(page: str, lang: str = "en") -> Path | None:
    for user in PREFERRED_USERS:
        path = SOURCE / f"{user}-{lang}-{page}.png"
        if path.exists():
            return path
    return None


def shrink(src: Path, dst: Path, width: int, max_height: int) -> None:
    with Image.open(src) as img:
        img = img.convert("RGB")
        scale = width / img.width
        crop = min(img.height, int(max_height / scale))
        img = img.crop((0, 0, img.width, crop)).resize((width, int(crop * scale)), Image.Resampling.LANCZOS)
        img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(dst, optimize=True)


def gallery(entries: list[tuple[str, str]]) -> str:
    lines = ["<!-- gallery:start -->", "## Screenshots", "",
             "Demo data (Mali profile, 2,000 invented cases), taken by the browser suite (`tests/e2e`); "
             "regenerate with `python scripts/screenshots.py` after `pytest tests/e2e`.", ""]
    for name, caption in entries:
        lines += [f"**{caption}**", "", f"![{caption}](docs/screenshots/{name}.png)", ""]
    lines.append("<!-- gallery:end -->")
    return "\n".join(lines)


def update_readme(block: str, readme: Path = README) -> None:
    text = readme.read_text()
    pattern = re.compile(r"<!-- gallery:start -->.*?<!-- gallery:end -->", re.S)
    text = pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    readme.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--width", type=int, default=1100)
    ap.add_argument("--max-height", type=int, default=1500, help="pixels kept from the top, after scaling")
    ap.add_argument("--no-readme", action="store_true", help="only write docs/screenshots/")
    args = ap.parse_args(argv)
    if not SOURCE.exists():
        print(f"no screenshots in {SOURCE}: run `.venv/bin/pytest tests/e2e -n 2` first", file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    t = translator("en")
    entries, missing = [], []
    for spec in PAGES:
        src = pick(spec.url_path)
        if src is None:
            missing.append(spec.url_path)
            continue
        shrink(src, TARGET / f"{spec.url_path}.png", args.width, args.max_height)
        user = src.name.split("-", 1)[0]
        entries.append((spec.url_path, f"{t.gettext(spec.title)} — as {WHO.get(user, user)} sees it"))
    for stem, name, caption in EXTRA:
        src = SOURCE / f"{stem}.png"
        if src.exists():
            shrink(src, TARGET / f"{name}.png", args.width, args.max_height)
            entries.append((name, caption))
    for old in TARGET.glob("*.png"):  # a page that went away
        if old.stem not in {name for name, _ in entries}:
            old.unlink()
    if not args.no_readme:
        update_readme(gallery(entries))
    print(f"{len(entries)} screenshot(s) in {TARGET}" + (f"; no screenshot for: {', '.join(missing)}" if missing else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
