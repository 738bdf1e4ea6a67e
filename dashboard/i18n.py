"""Translations: gettext catalogs read with Babel, one translator per language.

Source strings (msgids) are English. Catalogs live in ``dashboard/locales/<lang>/<topic>.po``
— one file per topic so pages can be worked on independently — and are merged on load.
Never ``gettext.install()``: one process serves users in both languages, so each session
uses its own :class:`Translator`. ``python -m dashboard i18n check`` (and a test) fail when
a msgid used in code is missing or untranslated in a catalog.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("fr", "en")
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
BABEL_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def catalog_files(lang: str) -> list[Path]:
    return sorted((LOCALES_DIR / lang).glob("*.po"))


@lru_cache(maxsize=None)
def _messages(lang: str) -> dict[str, str]:
    messages: dict[str, str] = {}
    for path in catalog_files(lang):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for msg in catalog:
            if msg.id and msg.string and not isinstance(msg.id, tuple):
                messages[msg.id] = msg.string
    return messages


class Translator:
    def __init__(self, lang: str):
        if lang not in LANGUAGES:
            lang = LANGUAGES[0]
        self.lang = lang
        self.locale = Locale.parse(BABEL_LOCALES[lang])
        self._messages = _messages(lang)

    def gettext(self, message: str) -> str:
        return self._messages.get(message, message)

    __call__ = gettext

    def label(self, labels: dict, code: str | None) -> str:
        """Translated label of a code from one of dashboard.domain's *_LABELS dicts."""
        if code is None:
            return "—"
        return self.gettext(labels.get(code, code))

    def number(self, value, digits: int = 0) -> str:
        if value is None:
            return "—"
        fmt = "#,##0" if digits == 0 else "#,##0." + "0" * digits
        return format_decimal(value, format=fmt, locale=self.locale)

    def percent(self, fraction, digits: int = 0) -> str:
        if fraction is None:
            return "—"
        pattern = self.locale.percent_formats[None].pattern  # '#,##0 %' in French, '#,##0%' in English
        if digits:
            pattern = pattern.replace("0", "0." + "0" * digits, 1)
        return format_percent(fraction, format=pattern, locale=self.locale)

    def date(self, value: date, fmt: str = "medium") -> str:
        return format_date(value, format=fmt, locale=self.locale)

    def month(self, value: date) -> str:
        return format_date(value, format="MMM y", locale=self.locale)

    def period(self, start: date, end: date) -> str:
        return f"{self.date(start)} – {self.date(end)}"


@lru_cache(maxsize=None)
def translator(lang: str) -> Translator:
    return Translator(lang)


def reload() -> None:
    _messages.cache_clear()
    translator.cache_clear()
