"""Requests going out (issue 18 §4): a debtor who lives outside our district is enforced by the authority
there. Pure: frames in, frames out; the hand-off job (``jobs.handoff``) books and writes them.

**Routing** (:func:`route`). The hand-off builds one case per debtor; a *new* case whose debtor lives
outside ``[amtshilfe]``'s district (the same postcode and municipality lists the inbound competence check
uses) is not handed to our office but becomes an Ersuchen to the competent authority of the directory
(:mod:`amtshilfe.directory`). A debtor with an open case at our office keeps it there (the office knows the
debtor; new claims join the case), and so does a debtor whose last request went out and came back
(``returned``: the claims are ours to handle again, a second request would only come back too). Outside
and no authority with an id in the directory: **held** for a person (``HandoffSkip.NO_COMPETENT_AUTHORITY``).
No district configured: nothing goes out (the check cannot tell in from out).

**The request** (:func:`requests`). One ``Ersuchen`` per case, our file number = the case number (the
key of every answer), one ``Notice`` per main claim: its Kassenzeichen as the notice's file number, the
notice date (else the due date), the open principal; its open Nebenforderungen as Säumniszuschläge or
costs. The claims' surcharge accrued since the last booking is not demanded: only what our books hold is
(what the authority collects must match our claims to the cent). The payment reference is the case's
first Kassenzeichen: the money the authority forwards arrives as a bank credit quoting it and is matched
by the nightly run like any payment.

**Answers** (:func:`track`). An Answers file from an authority names our file number in each message: a
Rückgabe (``returned``), a Sachstand (its code) or an Information. Matched to our request by file number —
and, when the file names its sender's authority id, only a request sent to that authority; anything else
is unknown (an issue for a person). Only an open (``sent``) request changes state: ``returned``,
``uncollectible``, ``settled``.

**Settled** (:func:`settled`). When every claim of an open request is closed in our books the request is
``settled``; unless the authority reported money forwarded, the debtor paid us directly, and a Rücknahme
(ErsuchenRuecknahme) tells the authority to stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from amtshilfe import model
from amtshilfe.directory import competent
from claims.config import AmtshilfeSection
from claims.vocab import ClaimType, ErsuchenMessage, HandoffSkip, OutgoingEvent, OutgoingState

#: The authority columns a routed case carries.
AUTHORITY = ("authority_id", "authority_name", "authority_street", "authority_postcode", "authority_city",
             "exchange")
#: Nebenforderungen that are Säumniszuschläge in the request; every other one is costs.
_SURCHARGE_TYPES = (str(ClaimType.SAEUMNISZUSCHLAG),)
#: What an answer's code does to an open request.
_STATE_OF = {OutgoingEvent.RETURNED: OutgoingState.RETURNED, OutgoingEvent.UNCOLLECTIBLE: OutgoingState.UNCOLLECTIBLE,
             OutgoingEvent.SETTLED: OutgoingState.SETTLED}
#: Columns of :func:`track`'s events (the ledger adds tenant, run, file and booking time).
EVENT_COLUMNS = ("event_id", "file_number", "authority_id", "kind", "state", "event_date", "amount_cents", "reason",
                 "text", "message_id")


def in_district(s: AmtshilfeSection) -> pl.Expr:
    """The debtor's postcode is in ``district_postcodes`` or the city in ``district_municipalities``: the
    inbound competence check's lists (``amtshilfe.checks``)."""
    return (pl.col("debtor_postcode").str.strip_chars().is_in(list(s.district_postcodes))
            | pl.col("debtor_city").str.strip_chars().str.to_uppercase().is_in(list(s.district_municipalities))
            ).fill_null(False)


@dataclass(frozen=True, slots=True)
class Routed:
    """``home``: the case numbers our office gets; ``out``: the cases going out with the authority's
    columns (:data:`AUTHORITY`); ``held``: cases outside the district with no authority (``reason``)."""

    home: pl.Series
    out: pl.DataFrame
    held: pl.DataFrame


