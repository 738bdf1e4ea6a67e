"""Fill translations from a JSON file {msgid: msgstr}: python scripts/fill_translations.py fr FILE.json"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.i18n_check import fill  # noqa: E402

lang, path = sys.argv[1], sys.argv[2]
print(f"{fill(lang, json.loads(Path(path).read_text(encoding='utf-8')))} translation(s) set")
