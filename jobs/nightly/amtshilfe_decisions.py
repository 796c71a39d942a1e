"""A person's decisions on foreign creditors' requests, booked by the nightly run (issue 18 §2, §3;
docs/AMTSHILFE.md "Decisions of a person").

The review page writes the decisions of the enforcement office into the journal (:mod:`ledger.amtshilfe_journal`);
the ingest step stages the effective ones here, after tonight's deliveries (so a Rücknahme that came tonight
is seen), into the night's one transaction:

* **accept** (a ``flagged`` request): a new request row in state ``accepted`` with our case number, its
  notices again under the new ``seq``, its claims built exactly as for a request the checks accept
  (:func:`jobs.nightly.amtshilfe.accepted_claims`), and an ``accepted`` event: the creditor gets the Sachstand;
* **return** (a ``flagged`` request): state ``returned`` with the reason, a ``returned`` event (the Rückgabe
  with the reason's text; the person's note stays in the event's ``text``). A flagged request that was the
  second version of a case open before (the check ``duplicate``) does not close that case: the row before it
  is written again (state and content) and only the differing request is returned;
* **uncollectible** (an ``accepted`` request, approved by a second person): state ``uncollectible`` and an
  ``uncollectible`` event (the Fruchtlosigkeit; the feedback carries what was forwarded before). The claims
  are not closed — nothing in this ledger closes a claim but a payment (allocations): a fruitless case is a
  Niederschlagung, the claim still exists and a later payment is still forwarded. They are **blocked**
  instead (``NIEDERSCHLAGUNG``, derived from the booked state: :func:`ledger.amtshilfe_state.uncollectible_blocks`)
  the way the enforcement office's fruitless outcomes block the tenant's own claims.

**Refused, not booked** (an event without ``kind`` whose ``text`` says why, and a warning issue): a decision
on a request that changed since the page showed it (another ``seq`` — a Rücknahme, Änderung or Aussetzung
came, tonight or before), on a request the ledger does not hold, a second decision on one request in one
night, and accepting the differing version of a case already open with claims (return it, or ask the creditor
for an Änderung).

**Once.** Each decision is one event ``decision:<decision id>`` (booked or refused); the read step puts the ids
the ledger holds into the run folder and they are never staged again, so a rerun books nothing twice. A
withdrawn decision, or an uncollectible one not approved yet, is not staged.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import polars as pl

from amtshilfe import case_numbers
from amtshilfe.checks import rundfunk_creditor
from claims.vocab import ErsuchenDecision, ErsuchenFeedback, ErsuchenOutcome, ErsuchenState
from jobs.nightly.amtshilfe import CLAIMS_FILE, accepted_claims
from jobs.rundir import RunDir
from ledger.amtshilfe_journal import STATE_FOR, load_decisions
from ledger.config import TenantConfig
from ledger.db import fetch
from ledger.tables import AMTSHILFE_EVENTS, AMTSHILFE_NOTICES, AMTSHILFE_REQUESTS, CLAIMS
from outputs.amtshilfe_texts import ERSUCHEN_CHECK_TEXT, ERSUCHEN_STATE_TEXT
from parsers.issues import WARNING, Issue

#: Run-folder names: the decisions the ledger has recorded, the open rows before a flagged one (+ notices).
DECIDED, BEFORE, BEFORE_NOTICES = "amtshilfe_decided", "amtshilfe_before", "amtshilfe_before_notices"
PREFIX = "decision:"
_OPEN = (ErsuchenState.ACCEPTED.value, ErsuchenState.SUSPENDED.value)
_KEY = ["_cid", "_fn"]


def _key() -> list[pl.Expr]:
    return [pl.col("creditor_id").str.strip_chars().str.to_uppercase().alias("_cid"),
            pl.col("creditor_file_number").str.strip_chars().alias("_fn")]


def read_ledger(con: duckdb.DuckDBPyConnection, cfg: TenantConfig, folder: RunDir) -> None:
    """Read step: the decision ids recorded (booked or refused), and for each request now ``flagged`` the open
    row before it (a differing duplicate of a case already open) with its notices."""
    p = {"t": cfg.tenant, "prefix": PREFIX}
    decided = fetch(con, "SELECT message_id AS decision_id FROM amtshilfe_events WHERE tenant = $t "
                         "AND starts_with(event_id, $prefix)", p)
    folder.write(DECIDED, decided.select(pl.col("decision_id").cast(pl.String)))
    before = fetch(con, """
        WITH k AS (SELECT *, upper(trim(creditor_id)) AS _cid, trim(creditor_file_number) AS _fn
                   FROM amtshilfe_requests WHERE tenant = $t),
             cur AS (SELECT _cid, _fn, seq AS cur_seq, state AS cur_state FROM k
                     QUALIFY row_number() OVER (PARTITION BY _cid, _fn ORDER BY seq DESC) = 1),
             prev AS (SELECT k.* FROM k JOIN cur USING (_cid, _fn)
                      WHERE cur.cur_state = 'flagged' AND k.seq < cur.cur_seq
                      QUALIFY row_number() OVER (PARTITION BY k._cid, k._fn ORDER BY k.seq DESC) = 1)
        SELECT * EXCLUDE (_cid, _fn) FROM prev WHERE state IN ('accepted', 'suspended') ORDER BY seq""",
                   {"t": cfg.tenant},
                   table="amtshilfe_requests")
    folder.write(BEFORE, before)
    notices = fetch(con, "SELECT * FROM amtshilfe_notices WHERE tenant = $t AND seq IN (SELECT unnest($s::BIGINT[])) "
                         "ORDER BY seq, position", {"t": cfg.tenant, "s": before["seq"].to_list()},
                    table="amtshilfe_notices")
    folder.write(BEFORE_NOTICES, notices)


def _read(folder: RunDir, name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    path = folder.file(name)
    return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=schema)


def _decisions(cfg: TenantConfig, decided: set[str]) -> tuple[pl.DataFrame, list[Issue]]:
    found, issues = load_decisions(cfg.state_dir, cfg.tenant)
    rows = [{"decision_id": d.decision_id, "creditor_id": d.creditor_id, "creditor_file_number": d.creditor_file_number,
             "seen_seq": d.seq, "seen_state": d.seen_state, "action": d.action, "reason": d.reason,
             "certificate_date": d.certificate_date, "note": d.note, "decided_by": d.decided_by,
             "approved_by": d.approved_by, "decided_at": d.decided_at}
            for d in found if d.effective and d.decision_id not in decided]
    schema = {"decision_id": pl.String, "creditor_id": pl.String, "creditor_file_number": pl.String,
              "seen_seq": pl.Int64, "seen_state": pl.String, "action": pl.String, "reason": pl.String,
              "certificate_date": pl.Date, "note": pl.String, "decided_by": pl.String, "approved_by": pl.String,
              "decided_at": pl.String}
    return pl.DataFrame(rows, schema=schema).sort("decided_at", "decision_id"), issues


def _refusal(c: Any) -> pl.Expr:
    """Why a decision is not booked (null: booked), first that holds."""
    state_text = c("state").replace_strict(ERSUCHEN_STATE_TEXT, default=c("state"), return_dtype=pl.String)
    return (pl.when(c("seq").is_null()).then(pl.lit("Ersuchen ist nicht im Bestand"))
            .when(c("_nth") > 1).then(pl.lit("eine andere Entscheidung zu diesem Ersuchen wird in diesem Lauf gebucht"))
            .when(c("seq") != c("seen_seq"))
            .then(pl.format("Ersuchen hat sich seit der Entscheidung geändert (jetzt: {}); bitte neu entscheiden",
                            state_text))
            .when(c("state") != c("_wanted")).then(pl.format("Ersuchen ist {}", state_text))
            .when((c("action") == ErsuchenDecision.ACCEPT) & c("_before_seq").is_not_null())
            .then(pl.lit("Fall ist mit anderem Inhalt bereits angenommen und hat Forderungen: zurückgeben oder "
                         "eine Änderung des Gläubigers abwarten")))


def stage(cfg: TenantConfig, held: pl.DataFrame, held_notices: pl.DataFrame, folder: RunDir, *, run_id: str,
          booking_date: date, taken: pl.Series | None = None) -> list[Issue]:
    """Stage the effective decisions not recorded yet (module docstring); return the issues (refusals, bad
    journal lines). Nothing is written when there is no such decision. ``taken``: the Kassenzeichen a new
    case number must not take (the ledger's, tonight's exports' and tonight's accepted requests')."""
    decided = set(_read(folder, DECIDED, {"decision_id": pl.String()})["decision_id"].to_list())
    todo, issues = _decisions(cfg, decided)
    if todo.is_empty():
        return issues
    c = pl.col
    staged_req = _read(folder, "book_amtshilfe_requests", AMTSHILFE_REQUESTS)
    staged_not = _read(folder, "book_amtshilfe_notices", AMTSHILFE_NOTICES)
    rows = pl.concat([held.select(list(AMTSHILFE_REQUESTS)), staged_req.select(list(AMTSHILFE_REQUESTS))],
                     how="vertical_relaxed").with_columns(_key())
    notices = pl.concat([held_notices.select(list(AMTSHILFE_NOTICES)), staged_not.select(list(AMTSHILFE_NOTICES))],
                        how="vertical_relaxed")
    top = rows["seq"].max()
    next_seq = (int(top) if top is not None else 0) + 1       # type: ignore[arg-type]
    current = rows.sort("seq").unique(_KEY, keep="last")
    before = _read(folder, BEFORE, AMTSHILFE_REQUESTS).with_columns(_key())
    before_notices = _read(folder, BEFORE_NOTICES, AMTSHILFE_NOTICES)

    d = (todo.with_columns(_key()).rename({"creditor_id": "_d_cid", "creditor_file_number": "_d_fn"})
         .with_columns(pl.int_range(1, pl.len() + 1).over(_KEY).alias("_nth"),
                       c("action").replace_strict(STATE_FOR, return_dtype=pl.String).alias("_wanted"))
         .join(current, on=_KEY, how="left", maintain_order="left")
         .join(before.select(*_KEY, c("seq").alias("_before_seq")), on=_KEY, how="left", maintain_order="left"))
    d = d.with_columns(_refusal(c).alias("refused"), c("creditor_id").fill_null(c("_d_cid")),
                       c("creditor_file_number").fill_null(c("_d_fn")))
    refused, ok = d.filter(c("refused").is_not_null()), d.filter(c("refused").is_null())
    for r in refused.iter_rows(named=True):
        issues.append(Issue("journal/amtshilfe", r["decision_id"], WARNING, "amtshilfe.decision_refused",
                            f"{r['_cid']} {r['_fn']}: {r['action']} by {r['decided_by']} not booked: {r['refused']}"))

    ok = ok.with_row_index("_i").with_columns((pl.lit(next_seq) + c("_i").cast(pl.Int64)).alias("new_seq"))
    accept, back, fruitless = (ok.filter(c("action") == a) for a in ErsuchenDecision)
    restore = back.drop("case_number").join(before.select(*_KEY, "case_number"), on=_KEY, how="inner",
                                            maintain_order="left")
    plain_back = back.join(before.select(*_KEY), on=_KEY, how="anti")
    tag = [pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id")]
    ref = cfg.reference     # numbered as the checks' accepted requests are (jobs.nightly.amtshilfe._numbered)
    numbers = case_numbers.assign(
        [case_numbers.key_of(cfg.tenant, cid, fn) for cid, fn in zip(accept["_cid"], accept["_fn"], strict=True)],
        prefix=cfg.amtshilfe.case_number_prefix, digits=ref.digits, scheme=ref.check_digit,
        taken=[] if taken is None else taken.drop_nulls().to_list())
    accept = accept.with_columns(pl.Series("case_number", numbers, pl.String))

    def row(frame: pl.DataFrame, state: pl.Expr, check: pl.Expr) -> pl.DataFrame:
        return frame.with_columns(*tag, c("new_seq").alias("seq"), state.alias("state"), check.alias("check"),
                                  (pl.lit(PREFIX) + c("decision_id")).alias("message_id")).select(list(AMTSHILFE_REQUESTS))

    same = pl.lit(None, pl.String)
    restored = restore.select("decision_id", "new_seq", *_KEY).join(
        before.drop("seq", "run_id", "tenant", "message_id"), on=_KEY, how="inner", maintain_order="left")
    new_rows = pl.concat([
        row(accept, pl.lit(ErsuchenState.ACCEPTED.value), same),
        row(plain_back, pl.lit(ErsuchenState.RETURNED.value), c("reason")),
        row(restored, c("state"), c("check")),
        row(fruitless, pl.lit(ErsuchenState.UNCOLLECTIBLE.value), same),
    ], how="vertical_relaxed")

    # the notices again under the new seq: the current row's, or (restored) the open row's before the flag
    carry = pl.concat([
        pl.concat([accept, plain_back, fruitless], how="diagonal_relaxed").select("new_seq", c("seq").alias("_from")),
        restore.join(before.select(*_KEY, c("seq").alias("_from")), on=_KEY, how="inner").select("new_seq", "_from"),
    ])
    all_notices = pl.concat([notices, before_notices.select(list(AMTSHILFE_NOTICES))], how="vertical_relaxed")
    new_notices = carry.join(all_notices.unique(["seq", "position"], keep="first"), left_on="_from", right_on="seq",
                             how="inner", maintain_order="left").with_columns(
        *tag, c("new_seq").alias("seq")).select(list(AMTSHILFE_NOTICES))

    # claims of an accepted request, built as for one the checks accept
    acc = accept.with_columns(rundfunk_creditor(cfg.amtshilfe).alias("rundfunk"),
                              (pl.lit(PREFIX) + c("decision_id")).alias("message_id"))
    debtor = ["debtor_name", "debtor_street", "debtor_postcode", "debtor_city", "debtor_country", "debtor_birth_date"]
    acc_notices = acc.select("message_id", "seq", "request_date", "payment_reference", *debtor).join(
        notices, on="seq", how="inner", maintain_order="left").drop("seq")
    claims = accepted_claims(acc_notices, acc.select("message_id", "case_number", "rundfunk", "file_name",
                                                    "file_sha256", "_cid"),
                            tenant=cfg.tenant, run_id=run_id, booking_date=booking_date)

    events = _events(accept, plain_back, restore, fruitless, refused, tag, booking_date)
    _append(folder, "amtshilfe_events", events, AMTSHILFE_EVENTS)
    _append(folder, "amtshilfe_requests", new_rows, AMTSHILFE_REQUESTS)
    _append(folder, "amtshilfe_notices", new_notices, AMTSHILFE_NOTICES)
    if claims.height:
        path = folder.file(CLAIMS_FILE)
        earlier = pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=CLAIMS)
        folder.write(CLAIMS_FILE, pl.concat([earlier, claims.select(earlier.columns)], how="vertical_relaxed"))
    return issues


def _events(accept: pl.DataFrame, back: pl.DataFrame, restore: pl.DataFrame, fruitless: pl.DataFrame,
            refused: pl.DataFrame, tag: list[pl.Expr], booking_date: date) -> pl.DataFrame:
    """One event per decision (``decision:<id>``): what the creditor is told (``kind``), or why not booked."""
    c = pl.col
    who = pl.concat_str([c("decided_by"), pl.when(c("approved_by").is_not_null())
                         .then(pl.lit(", freigegeben von ") + c("approved_by")).otherwise(pl.lit(""))])
    reason_text = c("reason").replace_strict(ERSUCHEN_CHECK_TEXT, default=c("reason"), return_dtype=pl.String)

    def ev(frame: pl.DataFrame, kind: str | None, outcome: str | None, state: pl.Expr, check: pl.Expr,
           text: pl.Expr, case: pl.Expr) -> pl.DataFrame:
        return frame.select(
            *tag, (pl.lit(PREFIX) + c("decision_id")).alias("event_id"), pl.lit(kind, pl.String).alias("kind"),
            "creditor_id", "creditor_file_number", c("decision_id").alias("message_id"),
            pl.lit(None, pl.String).alias("message"), pl.lit(outcome, pl.String).alias("outcome"),
            check.alias("check"), state.alias("state"), case.alias("case_number"), "payment_reference",
            pl.lit(booking_date).alias("event_date"), c("total_cents").alias("amount_cents"), text.alias("text"),
            pl.lit(None, pl.String).alias("competent_authority_id"),
            pl.lit(None, pl.String).alias("competent_authority_name"), "file_name", "file_sha256")

    none = pl.lit(None, pl.String)
    returned = pl.lit(ErsuchenState.RETURNED.value)
    parts = [
        ev(accept, ErsuchenFeedback.ACCEPTED, ErsuchenOutcome.ACCEPTED, pl.lit(ErsuchenState.ACCEPTED.value), none,
           pl.format("Angenommen nach Prüfung ({}): {}", who, c("note")), c("case_number")),
        ev(back, ErsuchenFeedback.RETURNED, ErsuchenOutcome.RETURNED, returned, c("reason"),
           pl.format("{} — Rückgabe nach Prüfung ({}): {}", reason_text, who, c("note")), none),
        ev(restore, ErsuchenFeedback.RETURNED, ErsuchenOutcome.RETURNED, returned, c("reason"),
           pl.format("{} — Rückgabe der abweichenden Fassung ({}), der offene Fall bleibt: {}", reason_text, who,
                     c("note")), c("case_number")),
        ev(fruitless, ErsuchenFeedback.UNCOLLECTIBLE, None, pl.lit(ErsuchenState.UNCOLLECTIBLE.value), none,
           pl.format("Fruchtlos, Bescheinigung vom {} ({}): {}", c("certificate_date").dt.strftime("%d.%m.%Y"), who,
                     c("note")), c("case_number")),
    ]
    if refused.height:
        parts.append(ev(refused, None, None, none, none,
                        pl.format("Entscheidung '{}' von {} nicht gebucht: {}", c("action"), who, c("refused")),
                        c("case_number")))
    return pl.concat(parts, how="vertical_relaxed")


def _append(folder: RunDir, table: str, rows: pl.DataFrame, schema: dict[str, pl.DataType]) -> None:
    """Add ``rows`` to what tonight's messages staged for ``table`` (``RunDir.book`` writes the whole table)."""
    if rows.is_empty():
        return
    earlier = _read(folder, f"book_{table}", schema)
    folder.book(table, pl.concat([earlier.select(list(schema)), rows.select(list(schema))], how="vertical_relaxed"))


def publish(cfg: TenantConfig, *, on: date) -> None:
    """Publish step (after the commit): the requests, flagged notices, decisions and forwards for the review
    page (:mod:`ledger.publish_amtshilfe`). Only for a tenant that takes requests (``[amtshilfe]`` names a
    district)."""
    s = cfg.amtshilfe
    if not (s.district_postcodes or s.district_municipalities):
        return
    from jobs.runner import open_ledger
    from ledger.publish_amtshilfe import publish_from_ledger

    con = open_ledger(cfg)
    try:
        publish_from_ledger(con, cfg.state_dir, cfg.tenant, s, on=on)
    finally:
        con.close()
        del con


__all__ = ["BEFORE", "BEFORE_NOTICES", "DECIDED", "PREFIX", "publish", "read_ledger", "stage"]
