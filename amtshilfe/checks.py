"""The checks every received Amtshilfe message goes through (issue 18 §2, DOMAIN.md §4, §5, §9.1 r. 19–21).

:func:`check` takes the received messages as one flat frame — one row per underlying notice
(:class:`ErsuchenRow`; the importer flattens its request model into it) — and the requests the ledger
holds (:class:`OpenRequest`), and answers **every message exactly once** in :data:`ANSWER_COLUMNS` with an
:class:`~claims.vocab.ErsuchenOutcome`: nothing is dropped silently. No Python loop over requests: one
group-by to the message level, then a few vectorised passes.

A new request (``ersuchen``) is first compared with what we already hold: the same creditor + file number
is one case, so the **same content** again (a repeated delivery, or the same request twice in one
delivery) is ``repeated`` and adds nothing. Otherwise the first of these that holds is its answer (the
order is fixed; :data:`ERSUCHEN_ORDER`):

1. ``no_authority``: the requesting authority's id or name, or its file number, is missing → returned;
2. ``no_notice``: no underlying notice, or one without its authority, date or file number → returned;
3. ``not_enforceable``: no statement that the notices are enforceable, or enforceable only after the
   request's date → returned (the VGH BW 2 S 535/25 line: the formal content of § 15a Abs. 4 LVwVG);
4. ``no_debtor``: the debtor cannot be found — name, street, postcode or city missing, or a German
   postcode not of five digits (:func:`enforcement.select.identity_complete`) → returned;
5. ``not_competent``: the debtor's postcode (or municipality) is not in ``[amtshilfe]``'s district →
   returned, with the competent authority from the directory where it is known;
6. ``duplicate``: the creditor + file number is open already (or came earlier in this delivery) with a
   **different** content, and was not sent as an Änderung → flagged: a person decides;
7. ``source_closed``: a Beitragsservice/WDR request, the tenant in NRW, dated after
   ``rundfunk_cutoff`` (or undated) → returned: since 1 Jan 2024 the WDR enforces itself. A request dated
   on or before the cut-off is run-off and goes on; a tenant outside NRW takes them all;
8. ``nothing_open``: principal + Säumniszuschläge + costs add up to nothing → returned;
9. ``surcharge_doubt``: a Beitragsservice/WDR notice whose Säumniszuschlag is neither 0 nor
   1 % of its principal, at least 8 € (Rundfunkbeitragssatzung § 11; ±1 cent for rounding) → flagged,
   never refused.

Else the request is ``accepted``.

A change (``aenderung``), suspension (``aussetzung``) or withdrawal (``ruecknahme``) must name an open
request of the same creditor (in the ledger, or a request of this delivery accepted or flagged): else it
is returned as ``unknown_case``. A suspension or withdrawal of an open request is ``applied`` (state
``suspended`` / ``withdrawn``); a withdrawal of a request already withdrawn is ``repeated``. An Änderung
carries the whole changed request: the same content as held is ``repeated``; a change that fails one of
checks 1–5, 8 or 9 is **flagged** with that check (the case stays as it was until a person decides —
e.g. the debtor moved out of the district); else ``applied``. The WDR cut-off does not apply to changes:
an open case is run-off by definition. The same change twice in one delivery is ``repeated``.

Each message's ``content_key`` is its content as one canonical text (request fields, then its notices
sorted): the ledger keeps it with the request, and the next delivery is compared with it — plain text, so
a person can see what differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import dataframely as dy
import polars as pl

from amtshilfe.directory import by_postcode, read_directory
from claims.config import AmtshilfeSection
from claims.vocab import ErsuchenCheck, ErsuchenMessage, ErsuchenOutcome, ErsuchenState
from enforcement.frames import take
from enforcement.select import identity_complete

#: The messages a creditor sends us (the others are ours).
INBOUND = (ErsuchenMessage.ERSUCHEN, ErsuchenMessage.AENDERUNG, ErsuchenMessage.AUSSETZUNG,
           ErsuchenMessage.RUECKNAHME)
#: The changes to an open request.
CHANGES = (ErsuchenMessage.AENDERUNG, ErsuchenMessage.AUSSETZUNG, ErsuchenMessage.RUECKNAHME)
#: The states in which a request is open (a change may name it; a new one with its file number is a duplicate).
OPEN_STATES = (ErsuchenState.FLAGGED, ErsuchenState.ACCEPTED, ErsuchenState.SUSPENDED)
#: The checks of a new request, in the order they are tried (the first that holds is the answer).
ERSUCHEN_ORDER = (ErsuchenCheck.NO_AUTHORITY, ErsuchenCheck.NO_NOTICE, ErsuchenCheck.NOT_ENFORCEABLE,
                  ErsuchenCheck.NO_DEBTOR, ErsuchenCheck.NOT_COMPETENT, ErsuchenCheck.DUPLICATE,
                  ErsuchenCheck.SOURCE_CLOSED, ErsuchenCheck.NOTHING_OPEN, ErsuchenCheck.SURCHARGE_DOUBT)
#: The checks that hold a request for a person instead of returning it.
FLAG_CHECKS = (ErsuchenCheck.DUPLICATE, ErsuchenCheck.SURCHARGE_DOUBT)


def _among(values: Iterable[StrEnum]) -> dict[str, Callable[[pl.Expr], pl.Expr]]:
    codes = sorted(str(v) for v in values)
    return {"vocabulary": lambda c: c.is_null() | c.is_in(codes)}


class ErsuchenRow(dy.Schema):
    """One underlying notice of one received message (a message without notices: one row, notice fields
    null). ``message_id`` is the importer's id of the message (file + line or XPath), unique per message;
    the request-level fields repeat on each of its rows. Amounts in cents; ``enforceable_statement`` is
    the creditor's statement that the notices are enforceable; ``suspended_until`` only on an Aussetzung;
    ``debtor_municipality`` an AGS key or name where the request gives one."""

    message_id = dy.String(nullable=False)
    message = dy.String(nullable=False, check=_among(INBOUND))
    creditor_id = dy.String(nullable=True)
    creditor_name = dy.String(nullable=True)
    creditor_file_number = dy.String(nullable=True)
    debtor_name = dy.String(nullable=True)
    debtor_street = dy.String(nullable=True)
    debtor_postcode = dy.String(nullable=True)
    debtor_city = dy.String(nullable=True)
    debtor_country = dy.String(nullable=True)
    debtor_municipality = dy.String(nullable=True)
    debtor_birth_date = dy.Date(nullable=True)
    notice_date = dy.Date(nullable=True)
    notice_authority = dy.String(nullable=True)
    notice_file_number = dy.String(nullable=True)
    period_from = dy.Date(nullable=True)
    period_to = dy.Date(nullable=True)
    principal_cents = dy.Int64(nullable=True)
    surcharge_cents = dy.Int64(nullable=True)
    costs_cents = dy.Int64(nullable=True)
    enforceable_statement = dy.Bool(nullable=True)
    enforceable_since = dy.Date(nullable=True)
    payment_reference = dy.String(nullable=True)
    request_date = dy.Date(nullable=True)
    suspended_until = dy.Date(nullable=True)


class OpenRequest(dy.Schema):
    """A request the ledger holds: creditor + file number (as received), its state, the ``content_key``
    it was accepted (or last changed) with, and our case number once it is a case. Requests in a closed
    state may be given too: only ``withdrawn`` is read (a repeated withdrawal)."""

    creditor_id = dy.String(nullable=False)
    creditor_file_number = dy.String(nullable=False)
    state = dy.String(nullable=False, check=_among(ErsuchenState))
    content_key = dy.String(nullable=True)
    case_number = dy.String(nullable=True)


class Authority(dy.Schema):
    """The directory of competent enforcement authorities: one row per postcode (``[amtshilfe]
    authorities_file``, read by :func:`read_authorities`)."""

    postcode = dy.String(nullable=False)
    authority_id = dy.String(nullable=True)
    authority_name = dy.String(nullable=False)
    authority_street = dy.String(nullable=True)
    authority_postcode = dy.String(nullable=True)
    authority_city = dy.String(nullable=True)


#: One row per received message, in the order received.
ANSWER_COLUMNS = (
    "message_id", "message", "creditor_id", "creditor_name", "creditor_file_number", "outcome", "check",
    "state", "case_number", "content_key", "notices", "principal_cents", "surcharge_cents", "costs_cents",
    "total_cents", "request_date", "suspended_until", "payment_reference", "rundfunk",
    "competent_authority_id", "competent_authority_name", "competent_authority_street",
    "competent_authority_postcode", "competent_authority_city",
)

#: The fields of a notice in the content key, and those of the request (not the message kind: an Änderung
#: is compared with the request it changes).
_NOTICE_FIELDS = ("notice_date", "notice_authority", "notice_file_number", "period_from", "period_to",
                  "principal_cents", "surcharge_cents", "costs_cents")
_REQUEST_FIELDS = ("creditor_id", "creditor_name", "creditor_file_number", "debtor_name",
                   "debtor_street", "debtor_postcode", "debtor_city", "debtor_country", "debtor_municipality",
                   "debtor_birth_date", "enforceable_statement", "enforceable_since", "payment_reference",
                   "request_date", "suspended_until")
_FS, _RS = "\x1f", "\x1e"      # field and record separators of the content key


@dataclass(frozen=True, slots=True)
class Checked:
    """The answer of :func:`check`: ``answers`` (:data:`ANSWER_COLUMNS`, one row per message) and
    ``notices``: the :class:`ErsuchenRow` rows of the messages the ledger must keep (accepted, flagged, or
    an applied change), with ``outcome``."""

    answers: pl.DataFrame
    notices: pl.DataFrame

    def with_outcome(self, outcome: ErsuchenOutcome) -> pl.DataFrame:
        return self.answers.filter(pl.col("outcome") == outcome)


def read_authorities(path: Path | str) -> pl.DataFrame:
    """The directory of competent authorities (:func:`amtshilfe.directory.read_directory`: validated, file and
    line in its errors) by postcode, as :class:`Authority` (postcodes keep their leading zero)."""
    return take(by_postcode(read_directory(path)), Authority)


def _filled(c: str) -> pl.Expr:
    return pl.col(c).str.strip_chars().str.len_chars().fill_null(0) > 0


def _text(c: str) -> pl.Expr:
    return pl.col(c).cast(pl.String).fill_null("")


def _surcharge_fits(s: AmtshilfeSection) -> pl.Expr:
    """A notice's Säumniszuschlag is none, or 1 % of its principal (rounded, ±1 cent) and at least 8 €."""
    expected = expected_surcharge(s)
    surcharge = pl.col("surcharge_cents").fill_null(0)
    return (surcharge == 0) | ((surcharge - expected).abs() <= 1)


