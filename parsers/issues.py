"""Parse problems as records (STYLE.md practice 4): file, locator, severity, stable code, message."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from claims.money import plain_eur
from claims.vocab import Severity
from parsers.schema import ISSUE_SCHEMA

ERROR = Severity.ERROR
WARNING = Severity.WARNING
INFO = Severity.INFO
#: findings listed one by one per check and file; the rest are counted in one more issue
MAX_PER_CHECK = 1000


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding about an input file.

    >>> Issue("a.sta", "line 17 :61:", ERROR, "mt940.bad_amount", "amount '12.3' is not a decimal").one_line()
    'a.sta: line 17 :61:: error mt940.bad_amount: amount \\'12.3\\' is not a decimal'
    """

    source_path: str
    locator: str
    severity: str
    code: str
    message: str
    raw: str = field(default="")

    def one_line(self) -> str:
        where = f"{self.source_path}: {self.locator}: " if self.locator else f"{self.source_path}: "
        return f"{where}{self.severity} {self.code}: {self.message}"


def issues_frame(issues: list[Issue]) -> pl.DataFrame:
    """The issues as a frame with :data:`ISSUE_SCHEMA`."""
    return pl.DataFrame(
        {
            "source_path": [i.source_path for i in issues],
            "locator": [i.locator for i in issues],
            "severity": [i.severity for i in issues],
            "code": [i.code for i in issues],
            "message": [i.message for i in issues],
            "raw": [i.raw for i in issues],
        },
        schema=ISSUE_SCHEMA,
    )


def label(text: object, limit: int = 60) -> str:
    """A value from a file made fit for a one-line message: white space folded, cut at ``limit``.

    >>> label("STARTUMS\\n:25/")
    'STARTUMS :25/'
    """
    folded = " ".join(str(text if text is not None else "?").split()) or "?"
    return folded if len(folded) <= limit else folded[: limit - 1] + "…"


def shown(value: object) -> str:
    """A delivered value as a message quotes it: ``'12,50'``, or ``nothing`` when there was none.

    >>> shown("12,50"), shown(None)
    ("'12,50'", 'nothing')
    """
    return "nothing" if value is None else repr(value)


def money(cents: int) -> str:
    """Cents as a German-neutral decimal string for messages: ``-123456`` -> ``'-1234.56'``."""
    return plain_eur(cents)
