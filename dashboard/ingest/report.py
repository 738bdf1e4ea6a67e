"""What an import reports back: the problems found (row, column, value, what was
expected), notes (warnings that do not stop the import) and what was written.

Messages are English msgids with ``{placeholders}``; :meth:`Problem.expected_text` and
:meth:`Note.text` translate them with the session's translator (``dashboard.i18n``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.domain import N_

HIDDEN = N_("(personal data: not shown)")
MAX_VALUE_CHARS = 80


TRANSLATED_PARAMS = frozenset({"key", "delimiter"})  # parameters that are msgids themselves


def _fmt(t, message: str, params: dict) -> str:
    text = t(message) if t else message
    if t and params:
        params = {k: (t(v) if k in TRANSLATED_PARAMS and isinstance(v, str) else v) for k, v in params.items()}
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):  # a translation with a broken placeholder
        return message.format(**params) if params else message


@dataclass(frozen=True)
class Problem:
    row: int | None  # row number as the user sees it in the spreadsheet (header = 1)
    column: str | None  # the header as written in the file (or the expected header)
    value: str | None  # the cell as read (never for personal columns)
    expected: str  # msgid
    params: dict = field(default_factory=dict, compare=False, hash=False)

    def expected_text(self, t=None) -> str:
        return _fmt(t, self.expected, self.params)

    def as_dict(self, t=None) -> dict:
        return {"row": self.row, "column": self.column, "value": self.value, "expected": self.expected_text(t)}


@dataclass(frozen=True)
class Note:
    message: str  # msgid
    params: dict = field(default_factory=dict, compare=False, hash=False)
    warning: bool = False  # worth a warning box (the file may have been misread), not just a line

    def text(self, t=None) -> str:
        return _fmt(t, self.message, self.params)


def shown_value(value, personal: bool = False) -> str | None:
    """A cell as it appears in the report: text, cut to a readable length."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if personal:
        return HIDDEN
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}

    @property
    def changed(self) -> int:
        return self.inserted + self.updated


@dataclass
class ImportReport:
    kind: str
    file_name: str
    dry_run: bool
    rows: int = 0  # data rows read (blank rows left out)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)  # table -> counts
    written: bool = False  # True only when a real import committed
    error: str | None = None  # a database error (everything was rolled back)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and self.error is None

    def count(self, table: str) -> Counts:
        return self.counts.setdefault(table, Counts())

    def totals(self) -> Counts:
        total = Counts()
        for c in self.counts.values():
            total.inserted += c.inserted
            total.updated += c.updated
            total.unchanged += c.unchanged
        return total

    def summary(self) -> dict:
        """Counts only (what the audit log keeps): never file content."""
        return {"kind": self.kind, "file": self.file_name, "rows": self.rows,
                "counts": {table: c.as_dict() for table, c in self.counts.items()}}