def expected_surcharge(s: AmtshilfeSection) -> pl.Expr:
    """The Säumniszuschlag the Rundfunkbeitrag rule expects on a notice: 1 % of ``principal_cents`` (rounded),
    at least ``surcharge_min`` (the review page shows it beside the one asked)."""
    return pl.max_horizontal((pl.col("principal_cents").fill_null(0) * (s.surcharge_rate_percent / 100))
                             .round(0).cast(pl.Int64), pl.lit(s.surcharge_min, pl.Int64))


def rundfunk_creditor(s: AmtshilfeSection) -> pl.Expr:
    """Whether the creditor is the Beitragsservice/WDR: ``_cid`` (the id trimmed and upper-cased) in
    ``rundfunk_creditor_ids`` or ``creditor_name`` matching ``rundfunk_name_pattern``."""
    return (pl.col("_cid").is_in(list(s.rundfunk_creditor_ids))
            | pl.col("creditor_name").str.contains(s.rundfunk_name_pattern)).fill_null(False)


def _messages(rows: pl.DataFrame, s: AmtshilfeSection) -> pl.DataFrame:
    """One row per message: its request fields, the notice-level checks folded, totals, content key."""
    notice_ok = pl.col("notice_date").is_not_null() & _filled("notice_authority") & _filled("notice_file_number")
    amount = (pl.col("principal_cents").fill_null(0) + pl.col("surcharge_cents").fill_null(0)
              + pl.col("costs_cents").fill_null(0))
    notice_text = pl.concat_str([_text(c) for c in _NOTICE_FIELDS], separator=_FS)
    firsts = [pl.col(c).first() for c in ErsuchenRow.column_names()
              if c not in _NOTICE_FIELDS and c != "message_id"]
    per = rows.group_by("message_id", maintain_order=True).agg(
        pl.col("_row").min(), *firsts,
        notice_ok.all().alias("_notices_ok"),
        notice_ok.any().alias("_any_notice"),
        _surcharge_fits(s).all().alias("_surcharge_ok"),
        pl.col("notice_date").is_not_null().sum().alias("notices"),
        pl.col("principal_cents").fill_null(0).sum(),
        pl.col("surcharge_cents").fill_null(0).sum(),
        pl.col("costs_cents").fill_null(0).sum(),
        amount.sum().alias("total_cents"),
        pl.col("enforceable_statement").fill_null(False).all().alias("_statement"),
        notice_text.sort().str.join(_RS).alias("_notice_text"),
    )
    return per.with_columns(
        pl.concat_str([*[_text(c) for c in _REQUEST_FIELDS], pl.col("_notice_text")], separator=_FS)
        .alias("content_key"),
        pl.col("creditor_id").str.strip_chars().str.to_uppercase().alias("_cid"),
        pl.col("creditor_file_number").str.strip_chars().alias("_fn"),
    ).drop("_notice_text")


