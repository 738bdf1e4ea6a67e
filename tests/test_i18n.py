"""Every msgid used in code has a translation in both catalogs; formats follow the language."""
from datetime import date

from dashboard import i18n_check
from dashboard.i18n import translator


def test_every_msgid_translated_in_both_catalogs():
    assert i18n_check.problems() == []


def test_french_and_english_formats():
    fr, en = translator("fr"), translator("en")
    assert fr.number(1234567) == "1\u202f234\u202f567"
    assert en.number(1234567) == "1,234,567"
    assert fr.percent(0.256) == "26\xa0%" and fr.percent(0.256, 1) == "25,6\xa0%"
    assert en.percent(0.256, 1) == "25.6%"
    assert fr.date(date(2026, 3, 5)) == "5 mars 2026"
    assert en.date(date(2026, 3, 5)) == "5 Mar 2026"
    assert fr("Sign in") == "Se connecter" and en("Sign in") == "Sign in"


def test_unknown_language_falls_back_to_french():
    assert translator("de").lang == "fr"
