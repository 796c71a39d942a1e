"""Amtshilfe events from money, in the nightly run: requests settled, and the cost invoice per period (issue 18
§3; docs/AMTSHILFE.md "Settled", "Cost invoice per period").

Both are booked in the night's one transaction, with what causes them (:func:`with_money`, called by the
book step), and both reach the creditor in the Answers file written after the commit
(:func:`jobs.nightly.amtshilfe.write_feedback`).

* **Settled**: a request that is open (``accepted`` or ``suspended``), has claims (origin ``amtshilfe``,
  Kassenzeichen = our case number), and none of them open after tonight — the night's open items (which
  read a claim as amended) less tonight's allocations; a reversal tonight on the case makes it wait — gets a
  ``settled`` event (``event_id`` ``settled:<case number>``) and a request row in state ``settled`` (its
  notices written again under the new ``seq``, as every change does). Its money is forwarded by the next
  payout run (or was already): a forward is computed from the allocations, so the settled case's money
  is due the moment it is allocated. A request changed tonight waits for the next night (its content is
  the night's own), and one settled before is never read again: reruns book it once.
* **Cost invoice**: on every night, the last *complete* period before the booking day (``[amtshilfe]
  invoice_period``: month, quarter, year) is invoiced — :func:`amtshilfe.feedback.cost_invoice` per creditor,
  less the items invoiced before (``amtshilfe_invoice_items``, item id ``contribution-<creditor>-<file
  number>``: a request is invoiced once, ever) and less the creditors invoiced for that period already (a
  rerun, or the second night of the month, adds nothing). Each invoice is one ``cost_invoice`` event
  (``event_id`` ``cost_invoice:<creditor>:<from>:<to>``), its items, and **a claim of the tenant against
  the requesting body** (origin ``fee``, creditor = tenant, debtor ``AH-GL-<creditor>``, claim type
  ``KOSTEN``, Kassenzeichen ``AK`` + 10 hex of SHA-256(tenant, creditor, period), due ``invoice_due_days``
  after the night): it is in the books, a payment quoting it is matched like any other, and it is open
  for a set-off. The first night after the period is the one that invoices it; a night that did not run
  is caught up by the next one of the same period, not by a later period's.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from amtshilfe.feedback import cost_invoice
from claims.config import AmtshilfeSection
from claims.vocab import ClaimType, ErsuchenFeedback, ErsuchenState
from jobs.rundir import RunDir
from ledger.config import TenantConfig
from ledger.db import fetch
from ledger.tables import AMTSHILFE_EVENTS, AMTSHILFE_INVOICE_ITEMS, CLAIMS, TABLES

#: Run-folder frames of the read step.
SETTLE, ACCEPTED, INVOICED = "amtshilfe_settle", "amtshilfe_accepted", "amtshilfe_invoiced"
HELD, HELD_NOTICES = "amtshilfe_held", "amtshilfe_held_notices"   # written by jobs.nightly.amtshilfe.read_ledger
OPEN = (str(ErsuchenState.ACCEPTED), str(ErsuchenState.SUSPENDED))
#: The open requests not settled yet that have claims, with the claims' sum as booked.
SETTLE_SCHEMA: dict[str, pl.DataType] = {"case_number": pl.String(), "settled_cents": pl.Int64()}
#: The night's open items (the read step's ``state_open_items``: what is still open of each claim).
OPEN_ITEMS_FILE = "state_open_items"
ACCEPTED_SCHEMA: dict[str, pl.DataType] = {"creditor_id": pl.String(), "creditor_file_number": pl.String(),
                                           "case_number": pl.String(), "accepted_on": pl.Date(),
                                           "creditor_name": pl.String()}
INVOICED_SCHEMA: dict[str, pl.DataType] = {"item_id": pl.String(), "invoice_id": pl.String()}


def read(con: duckdb.DuckDBPyConnection, cfg: TenantConfig, folder: RunDir) -> None:
    """Read step: the open requests not settled yet that have claims (``SETTLE``; what is still open of
    their claims is in the night's open items, which read claims as amended), the accepted requests (``ACCEPTED``: first ``accepted`` event; the creditor's latest name) and the items
    and invoices booked (``INVOICED``)."""
    p = {"t": cfg.tenant, "open": list(OPEN)}
    settle = fetch(con, """
        WITH cur AS (
            SELECT case_number, state FROM amtshilfe_requests WHERE tenant = $t AND case_number IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY upper(trim(creditor_id)), trim(creditor_file_number)
                                       ORDER BY seq DESC) = 1
        ), theirs AS (
            SELECT receivable_id, kassenzeichen AS case_number, amount_cents FROM claims
            WHERE tenant = $t AND origin = 'amtshilfe'
            QUALIFY row_number() OVER (PARTITION BY receivable_id ORDER BY created_at) = 1
        )
        SELECT c.case_number, sum(c.amount_cents) AS settled_cents
        FROM theirs c JOIN cur USING (case_number)
        WHERE cur.state IN (SELECT unnest($open))
          AND NOT EXISTS (SELECT 1 FROM amtshilfe_events e WHERE e.tenant = $t AND e.kind = 'settled'
                          AND e.case_number = c.case_number)
        GROUP BY 1 ORDER BY 1""", p)
    accepted = fetch(con, """
        WITH names AS (
            SELECT upper(trim(creditor_id)) AS cid, creditor_name FROM amtshilfe_requests
            WHERE tenant = $t AND creditor_name IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY upper(trim(creditor_id)) ORDER BY seq DESC) = 1
        )
        SELECT any_value(e.creditor_id ORDER BY e.event_id) AS creditor_id,
               trim(e.creditor_file_number) AS creditor_file_number, any_value(e.case_number) AS case_number,
               min(e.event_date) AS accepted_on, any_value(n.creditor_name) AS creditor_name
        FROM amtshilfe_events e LEFT JOIN names n ON n.cid = upper(trim(e.creditor_id))
        WHERE e.tenant = $t AND e.kind = 'accepted' AND e.creditor_id IS NOT NULL
          AND e.creditor_file_number IS NOT NULL
        GROUP BY upper(trim(e.creditor_id)), trim(e.creditor_file_number) ORDER BY 1, 2""", {"t": cfg.tenant})
    invoiced = fetch(con, "SELECT item_id, invoice_id FROM amtshilfe_invoice_items WHERE tenant = $t",
                     {"t": cfg.tenant})
    folder.write(SETTLE, settle.select([pl.col(c).cast(t) for c, t in SETTLE_SCHEMA.items()]))
    folder.write(ACCEPTED, accepted.select([pl.col(c).cast(t) for c, t in ACCEPTED_SCHEMA.items()]))
    folder.write(INVOICED, invoiced.select([pl.col(c).cast(t) for c, t in INVOICED_SCHEMA.items()]))


def _frame(folder: RunDir, name: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A read-step frame (a run folder of an older release has none: nothing to do)."""
    path = folder.file(name)
    return pl.read_parquet(path) if path.exists() else pl.DataFrame(schema=schema)