def check(requests: pl.DataFrame | pl.LazyFrame, open_requests: pl.DataFrame | pl.LazyFrame | None = None,
          settings: AmtshilfeSection | None = None, *,
          authorities: pl.DataFrame | pl.LazyFrame | None = None) -> Checked:
    """Answer every received message (module docstring). ``requests``: :class:`ErsuchenRow`;
    ``open_requests``: :class:`OpenRequest`; ``authorities``: :class:`Authority` (the directory for
    ``not_competent``; ``None``: no competent authority named). Raises ``ValueError`` when ``[amtshilfe]``
    names no district (competence cannot be checked: no request may be accepted then)."""
    s = settings or AmtshilfeSection()
    if not s.district_postcodes and not s.district_municipalities:
        raise ValueError("[amtshilfe] names no district (district_postcodes or district_municipalities)")
    rows = take(requests, ErsuchenRow).with_row_index("_row")
    held = take(open_requests, OpenRequest).with_columns(
        pl.col("creditor_id").str.strip_chars().str.to_uppercase().alias("_cid"),
        pl.col("creditor_file_number").str.strip_chars().alias("_fn"))
    directory = take(authorities, Authority).unique("postcode", keep="first")

    m = _messages(rows, s)
    # what the ledger holds under the same creditor + file number (open; or withdrawn, for a repeated Rücknahme)
    is_open = pl.col("state").is_in([str(x) for x in OPEN_STATES])
    opened = held.filter(is_open).unique(["_cid", "_fn"], keep="last").select(
        "_cid", "_fn", pl.col("content_key").alias("_held_key"), "case_number", pl.lit(True).alias("_open"))
    withdrawn = held.filter(pl.col("state") == ErsuchenState.WITHDRAWN).select(
        "_cid", "_fn", pl.lit(True).alias("_withdrawn")).unique(["_cid", "_fn"])
    m = (m.join(opened, on=["_cid", "_fn"], how="left", nulls_equal=False, maintain_order="left")
         .join(withdrawn, on=["_cid", "_fn"], how="left", nulls_equal=False, maintain_order="left")
         .with_columns(pl.col("_open").fill_null(False), pl.col("_withdrawn").fill_null(False)))

    # earlier messages of this delivery with the same creditor + file number and message kind
    key = ["_cid", "_fn", "message"]
    m = m.with_columns(
        (pl.col("_row").rank("ordinal").over(key) > 1).alias("_later"),
        pl.col("content_key").sort_by("_row").first().over(key).alias("_first_key"),
        (pl.col("_row").rank("ordinal").over([*key, "content_key"]) > 1).alias("_same_before"),
    )

    rundfunk = rundfunk_creditor(s)
    municipality_in = (pl.col("debtor_municipality").str.strip_chars().str.to_uppercase()
                       .is_in(list(s.district_municipalities))
                       | pl.col("debtor_city").str.strip_chars().str.to_uppercase()
                       .is_in(list(s.district_municipalities))).fill_null(False)
    competent = pl.col("debtor_postcode").str.strip_chars().is_in(list(s.district_postcodes)).fill_null(False) \
        | municipality_in
    enforceable = pl.col("_statement") & (pl.col("enforceable_since").is_null() | pl.col("request_date").is_null()
                                          | (pl.col("enforceable_since") <= pl.col("request_date")))
    m = m.with_columns(rundfunk.alias("rundfunk"), competent.alias("_competent"), enforceable.alias("_enforceable"),
                       identity_complete().alias("_identity"))

    formal = (
        pl.when(~(_filled("creditor_id") & _filled("creditor_name") & _filled("creditor_file_number")))
        .then(pl.lit(ErsuchenCheck.NO_AUTHORITY))
        .when(~pl.col("_notices_ok") | ~pl.col("_any_notice")).then(pl.lit(ErsuchenCheck.NO_NOTICE))
        .when(~pl.col("_enforceable")).then(pl.lit(ErsuchenCheck.NOT_ENFORCEABLE))
        .when(~pl.col("_identity")).then(pl.lit(ErsuchenCheck.NO_DEBTOR))
        .when(~pl.col("_competent")).then(pl.lit(ErsuchenCheck.NOT_COMPETENT))
    )
    closed = pl.col("rundfunk") & pl.lit(s.in_nrw) & (pl.col("request_date").is_null()
                                                       | (pl.col("request_date") > pl.lit(s.rundfunk_cutoff)))
    differs_held = pl.col("_open") & (pl.col("content_key") != pl.col("_held_key")).fill_null(True)
    differs_first = ~pl.col("_open") & pl.col("_later") & (pl.col("content_key") != pl.col("_first_key"))
    repeated_new = ((pl.col("_open") & (pl.col("content_key") == pl.col("_held_key")).fill_null(False))
                    | (~pl.col("_open") & pl.col("_same_before")))
    surcharge_doubt = pl.col("rundfunk") & ~pl.col("_surcharge_ok")
    new_check = (
        pl.when(repeated_new).then(pl.lit(None, pl.String))
        .otherwise(formal
                   .when(differs_held | differs_first).then(pl.lit(ErsuchenCheck.DUPLICATE))
                   .when(closed).then(pl.lit(ErsuchenCheck.SOURCE_CLOSED))
                   .when(pl.col("total_cents") <= 0).then(pl.lit(ErsuchenCheck.NOTHING_OPEN))
                   .when(surcharge_doubt).then(pl.lit(ErsuchenCheck.SURCHARGE_DOUBT)))
    )
    is_new = pl.col("message") == ErsuchenMessage.ERSUCHEN
    m = m.with_columns(pl.when(is_new).then(new_check).alias("check"),
                       pl.when(is_new & repeated_new).then(pl.lit(ErsuchenOutcome.REPEATED)).alias("_repeat"))

    # the requests of this delivery a change may name: accepted or flagged ones (first of their key)
    taken = m.filter(is_new & pl.col("_repeat").is_null()
                     & (pl.col("check").is_null() | pl.col("check").is_in([str(c) for c in FLAG_CHECKS]))
                     & ~pl.col("_later")).select("_cid", "_fn", pl.col("content_key").alias("_new_key"),
                                                 pl.lit(True).alias("_new"))
    m = m.join(taken, on=["_cid", "_fn"], how="left", nulls_equal=False, maintain_order="left").with_columns(
        pl.col("_new").fill_null(False))
    known = pl.col("_open") | pl.col("_new")
    same_as_held = (pl.coalesce("_held_key", "_new_key") == pl.col("content_key")).fill_null(False)
    is_change = ~is_new
    aenderung = pl.col("message") == ErsuchenMessage.AENDERUNG
    change_repeated = (pl.col("_same_before")
                       | (aenderung & known & same_as_held)
                       | ((pl.col("message") == ErsuchenMessage.RUECKNAHME) & ~known & pl.col("_withdrawn")))
    change_check = (
        pl.when(change_repeated).then(pl.lit(None, pl.String))
        .when(~known).then(pl.lit(ErsuchenCheck.UNKNOWN_CASE))
        .when(~aenderung).then(pl.lit(None, pl.String))
        .otherwise(formal
                   .when(pl.col("total_cents") <= 0).then(pl.lit(ErsuchenCheck.NOTHING_OPEN))
                   .when(surcharge_doubt).then(pl.lit(ErsuchenCheck.SURCHARGE_DOUBT)))
    )
    m = m.with_columns(
        pl.when(is_change).then(change_check).otherwise(pl.col("check")).alias("check"),
        pl.when(is_change & change_repeated).then(pl.lit(ErsuchenOutcome.REPEATED))
        .otherwise(pl.col("_repeat")).alias("_repeat"))

    flagged_check = pl.col("check").is_in([str(c) for c in FLAG_CHECKS])
    outcome = (
        pl.when(pl.col("_repeat").is_not_null()).then(pl.col("_repeat"))
        .when(pl.col("check").is_null() & is_new).then(pl.lit(ErsuchenOutcome.ACCEPTED))
        .when(pl.col("check").is_null()).then(pl.lit(ErsuchenOutcome.APPLIED))
        .when(flagged_check | (aenderung & (pl.col("check") != ErsuchenCheck.UNKNOWN_CASE)))
        .then(pl.lit(ErsuchenOutcome.FLAGGED))
        .otherwise(pl.lit(ErsuchenOutcome.RETURNED))
    )
    m = m.with_columns(outcome.alias("outcome"))
    state = (
        pl.when(pl.col("outcome") == ErsuchenOutcome.ACCEPTED).then(pl.lit(ErsuchenState.ACCEPTED))
        .when((pl.col("outcome") == ErsuchenOutcome.FLAGGED) & is_new).then(pl.lit(ErsuchenState.FLAGGED))
        .when((pl.col("outcome") == ErsuchenOutcome.RETURNED) & is_new).then(pl.lit(ErsuchenState.RETURNED))
        .when((pl.col("outcome") == ErsuchenOutcome.APPLIED) & (pl.col("message") == ErsuchenMessage.AUSSETZUNG))
        .then(pl.lit(ErsuchenState.SUSPENDED))
        .when((pl.col("outcome") == ErsuchenOutcome.APPLIED) & (pl.col("message") == ErsuchenMessage.RUECKNAHME))
        .then(pl.lit(ErsuchenState.WITHDRAWN))
    )
    m = m.with_columns(state.alias("state"))

    # who is competent where we are not (the directory, by the debtor's postcode)
    m = m.with_columns(pl.col("debtor_postcode").str.strip_chars().alias("_pc")).join(
        directory.rename({c: f"competent_{c}" for c in directory.columns if c != "postcode"}),
        left_on="_pc", right_on="postcode", how="left", maintain_order="left")
    answers = m.with_columns(
        [pl.when(pl.col("check") == ErsuchenCheck.NOT_COMPETENT).then(pl.col(c)).alias(c)
         for c in ("competent_authority_id", "competent_authority_name", "competent_authority_street",
                   "competent_authority_postcode", "competent_authority_city")]
    ).sort("_row").select(ANSWER_COLUMNS)
    keep = answers.filter(pl.col("outcome").is_in([str(ErsuchenOutcome.ACCEPTED), str(ErsuchenOutcome.FLAGGED)])
                          | ((pl.col("outcome") == ErsuchenOutcome.APPLIED) & (pl.col("message")
                                                                              == ErsuchenMessage.AENDERUNG)))
    notices = rows.join(keep.select("message_id", "outcome"), on="message_id", how="inner",
                        maintain_order="left").sort("_row").drop("_row")
    return Checked(answers=answers, notices=notices)


__all__ = ["ANSWER_COLUMNS", "CHANGES", "ERSUCHEN_ORDER", "FLAG_CHECKS", "INBOUND", "OPEN_STATES", "Authority",
           "Checked", "ErsuchenRow", "OpenRequest", "check", "expected_surcharge", "read_authorities",
           "rundfunk_creditor"]