def route(cases: pl.DataFrame, settings: AmtshilfeSection, directory: pl.DataFrame | None,
          returned_debtors: pl.Series | None = None) -> Routed:
    """Split the hand-off's cases (``enforcement.cases.CASE_COLUMNS``) into ours, out, held (docstring)."""
    s = settings
    empty = cases.clear().with_columns(*[pl.lit(None, pl.String).alias(c) for c in AUTHORITY])
    if not s.district_postcodes and not s.district_municipalities:
        return Routed(cases["case_number"], empty, cases.clear().with_columns(pl.lit(None, pl.String).alias("reason")))
    back = returned_debtors if returned_debtors is not None else pl.Series("debtor_id", [], pl.String)
    outside = cases.filter(pl.col("new") & ~in_district(s) & ~pl.col("debtor_id").is_in(back.implode()))
    if directory is not None and directory.height:
        found = competent(outside, directory)
    else:
        found = outside.with_columns(*[pl.lit(None, pl.String).alias(c) for c in AUTHORITY])
    has = pl.col("authority_id").is_not_null()
    out = found.filter(has).select(*cases.columns, *AUTHORITY)
    held = found.filter(~has).select(*cases.columns, pl.lit(str(HandoffSkip.NO_COMPETENT_AUTHORITY)).alias("reason"))
    home = cases.filter(~pl.col("case_number").is_in(found["case_number"].implode()))["case_number"]
    return Routed(home, out, held)


@dataclass(frozen=True, slots=True)
class Us:
    """The requesting authority (our enforcement office) and where collected money goes."""

    authority_id: str
    name: str
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    iban: str | None = None
    bic: str | None = None
    notice_authority: str | None = None   # who issued the notices (the municipality)


STATEMENT = ("Die Forderungen sind fällig, wurden angemahnt und sind nach § 6 VwVG NRW vollstreckbar; "
             "die Mahnfrist ist abgelaufen.")


def notices(items: pl.DataFrame, notice_authority: str) -> pl.DataFrame:
    """One ``Notice`` per main claim of the cases' ``items`` (``enforcement.cases.ITEM_COLUMNS``), its open
    Nebenforderungen folded in; ``message_id`` = the case number (the request's file number)."""
    anc = pl.col("ancillary").fill_null(False)
    surcharge = anc & pl.col("claim_type").is_in(list(_SURCHARGE_TYPES))
    per = (items.group_by("case_number", "main_receivable_id", maintain_order=True).agg(
        pl.col("kassenzeichen").filter(~anc).first().alias("notice_file_number"),
        pl.coalesce(pl.col("notice_date"), pl.col("due_date")).filter(~anc).first().alias("notice_date"),
        pl.col("open_cents").filter(~anc).sum().alias("principal_cents"),
        pl.col("open_cents").filter(surcharge).sum().alias("surcharge_cents"),
        pl.col("open_cents").filter(anc & ~surcharge).sum().alias("costs_cents"))
        .sort("case_number", "notice_file_number", "main_receivable_id"))
    return per.select(
        pl.col("case_number").alias("message_id"),
        (pl.int_range(pl.len()).over("case_number") + 1).cast(pl.Int64).alias("position"),
        "notice_date", pl.lit(notice_authority).alias("notice_authority"), "notice_file_number",
        "principal_cents", "surcharge_cents", "costs_cents")


def requests(out: pl.DataFrame, items: pl.DataFrame, us: Us, day: date) -> model.Requests:
    """The Ersuchen of the routed cases ``out`` (message id and file number: the case number) with their
    notices (:func:`notices`), dated ``day``; the enforceability date is the latest Mahnung deadline."""
    n = notices(items, us.notice_authority or us.name)
    main = items.filter(~pl.col("ancillary").fill_null(False))
    per_case = main.group_by("case_number").agg(
        pl.col("kassenzeichen").sort().first().alias("payment_reference"),
        pl.col("mahnung_deadline").max().alias("enforceable_date"))
    rows = out.join(per_case, on="case_number", how="left", maintain_order="left").select(
        pl.col("case_number").alias("message_id"), pl.lit(us.authority_id).alias("creditor_id"),
        pl.lit(us.name).alias("creditor_name"), pl.col("case_number").alias("creditor_file_number"),
        pl.lit(us.street, pl.String).alias("creditor_street"), pl.lit(us.postcode, pl.String).alias("creditor_postcode"),
        pl.lit(us.city, pl.String).alias("creditor_city"), pl.lit(us.iban, pl.String).alias("creditor_iban"),
        pl.lit(us.bic, pl.String).alias("creditor_bic"), "payment_reference", pl.lit(day).alias("request_date"),
        "debtor_name", "debtor_birth_date", "debtor_street", "debtor_postcode", "debtor_city", "debtor_country",
        pl.lit(STATEMENT).alias("enforceable_statement"),
        pl.when(pl.col("enforceable_date") <= day).then(pl.col("enforceable_date")).alias("enforceable_date"))
    return model.requests(rows, n.join(rows.select("message_id"), on="message_id", how="semi"))