def period_before(day: date, period: str) -> tuple[date, date]:
    """The last complete ``period`` (``month``, ``quarter``, ``year``) before ``day``: ``(first, last day)``."""
    months = {"month": 1, "quarter": 3, "year": 12}[period]
    start_month = (day.month - 1) // months * months + 1
    current = date(day.year, start_month, 1)
    last = current - timedelta(days=1)
    return date(last.year, (last.month - 1) // months * months + 1, 1), last


def settled(cases: pl.DataFrame, open_claims: pl.DataFrame, tonight: pl.DataFrame) -> pl.DataFrame:
    """The ``cases`` (``case_number``, ``settled_cents``) paid in full: none of their claims is open after
    tonight. ``open_claims``: what the ledger holds open of each claim (``kassenzeichen`` = the case number,
    ``receivable_id``, ``amount_cents`` > 0; a paid claim has no row); ``tonight``: the night's allocations
    (``receivable_id``, ``kassenzeichen``, ``amount_cents``; a reversal negative)."""
    add = tonight.group_by("receivable_id").agg(pl.col("amount_cents").sum().alias("_tonight"))
    still = (open_claims.join(add, on="receivable_id", how="left")
             .filter(pl.col("amount_cents") - pl.col("_tonight").fill_null(0) > 0)
             .select(pl.col("kassenzeichen").alias("case_number")).unique())
    # a reversal tonight reopens a claim the ledger holds as paid: such a case waits for the next night
    reopened = tonight.filter(pl.col("amount_cents") < 0).select(pl.col("kassenzeichen").alias("case_number"))
    return (cases.join(still, on="case_number", how="anti").join(reopened.unique(), on="case_number", how="anti")
            .select("case_number", "settled_cents").sort("case_number"))


def invoice_kassenzeichen(tenant: str, creditor: str, period_from: date, period_to: date) -> str:
    """The Kassenzeichen of a cost invoice: the same creditor and period, the same number, every run."""
    key = "\x1f".join((tenant, creditor.strip().upper(), period_from.isoformat(), period_to.isoformat()))
    return "AK" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()


def invoices(accepted: pl.DataFrame, invoiced: pl.DataFrame, settings: AmtshilfeSection, *, tenant: str,
             booking_date: date) -> pl.DataFrame:
    """The items to invoice tonight (:data:`ledger.tables.AMTSHILFE_INVOICE_ITEMS` without tenant and run):
    the last complete period's :func:`cost_invoice` less the items and the creditor-periods invoiced before."""
    period_from, period_to = period_before(booking_date, settings.invoice_period)
    items = cost_invoice(accepted.select("creditor_id", "creditor_file_number", "case_number", "accepted_on"),
                         period_from, period_to, settings)
    cid = pl.col("creditor_id").str.strip_chars().str.to_uppercase()
    items = (items.with_columns(pl.format("{}:{}:{}", cid, pl.col("period_from"), pl.col("period_to"))
                                .alias("invoice_id"))
             .join(invoiced.select("item_id"), on="item_id", how="anti")
             .join(invoiced.select("invoice_id").unique(), on="invoice_id", how="anti"))
    kz = {i: invoice_kassenzeichen(tenant, i.split(":", 1)[0], period_from, period_to)   # one per creditor
          for i in items["invoice_id"].unique().to_list()}
    return items.with_columns(pl.col("invoice_id").replace_strict(kz, return_dtype=pl.String).alias("kassenzeichen"),
                              pl.lit(booking_date).alias("invoiced_on"))


def invoice_claims(items: pl.DataFrame, accepted: pl.DataFrame, cfg: TenantConfig, *, run_id: str,
                   booking_date: date, created_at: datetime) -> pl.DataFrame:
    """One claim of the tenant per invoice (:data:`ledger.tables.CLAIMS`): its total against the requesting
    body (module docstring)."""
    names = (accepted.with_columns(pl.col("creditor_id").str.strip_chars().str.to_uppercase().alias("_cid"))
             .group_by("_cid").agg(pl.col("creditor_name").drop_nulls().last()))
    due = booking_date + timedelta(days=cfg.amtshilfe.invoice_due_days)
    rows = (items.group_by("invoice_id", "kassenzeichen", "creditor_id", maintain_order=True)
            .agg(pl.col("amount_cents").sum())
            .with_columns(pl.col("creditor_id").str.strip_chars().str.to_uppercase().alias("_cid"))
            .join(names, on="_cid", how="left", maintain_order="left")
            .with_columns(pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id"),
                          (pl.col("kassenzeichen") + "-1").alias("receivable_id"),
                          pl.col("kassenzeichen").alias("kz_norm"), ("AH-GL-" + pl.col("_cid")).alias("debtor_id"),
                          pl.coalesce("creditor_name", "creditor_id").alias("debtor_name"),
                          pl.lit(str(ClaimType.KOSTEN)).alias("claim_type"), pl.lit(due).alias("due_date"),
                          pl.col("invoice_id").alias("external_ref"), pl.lit("public").alias("law"),
                          pl.lit("fee").alias("origin"), pl.lit(cfg.tenant).alias("creditor"),
                          pl.lit(booking_date).alias("notice_date"),
                          pl.format("{}.csv", pl.col("kassenzeichen")).alias("source_path"),
                          pl.lit(created_at).alias("created_at")))
    return rows.select([pl.col(k).cast(t) if k in rows.columns else pl.lit(None, t).alias(k)
                        for k, t in CLAIMS.items()])


def _events(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.select([pl.col(k).cast(t) if k in rows.columns else pl.lit(None, t).alias(k)
                        for k, t in AMTSHILFE_EVENTS.items()])


def with_money(frames: dict[str, pl.DataFrame], folder: RunDir, cfg: TenantConfig, *, run_id: str,
               booking_date: date) -> dict[str, pl.DataFrame]:
    """The book step's frames with tonight's ``settled`` events and request rows, and the period's cost
    invoices (events, items, claims) added (module docstring)."""
    tag = [pl.lit(cfg.tenant).alias("tenant"), pl.lit(run_id).alias("run_id")]
    out = dict(frames)
    held = _frame(folder, HELD, TABLES["amtshilfe_requests"])
    staged = frames["amtshilfe_requests"]
    key = [pl.col("creditor_id").str.strip_chars().str.to_uppercase().alias("_cid"),
           pl.col("creditor_file_number").str.strip_chars().alias("_fn")]
    cases = _frame(folder, SETTLE, SETTLE_SCHEMA)
    open_claims = pl.DataFrame(schema={"kassenzeichen": pl.String(), "receivable_id": pl.String(),
                                       "amount_cents": pl.Int64()})
    if cases.height and folder.file(OPEN_ITEMS_FILE).exists():   # only the candidates' claims are read
        open_claims = (pl.scan_parquet(folder.file(OPEN_ITEMS_FILE))
                       .filter(pl.col("kassenzeichen").is_in(cases["case_number"].implode()))
                       .select("kassenzeichen", "receivable_id", "amount_cents").collect())
    done = settled(cases, open_claims, frames["allocations"].select("receivable_id", "kassenzeichen", "amount_cents"))
    rows = (held.filter(pl.col("state").is_in(OPEN)).join(done, on="case_number", how="inner")
            .with_columns(key).join(staged.with_columns(key).select("_cid", "_fn"), on=["_cid", "_fn"], how="anti"))
    events: list[pl.DataFrame] = []
    if rows.height:
        events.append(rows.select(
            *tag, ("settled:" + pl.col("case_number")).alias("event_id"), pl.lit(str(ErsuchenFeedback.SETTLED))
            .alias("kind"), "creditor_id", "creditor_file_number", pl.lit(str(ErsuchenState.SETTLED)).alias("state"),
            "case_number", "payment_reference", pl.lit(booking_date).alias("event_date"),
            pl.col("settled_cents").alias("amount_cents"), pl.lit("Forderungen vollständig bezahlt").alias("text")))
        # after every row the ledger holds and every row staged tonight (amtshilfe._stage numbers from held)
        top = pl.concat([held.select("seq"), staged.select("seq")]).select(
            pl.col("seq").cast(pl.Int64).max().fill_null(0)).item()
        new = (rows.sort("case_number").with_row_index("_i")
               .with_columns((pl.lit(top + 1) + pl.col("_i").cast(pl.Int64)).alias("seq"), *tag,
                             pl.lit(str(ErsuchenState.SETTLED)).alias("state"),
                             ("settled:" + pl.col("case_number")).alias("message_id"),
                             pl.lit(booking_date).alias("received_on")))
        out["amtshilfe_requests"] = pl.concat([staged, new.select(staged.columns)], how="vertical_relaxed")
        notices = _frame(folder, HELD_NOTICES, TABLES["amtshilfe_notices"])
        carried = notices.with_columns(key).drop("seq", "tenant", "run_id").join(
            new.with_columns(key).select("_cid", "_fn", "seq", *tag), on=["_cid", "_fn"], how="inner")
        out["amtshilfe_notices"] = pl.concat([frames["amtshilfe_notices"],
                                              carried.select(frames["amtshilfe_notices"].columns)],
                                             how="vertical_relaxed")

    accepted = _frame(folder, ACCEPTED, ACCEPTED_SCHEMA)
    items = invoices(accepted, _frame(folder, INVOICED, INVOICED_SCHEMA), cfg.amtshilfe, tenant=cfg.tenant,
                     booking_date=booking_date)
    if items.height:
        out["amtshilfe_invoice_items"] = pl.concat([frames["amtshilfe_invoice_items"], items.with_columns(*tag).select(
            list(AMTSHILFE_INVOICE_ITEMS))], how="vertical_relaxed")
        bills = items.group_by("invoice_id", "kassenzeichen", "creditor_id", "period_from", "period_to",
                               maintain_order=True).agg(pl.col("amount_cents").sum())
        events.append(bills.select(
            *tag, ("cost_invoice:" + pl.col("invoice_id")).alias("event_id"),
            pl.lit(str(ErsuchenFeedback.COST_INVOICE)).alias("kind"), "creditor_id",
            pl.lit(booking_date).alias("event_date"), "amount_cents",
            pl.format("Kostenrechnung {} bis {}, Kassenzeichen {}", pl.col("period_from").dt.strftime("%d.%m.%Y"),
                      pl.col("period_to").dt.strftime("%d.%m.%Y"), "kassenzeichen").alias("text")))
        claims = invoice_claims(items, accepted, cfg, run_id=run_id, booking_date=booking_date,
                                created_at=datetime.now(UTC))
        from ledger import handoff

        handoff.check("claims", claims)
        out["claims"] = pl.concat([frames["claims"], claims.select(frames["claims"].columns)], how="vertical_relaxed")
    if events:
        out["amtshilfe_events"] = pl.concat([frames["amtshilfe_events"], *[_events(e) for e in events]],
                                            how="vertical_relaxed")
    return out


# --- the invoice document, after the commit ---------------------------------------------------------------

def _euro(cents: pl.Expr) -> pl.Expr:
    return pl.format("{},{}", cents // 100, (cents % 100).cast(pl.String).str.zfill(2))


def invoice_document(items: pl.DataFrame) -> pl.DataFrame:
    """The rows of one invoice's CSV (German Excel conventions: ``;``, decimal comma, dd.mm.yyyy): one per
    item, then the total."""
    body = items.sort("item_date", "item_id").select(
        pl.col("kassenzeichen").alias("Kassenzeichen"), pl.col("period_from").dt.strftime("%d.%m.%Y").alias("Zeitraum_von"),
        pl.col("period_to").dt.strftime("%d.%m.%Y").alias("Zeitraum_bis"),
        pl.col("creditor_file_number").alias("Aktenzeichen_Glaeubiger"), pl.col("case_number").alias("Unser_Zeichen"),
        pl.col("item_date").dt.strftime("%d.%m.%Y").alias("Datum"),
        pl.col("item").replace_strict({"contribution": "Kostenbeitrag § 5 Abs. 1 VO VwVG NRW", "outlay": "Auslage"},
                                      default=pl.col("item"), return_dtype=pl.String).alias("Posten"),
        pl.col("description").alias("Beschreibung"), _euro(pl.col("amount_cents")).alias("Betrag_EUR"))
    total = pl.DataFrame({c: [None] for c in body.columns}, schema=body.schema).with_columns(
        pl.lit(items["kassenzeichen"][0]).alias("Kassenzeichen"), pl.lit("Summe").alias("Posten"),
        _euro(pl.lit(int(items["amount_cents"].sum()), pl.Int64)).alias("Betrag_EUR"))
    return pl.concat([body, total])


def write_invoice_documents(folder: Path, tenant: str, items: pl.DataFrame) -> list[Path]:
    """One CSV per invoice in ``items`` (``amtshilfe_invoice_items`` rows) into ``folder``, written atomically
    (``<tenant>-KR-<Kassenzeichen>.csv``, UTF-8 with BOM): the same invoice, the same file."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for (kz,), part in items.partition_by("kassenzeichen", as_dict=True, maintain_order=True).items():
        target = folder / f"{tenant}-KR-{kz}.csv"
        tmp = target.with_name(target.name + ".tmp")
        invoice_document(part).write_csv(tmp, separator=";", include_bom=True)
        tmp.replace(target)
        out.append(target)
    return out


__all__ = ["ACCEPTED", "INVOICED", "SETTLE", "invoice_claims", "invoice_document", "invoice_kassenzeichen", "invoices",
           "period_before", "read", "settled", "with_money", "write_invoice_documents"]
