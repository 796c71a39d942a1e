"""The frames of an enforcement request and its life cycle (docs/AMTSHILFE.md "Model"; DOMAIN.md §4.2, §5,
§9.1 rule 19), declared with dataframely.

Both formats (``xml_format``, ``csv_format``) read into these frames and write from them, so the checks
and the ledger never see a file. One request (Ersuchen, XAmtshilfe .100) is a row of :class:`Request`
with its underlying notices as rows of :class:`Notice` (one per Festsetzungs- or Leistungsbescheid); a
change, suspension or withdrawal (.101/.102/.103) is a row of :class:`Change` that names the request by
the creditor's authority id and file number. Our answers are :class:`Rueckgabe` (.104), :class:`Sachstand`
(.105, with :class:`CostItem` rows for a cost invoice) and :class:`Information` (.999).

The columns a formal check looks at (the creditor's name and id, the notice's authority, date and file
number, the enforceability statement, the debtor's name and address) are **nullable** on purpose: a
request that lacks them is read, and the checks return it to the creditor with a reason (issue 18 §2)
instead of the format dropping it. Only what identifies a message at all is required: its id, the
creditor's file number, its date, and the amounts (integer cents, 0 or more).

Every message has a ``message_id``, unique in its file; notices and cost items hang off it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import dataframely as dy
import polars as pl

from claims.vocab import ErsuchenCheck, ErsuchenCostItem, ErsuchenFeedback, ErsuchenMessage


def _among(values: Iterable[StrEnum]) -> dict[str, Callable[[pl.Expr], pl.Expr]]:
    codes = sorted(str(v) for v in values)
    return {"vocabulary": lambda c: c.is_null() | c.is_in(codes)}


#: The codes of a status report (.105): what we report back (``claims.vocab.ErsuchenFeedback``) less
#: ``returned``, which is a Rückgabe (.104) of its own.
SACHSTAND_CODES = tuple(k for k in ErsuchenFeedback if k != ErsuchenFeedback.RETURNED)


def _cents() -> dy.Int64:
    return dy.Int64(nullable=False, min=0)


class Request(dy.Schema):
    """An Ersuchen (.100): who asks (the creditor, their file number, account and payment reference — for
    the Beitragsservice the Beitragsnummer), whom it is against (the debtor), the enforceability statement
    and the request date. ``creditor_file_number`` is the creditor's reference for everything that follows
    (changes, answers, forwarded money)."""

    message_id = dy.String(nullable=False)
    creditor_id = dy.String(nullable=True)
    creditor_name = dy.String(nullable=True)
    creditor_file_number = dy.String(nullable=False)
    creditor_street = dy.String(nullable=True)
    creditor_postcode = dy.String(nullable=True)
    creditor_city = dy.String(nullable=True)
    creditor_iban = dy.String(nullable=True)
    creditor_bic = dy.String(nullable=True)
    payment_reference = dy.String(nullable=True)
    request_date = dy.Date(nullable=False)
    debtor_name = dy.String(nullable=True)
    debtor_given_name = dy.String(nullable=True)
    debtor_birth_date = dy.Date(nullable=True)
    debtor_street = dy.String(nullable=True)
    debtor_postcode = dy.String(nullable=True)
    debtor_city = dy.String(nullable=True)
    debtor_country = dy.String(nullable=True)
    enforceable_statement = dy.String(nullable=True)
    enforceable_date = dy.Date(nullable=True)


class Notice(dy.Schema):
    """One underlying notice of a request (or the new list of an Aenderung): ``position`` 1, 2, … within the
    message; date, issuing authority and file number; the period it covers; principal, Säumniszuschläge and
    costs (Mahngebühr, fees) in cents."""

    message_id = dy.String(nullable=False)
    position = dy.Int64(nullable=False, min=1)
    notice_date = dy.Date(nullable=True)
    notice_authority = dy.String(nullable=True)
    notice_file_number = dy.String(nullable=True)
    period_from = dy.Date(nullable=True)
    period_to = dy.Date(nullable=True)
    principal_cents = _cents()
    surcharge_cents = _cents()
    costs_cents = _cents()


class Change(dy.Schema):
    """A message about an open request (.101 Aenderung, .102 Aussetzung, .103 Ruecknahme). An Aenderung may
    carry a new debtor name/birth date/address and a new list of notices (``Notice`` rows with its ``message_id``,
    replacing the old list); an Aussetzung suspends until ``suspended_until`` (null: until further notice)."""

    message_id = dy.String(nullable=False)
    message = dy.String(nullable=False, check={"kind": lambda c: c.is_in(
        [ErsuchenMessage.AENDERUNG, ErsuchenMessage.AUSSETZUNG, ErsuchenMessage.RUECKNAHME])})
    creditor_id = dy.String(nullable=True)
    creditor_file_number = dy.String(nullable=False)
    message_date = dy.Date(nullable=False)
    debtor_name = dy.String(nullable=True)
    debtor_given_name = dy.String(nullable=True)
    debtor_birth_date = dy.Date(nullable=True)
    debtor_street = dy.String(nullable=True)
    debtor_postcode = dy.String(nullable=True)
    debtor_city = dy.String(nullable=True)
    debtor_country = dy.String(nullable=True)
    suspended_until = dy.Date(nullable=True)
    note = dy.String(nullable=True)


class Rueckgabe(dy.Schema):
    """We return a request (.104): the check that failed (``claims.vocab.ErsuchenCheck``), a text for the
    creditor and, for ``not_competent``, the competent authority where we know it."""

    message_id = dy.String(nullable=False)
    creditor_id = dy.String(nullable=True)
    creditor_file_number = dy.String(nullable=False)
    case_number = dy.String(nullable=True)
    message_date = dy.Date(nullable=False)
    reason = dy.String(nullable=False, check=_among(ErsuchenCheck))
    text = dy.String(nullable=False)
    competent_authority = dy.String(nullable=True)


class Sachstand(dy.Schema):
    """A status report (.105, :data:`SACHSTAND_CODES`: ``claims.vocab.ErsuchenFeedback`` less ``returned``). ``payment_forwarded`` carries the amount and
    the day it was paid out; ``cost_invoice`` the period and its :class:`CostItem` rows (and no file number
    nor creditor id: it covers every request of the period, and its creditor is the file's receiver);
    every other code names one request."""

    message_id = dy.String(nullable=False)
    creditor_id = dy.String(nullable=True)
    creditor_file_number = dy.String(nullable=True)
    case_number = dy.String(nullable=True)
    message_date = dy.Date(nullable=False)
    code = dy.String(nullable=False, check=_among(SACHSTAND_CODES))
    amount_cents = dy.Int64(nullable=True, min=1)
    paid_on = dy.Date(nullable=True)
    period_from = dy.Date(nullable=True)
    period_to = dy.Date(nullable=True)
    note = dy.String(nullable=True)


class CostItem(dy.Schema):
    """One line of a cost invoice: the request it is for, its kind (``claims.vocab.ErsuchenCostItem``:
    ``contribution`` for the 37 € flat contribution, ``outlay`` for an outlay), a text and the amount."""

    message_id = dy.String(nullable=False)
    position = dy.Int64(nullable=False, min=1)
    creditor_file_number = dy.String(nullable=False)
    kind = dy.String(nullable=False, check=_among(ErsuchenCostItem))
    description = dy.String(nullable=True)
    amount_cents = dy.Int64(nullable=False, min=1)


class Information(dy.Schema):
    """Free text (.999), only where no other message fits; may name a request."""

    message_id = dy.String(nullable=False)
    creditor_id = dy.String(nullable=True)
    creditor_file_number = dy.String(nullable=True)
    case_number = dy.String(nullable=True)
    message_date = dy.Date(nullable=False)
    text = dy.String(nullable=False)


def columns(schema: type[dy.Schema]) -> dict[str, pl.DataType]:
    """The Polars dtypes of ``schema``'s columns, in order."""
    return {name: col.dtype for name, col in schema.columns().items()}


def take(frame: pl.DataFrame | None, schema: type[dy.Schema]) -> pl.DataFrame:
    """``frame`` as exactly ``schema``'s columns (missing ones null, ``None`` empty), cast and validated:
    a frame that breaks the schema is the caller's bug and raises dataframely's ``ValidationError``."""
    cols = columns(schema)
    if frame is None:
        return pl.DataFrame(schema=cols)
    out = frame.select([(pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c) for c, t in cols.items()])
    schema.validate(out, cast=False)
    return out


@dataclass(frozen=True)
class Body:
    """A sender or receiver of a file: an authority (its id where it has one) or our enforcement office."""

    name: str
    authority_id: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None


@dataclass(frozen=True)
class Header:
    """The header of a file: its id (unique per sender), when it was made, from whom, to whom."""

    message_id: str
    created: datetime
    sender: Body
    receiver: Body


@dataclass(frozen=True)
class Requests:
    """What a requesting creditor sends: requests with their notices, and changes to open requests."""

    requests: pl.DataFrame
    notices: pl.DataFrame
    changes: pl.DataFrame


@dataclass(frozen=True)
class Answers:
    """What we send back: returns, status reports (with cost items) and free-text information."""

    rueckgaben: pl.DataFrame
    sachstand: pl.DataFrame
    cost_items: pl.DataFrame
    information: pl.DataFrame


def requests(requests: pl.DataFrame | None = None, notices: pl.DataFrame | None = None,
             changes: pl.DataFrame | None = None) -> Requests:
    """:class:`Requests` with every frame conformed and validated (a missing frame is empty)."""
    return Requests(take(requests, Request), take(notices, Notice), take(changes, Change))


def answers(rueckgaben: pl.DataFrame | None = None, sachstand: pl.DataFrame | None = None,
            cost_items: pl.DataFrame | None = None, information: pl.DataFrame | None = None) -> Answers:
    """:class:`Answers` with every frame conformed and validated (a missing frame is empty)."""
    return Answers(take(rueckgaben, Rueckgabe), take(sachstand, Sachstand), take(cost_items, CostItem),
                   take(information, Information))