def recalls(file_numbers: pl.DataFrame, us: Us, day: date) -> pl.DataFrame:
    """``Change`` rows (Rücknahme) for ``file_numbers`` (``file_number``), message id ``R-`` + file number."""
    return file_numbers.select(
        ("R-" + pl.col("file_number")).alias("message_id"), pl.lit(str(ErsuchenMessage.RUECKNAHME)).alias("message"),
        pl.lit(us.authority_id).alias("creditor_id"), pl.col("file_number").alias("creditor_file_number"),
        pl.lit(day).alias("message_date"),
        pl.lit("Der Schuldner hat unmittelbar an uns gezahlt; bitte stellen Sie die Vollstreckung ein.")
        .alias("note"))


def settled(sent: pl.DataFrame, out_claims: pl.DataFrame, open_claims: pl.DataFrame,
            forwarded: pl.Series) -> pl.DataFrame:
    """The open requests (``sent``: ``file_number``, ``authority_id``) whose claims (``out_claims``:
    ``file_number``, ``receivable_id``) are all closed — not among ``open_claims`` (``receivable_id``,
    ``open_cents`` > 0) — with ``recall``: true unless the authority reported money forwarded
    (``forwarded``: file numbers)."""
    still = open_claims.filter(pl.col("open_cents") > 0).select("receivable_id")
    open_files = out_claims.join(still, on="receivable_id", how="semi")["file_number"].unique()
    return (sent.filter(~pl.col("file_number").is_in(open_files.implode()))
            .select("file_number", "authority_id",
                    (~pl.col("file_number").is_in(forwarded.implode())).alias("recall"))
            .sort("file_number"))


def _answer_rows(a: model.Answers) -> pl.DataFrame:
    """The answers' messages as one frame: message id, file number, kind, date, amount, reason, text."""
    t = pl.String
    rueck = a.rueckgaben.select(
        "message_id", pl.col("creditor_file_number").alias("file_number"),
        pl.lit(str(OutgoingEvent.RETURNED)).alias("kind"), pl.col("message_date").alias("event_date"),
        pl.lit(None, pl.Int64).alias("amount_cents"), pl.col("reason").cast(t),
        pl.col("text").cast(t))
    sach = a.sachstand.select(
        "message_id", pl.col("creditor_file_number").alias("file_number"), pl.col("code").alias("kind"),
        pl.col("message_date").alias("event_date"), "amount_cents", pl.lit(None, t).alias("reason"),
        pl.col("note").alias("text"))
    info = a.information.select(
        "message_id", pl.col("creditor_file_number").alias("file_number"),
        pl.lit(str(OutgoingEvent.INFORMATION)).alias("kind"), pl.col("message_date").alias("event_date"),
        pl.lit(None, pl.Int64).alias("amount_cents"), pl.lit(None, t).alias("reason"), "text")
    return pl.concat([rueck, sach, info]).with_columns(pl.col("file_number").str.strip_chars())


def track(answers: model.Answers, sender_id: str | None, requests_: pl.DataFrame,
          file_key: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(events, unknown)`` of an Answers file from an authority (module docstring). ``requests_``: our
    requests (``file_number``, ``authority_id``, ``state`` now); ``sender_id``: the header's sender
    authority id (``None``: not given); ``file_key``: 12 hex of the file's SHA-256 (the event ids).
    A cost invoice and an Information without a file number are the sender's, for no request: kept as
    events with no file number when the sender is an authority we sent to, else unknown."""
    rows = _answer_rows(answers)
    known = requests_.select("file_number", pl.col("authority_id").alias("_to"), pl.col("state").alias("_state"))
    j = rows.join(known, on="file_number", how="left", maintain_order="left")
    sender_ok = pl.lit(sender_id is None) | (pl.col("_to") == pl.lit(sender_id))
    ours = pl.col("_to").is_not_null() & sender_ok
    general = pl.col("file_number").is_null() & pl.lit(
        sender_id is not None and sender_id in set(requests_["authority_id"].to_list()))
    is_open = pl.col("_state") == str(OutgoingState.SENT)
    state = pl.col("kind").replace_strict({str(k): str(v) for k, v in _STATE_OF.items()}, default=None,
                                          return_dtype=pl.String)
    events = j.filter(ours | general).select(
        (pl.lit(file_key + ":") + pl.col("message_id")).alias("event_id"), "file_number",
        pl.coalesce(pl.col("_to"), pl.lit(sender_id, pl.String)).alias("authority_id"), "kind",
        pl.when(is_open).then(state).alias("state"), "event_date", "amount_cents", "reason", "text", "message_id")
    unknown = j.filter(~(ours | general)).select("message_id", "file_number", "kind", "event_date")
    return events, unknown


__all__ = ["AUTHORITY", "EVENT_COLUMNS", "STATEMENT", "Routed", "Us", "in_district", "notices", "recalls", "requests",
           "route", "settled", "track"]
