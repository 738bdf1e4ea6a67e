"""Keep catalogs in step with the code.

``python -m dashboard i18n check``: list msgids used in code that a catalog lacks or
leaves untranslated (a test runs the same check).
``python -m dashboard i18n update``: add every missing msgid to ``<topic>.po`` of each
language (topic = the name of the module that first uses it: pages/shelters.py and
dashboard/queries/shelters.py both go to shelters.po); English gets msgstr = msgid,
French an empty msgstr for a person to fill in.
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from dashboard.i18n import LANGUAGES, LOCALES_DIR, _messages

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "gettext": None}


def source_files() -> list[Path]:
    files = [ROOT / "app.py"] + sorted((ROOT / "app_pages").glob("*.py")) + sorted((ROOT / "dashboard").rglob("*.py"))
    return [f for f in files if f.exists() and "migrations" not in f.parts]


def used_msgids() -> dict[str, Path]:
    """msgid -> first file that uses it."""
    found: dict[str, Path] = {}
    for path in source_files():
        for _lineno, message, _comments, _ctx in extract_from_file("python", path, keywords=KEYWORDS):
            if isinstance(message, str) and message:
                found.setdefault(message, path)
    return found


def _all_msgids(lang: str) -> dict[str, str]:
    """Every msgid in the catalogs of a language, translated or not."""
    out: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.po")):
        with path.open("rb") as fh:
            for msg in read_po(fh, locale=lang):
                if msg.id and isinstance(msg.id, str):
                    out[msg.id] = msg.string or ""
    return out


def problems() -> list[str]:
    _messages.cache_clear()
    used = used_msgids()
    out = []
    for lang in LANGUAGES:
        catalog = _all_msgids(lang)
        for msgid, where in sorted(used.items()):
            if msgid not in catalog:
                out.append(f"{lang}: {msgid!r} is missing ({where.relative_to(ROOT)})")
            elif not catalog[msgid].strip():
                out.append(f"{lang}: {msgid!r} is not translated ({where.relative_to(ROOT)})")
    return out


def update() -> list[str]:
    """Add missing msgids; return the catalog files written."""
    used = used_msgids()
    written = []
    for lang in LANGUAGES:
        have = _all_msgids(lang)
        by_topic: dict[str, list[str]] = {}
        for msgid, path in used.items():
            if msgid not in have:
                by_topic.setdefault(path.stem if path.stem != "__init__" else path.parent.name, []).append(msgid)
        for topic, msgids in sorted(by_topic.items()):
            target = LOCALES_DIR / lang / f"{topic}.po"
            if target.exists():
                with target.open("rb") as fh:
                    catalog = read_po(fh, locale=lang)
            else:
                catalog = Catalog(locale=lang, project="nrm-dashboard")
            for msgid in msgids:
                catalog.add(msgid, msgid if lang == "en" else "")
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as fh:
                write_po(fh, catalog, width=100, omit_header=False, sort_output=False)
            written.append(str(target.relative_to(ROOT)))
    _messages.cache_clear()
    return written


def fill(lang: str, translations: dict[str, str]) -> int:
    """Set msgstr for the given msgids wherever they stand in ``lang``'s catalogs."""
    changed = 0
    for path in sorted((LOCALES_DIR / lang).glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        touched = False
        for msg in catalog:
            if msg.id in translations and msg.string != translations[msg.id]:
                msg.string = translations[msg.id]
                touched = True
                changed += 1
        if touched:
            with path.open("wb") as fh:
                write_po(fh, catalog, width=100, sort_output=False)
    _messages.cache_clear()
    return changed
