"""Money collected for other creditors, forwarded to them (Amtshilfe; pure; docs/SEPA_PAYOUT.md, docs/AMTSHILFE.md).

An enforcement office that collects for another body (the Beitragsservice, a chamber, another
municipality) holds that money in trust: it is the requesting creditor's, and it goes to them by credit
transfer in the payout run (source ``forward``). What is due to a creditor is recomputed from the ledger
every run, never remembered:

    due = the allocations to the creditor's claims (net of reversals) − what earlier runs forwarded to it

* **Whose claims**: claims of origin ``amtshilfe`` whose ``creditor`` is not the tenant. The fees and
  costs of our own enforcement are booked as the tenant's own claims (origin ``fee``, creditor = tenant):
  a payment allocated to them is ours and is kept. How a payment is split between the creditor's claims
  and our fees is the allocation's business (§ 225 AO order per claim); this module only sums what the
  allocations gave each creditor.
* **Never twice**: what was forwarded is the sum of the booked payouts of source ``forward`` for the
  creditor (their ``source_id`` is ``<creditor>@<yyyymmdd>``), so a second run finds nothing due, and a
  run that crashed before booking left nothing to subtract.
* **Never negative**: a reversal booked after the money was forwarded makes ``due`` negative; no
  transfer is made and the creditor is held (``reversed_after_forward``) until later collections make up
  for it or a person asks the creditor for the money back.
* **Never set off**: the money is not the debtor's nor ours — there is no mutuality (§ 387 BGB); the set-off
  module never sees these rows.
* **Where to**: the creditor register — ``[[creditors]]`` (id, name, IBAN, BIC, reference, remittance
  template), else the account the creditor's latest request names (:func:`register_from_requests`; the
  config overrides it). An unknown creditor (``creditor_unknown``), open requests naming different IBANs
  (``creditor_account_conflict``), an invalid IBAN, a name outside the SEPA set skip the creditor with
  the reason; the money stays due for a later run.
* **One transfer per creditor and run** (collective): the items it covers — the Weiterleitungsnachweis —
  are the creditor's allocations laid end to end (day paid, payment, claim) with the part past what was
  forwarded before; their amounts add up to the transfer to the cent.

The per-request cost contribution (§ 5 Abs. 1 VO VwVG NRW) is not deducted: it is owed whether or not
anything is collected and is invoiced per period by the Amtshilfe cost invoice; deducting it here too would
charge it twice and hide it from the creditor's books.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

import polars as pl

from claims.config import Creditor
from claims.vocab import PayoutSkip, PayoutSource
from collection.payouts import SKIPPED_SCHEMA, TRANSFER_SCHEMA, iban_ok
from collection.sepa_text import MAX_LENGTH, Charset, FieldKind, check_text

#: The allocations to other creditors' claims as booked (a reversal: a negative row).
ITEM_SCHEMA: dict[str, pl.DataType] = {
    "creditor": pl.String(),
    "transaction_id": pl.String(),
    "receivable_id": pl.String(),
    "kassenzeichen": pl.String(),
    "external_ref": pl.String(),         # the creditor's reference of the claim (e.g. the Beitragsnummer)
    "creditor_file_number": pl.String(),  # their file number of the request the claim belongs to (if any)
    "debtor_name": pl.String(),
    "paid_on": pl.Date(),
    "amount_cents": pl.Int64(),
}
#: What earlier runs forwarded (one row per booked forward payout).
FORWARDED_SCHEMA: dict[str, pl.DataType] = {"creditor": pl.String(), "amount_cents": pl.Int64()}
#: The creditor register (``[[creditors]]``).
CREDITOR_SCHEMA: dict[str, pl.DataType] = {
    "creditor": pl.String(),
    "name": pl.String(),
    "iban": pl.String(),
    "bic": pl.String(),
    "reference": pl.String(),
    "remittance": pl.String(),
    "conflict": pl.String(),             # not null: the account is in doubt (the IBANs, for the person to decide)
}
#: The bank accounts the creditors' requests name (``amtshilfe_requests``, the current row of each request
#: that became a case): ``seq`` orders them, ``open`` says whether the request is still open.
ACCOUNT_SCHEMA: dict[str, pl.DataType] = {
    "creditor": pl.String(),
    "name": pl.String(),
    "iban": pl.String(),
    "bic": pl.String(),
    "seq": pl.Int64(),
    "open": pl.Boolean(),
}
#: The Weiterleitungsnachweis: the items one forward covers.
PROOF_SCHEMA: dict[str, pl.DataType] = {
    "source_id": pl.String(),
    "creditor": pl.String(),
    "kassenzeichen": pl.String(),
    "external_ref": pl.String(),
    "creditor_file_number": pl.String(),
    "debtor_name": pl.String(),
    "paid_on": pl.Date(),
    "transaction_id": pl.String(),
    "receivable_id": pl.String(),
    "amount_cents": pl.Int64(),
}
#: ``source_id`` of a forward: the creditor and the execution date.
SOURCE_ID = re.compile(r"^(?P<creditor>.+)@(?P<day>\d{8})$")
E2E_PREFIX = "WTL"
#: The remittance when the template's text does not fit 140 characters.
FALLBACK_REMITTANCE = "{reference} Weiterleitung {date}: {count} Posten lt. Weiterleitungsnachweis"
DEFAULT_REMITTANCE = "{reference} Weiterleitung Kz {kassenzeichen}"
#: The remittance of a creditor whose account comes from its requests: the creditor's own references of the
#: items (payment reference, e.g. the Beitragsnummer, else their file number) and our case numbers.
LEDGER_REMITTANCE = "{refs} Weiterleitung Kz {kassenzeichen}"
#: The first fallback of a template with ``{refs}``: their references without our case numbers.
REFS_FALLBACK = "{refs} Weiterleitung {date}"


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return frame.select([pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                         for c, t in schema.items()])


def _key(creditor: pl.Expr) -> pl.Expr:
    """A creditor id as compared: trimmed, upper-cased (as the Amtshilfe import writes the claims' ``creditor``)."""
    return creditor.str.strip_chars().str.to_uppercase()


def source_id(creditor: str, execution_date: date) -> str:
    """``<creditor>@<yyyymmdd>``: one forward per creditor and execution date."""
    return f"{creditor}@{execution_date:%Y%m%d}"


def creditor_of(source_ids: pl.Expr) -> pl.Expr:
    """The creditor of forward source ids (:func:`source_id`)."""
    return source_ids.str.extract(SOURCE_ID.pattern, 1)


def register_frame(creditors: Iterable[Creditor], accounts: pl.DataFrame | None = None) -> pl.DataFrame:
    """The creditor register: the ``[[creditors]]`` entries, and for every other creditor the account its
    requests name (:func:`register_from_requests`) — the config overrides the ledger. An id matches the
    claims' ``creditor`` trimmed and upper-cased; of two entries with the same id the first counts."""
    rows = [{"creditor": c.id, "name": c.name, "iban": c.iban, "bic": c.bic, "reference": c.reference,
             "remittance": c.remittance, "conflict": None} for c in creditors]
    config = pl.DataFrame(rows, schema=CREDITOR_SCHEMA)
    if accounts is None or accounts.is_empty():
        return config
    known = config.select(_key(pl.col("creditor")))["creditor"].implode()
    derived = register_from_requests(accounts).filter(~_key(pl.col("creditor")).is_in(known))
    return pl.concat([config, derived])


def register_from_requests(accounts: pl.DataFrame) -> pl.DataFrame:
    """The register entries the creditors' requests give (``ACCOUNT_SCHEMA`` in, ``CREDITOR_SCHEMA`` out):
    name, IBAN and BIC of the creditor's **latest** request (greatest ``seq``) that names an IBAN. When the
    creditor's open requests name two or more different IBANs (compared without spaces, upper-cased), the
    entry carries them in ``conflict``: :func:`forward_due` holds the money (``creditor_account_conflict``)
    for a person to decide — the account is never guessed. An IBAN that fails its check is held
    ``iban_invalid`` there as well. The remittance names the creditor's own references (:data:`LEDGER_REMITTANCE`)."""
    acc = (_conform(accounts, ACCOUNT_SCHEMA)
           .with_columns(pl.col("iban").str.replace_all(r"\s", "").str.to_uppercase())
           .filter(pl.col("iban").is_not_null() & (pl.col("iban") != "") & pl.col("creditor").is_not_null()))
    latest = acc.sort("creditor", "seq").group_by("creditor", maintain_order=True).last()
    conflicts = (acc.filter(pl.col("open").fill_null(False)).group_by("creditor")
                 .agg(pl.col("iban").unique().sort().alias("_ibans"))
                 .filter(pl.col("_ibans").list.len() > 1)
                 .select("creditor", pl.col("_ibans").list.join(" / ").alias("conflict")))
    return _conform(latest.join(conflicts, on="creditor", how="left").with_columns(
        pl.lit(None, pl.String).alias("reference"), pl.lit(LEDGER_REMITTANCE).alias("remittance")), CREDITOR_SCHEMA)


def _remittance(template: str | None, reference: str | None, kassenzeichen: list[str], count: int, day: date,
                refs: list[str] | None = None) -> str:
    """The template filled in; too long for 140 characters: without our case numbers (a template naming
    ``{refs}``), then :data:`FALLBACK_REMITTANCE` (the Weiterleitungsnachweis lists every item)."""
    values = {"reference": reference or "", "kassenzeichen": ", ".join(kassenzeichen), "count": count,
              "date": f"{day:%d.%m.%Y}", "refs": ", ".join(refs or [])}
    template = template or DEFAULT_REMITTANCE
    tries = [template, *([REFS_FALLBACK] if "{refs}" in template else []), FALLBACK_REMITTANCE]
    for t in tries:
        text = " ".join(t.format(**values).split())
        if len(text) <= MAX_LENGTH[FieldKind.REMITTANCE]:
            return text
    return text


def forward_due(items: pl.DataFrame, forwarded: pl.DataFrame, register: pl.DataFrame, execution_date: date, *,
                charset: Charset = Charset.DK) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(transfers, skipped, proof)``: one transfer per creditor with money due (``TRANSFER_SCHEMA``, source
    ``forward``), the creditors held with their reason (``SKIPPED_SCHEMA``), and the items each transfer
    covers (``PROOF_SCHEMA``). A creditor with nothing due appears in none of them."""
    it = _conform(items, ITEM_SCHEMA)
    net = (it.group_by("creditor", "transaction_id", "receivable_id")
           .agg(pl.col("amount_cents").sum(), *[pl.col(c).drop_nulls().first() for c in
                                                 ("kassenzeichen", "external_ref", "creditor_file_number",
                                                  "debtor_name", "paid_on")]))
    given = (_conform(forwarded, FORWARDED_SCHEMA).group_by("creditor")
             .agg(pl.col("amount_cents").sum().alias("given")))
    due = (net.group_by("creditor").agg(pl.col("amount_cents").sum().alias("total"))
           .join(given, on="creditor", how="full", coalesce=True)
           .with_columns(pl.col("total").fill_null(0), pl.col("given").fill_null(0))
           .with_columns((pl.col("total") - pl.col("given")).alias("due"))
           .filter(pl.col("due") != 0)
           .with_columns(_key(pl.col("creditor")).alias("_key"))
           .join(_conform(register, CREDITOR_SCHEMA).with_columns(_key(pl.col("creditor")).alias("_key"))
                 .unique("_key", keep="first", maintain_order=True).drop("creditor"),
                 on="_key", how="left").drop("_key")
           .with_columns(pl.col("iban").str.replace_all(r"\s", "").str.to_uppercase(),
                         pl.lit(PayoutSource.FORWARD.value).alias("source"),
                         pl.format("{}@{}", pl.col("creditor"), pl.lit(f"{execution_date:%Y%m%d}")).alias("source_id"))
           .sort("creditor"))
    # the items of each forward: the positive net items laid end to end, the part past what was given
    proof = (net.filter(pl.col("amount_cents") > 0).sort("creditor", "paid_on", "transaction_id", "receivable_id")
             .with_columns(pl.col("amount_cents").cum_sum().over("creditor").alias("_end"))
             .with_columns((pl.col("_end") - pl.col("amount_cents")).alias("_start"))
             .join(due.filter(pl.col("due") > 0).select("creditor", "source_id", "given", "due"), on="creditor")
             .with_columns((pl.min_horizontal("_end", pl.col("given") + pl.col("due"))
                            - pl.max_horizontal("_start", "given")).alias("amount_cents"))
             .filter(pl.col("amount_cents") > 0))
    refs = proof.group_by("creditor").agg(
        pl.col("kassenzeichen").drop_nulls().unique().sort(), pl.len().alias("n"),
        pl.coalesce("external_ref", "creditor_file_number").drop_nulls().unique().sort().alias("refs"))
    texts = {r["creditor"]: (r["kassenzeichen"], r["n"], r["refs"]) for r in refs.iter_rows(named=True)}
    due = due.with_columns(pl.Series("remittance", [   # one per creditor and run: a loop over a handful
        _remittance(t, ref, *texts.get(c, ([], 0, []))[:2], execution_date, texts.get(c, ([], 0, []))[2])
        for c, t, ref in due.select("creditor", "remittance", "reference").iter_rows()], dtype=pl.String))
    issues = check_text(due.select(pl.col("name").alias("payee_name"), "remittance"),
                        {"payee_name": FieldKind.NAME, "remittance": FieldKind.REMITTANCE}, charset=charset)
    bad = issues.group_by("row").agg(pl.format("{} {}", pl.col("field"), pl.col("problem")).first().alias("_text"))
    due = (due.with_row_index("row").join(bad.with_columns(pl.col("row").cast(pl.UInt32)), on="row", how="left")
           .with_columns(iban_ok(due["iban"]).alias("_iban")))
    reason = (pl.when(pl.col("due") < 0).then(pl.lit(PayoutSkip.REVERSED_AFTER_FORWARD.value))
              .when(pl.col("name").is_null()).then(pl.lit(PayoutSkip.CREDITOR_UNKNOWN.value))
              .when(pl.col("conflict").is_not_null()).then(pl.lit(PayoutSkip.CREDITOR_ACCOUNT_CONFLICT.value))
              .when(~pl.col("_iban")).then(pl.lit(PayoutSkip.IBAN_INVALID.value))
              .when(pl.col("_text").str.starts_with("payee_name")).then(pl.lit(PayoutSkip.PAYEE_NAME_INVALID.value))
              .when(pl.col("_text").is_not_null()).then(pl.lit(PayoutSkip.REMITTANCE_TOO_LONG.value)))
    detail = (pl.when(pl.col("due") < 0)
              .then(pl.format("{} Cent nach der Weiterleitung storniert (weitergeleitet {}, zugeordnet {})",
                              -pl.col("due"), pl.col("given"), pl.col("total")))
              .when(pl.col("name").is_null()).then(pl.format("Gläubiger {} fehlt in [[creditors]]", pl.col("creditor")))
              .when(pl.col("conflict").is_not_null())
              .then(pl.format("offene Ersuchen nennen verschiedene IBAN: {}", pl.col("conflict")))
              .when(~pl.col("_iban")).then(pl.col("iban"))
              .otherwise(pl.col("_text")))
    due = due.with_columns(reason.alias("reason"), detail.alias("detail"))
    skipped = _conform(due.filter(pl.col("reason").is_not_null())
                       .with_columns(pl.col("due").alias("amount_cents")), SKIPPED_SCHEMA)
    head = f"{E2E_PREFIX}{execution_date:%y%m%d}-"
    room = MAX_LENGTH[FieldKind.ID] - len(head)
    ok = due.filter(pl.col("reason").is_null()).select(
        "source", "source_id", pl.col("name").alias("payee_name"), pl.col("iban").alias("payee_iban"),
        pl.col("bic").alias("payee_bic"), pl.col("due").alias("amount_cents"), pl.col("due").alias("credit_cents"),
        pl.lit(0, pl.Int64).alias("setoff_cents"), "remittance",
        pl.concat_str(pl.lit(head), pl.col("creditor").str.replace_all(r"[^A-Za-z0-9-]", "").str.slice(0, room)
                      .str.strip_chars("-")).alias("end_to_end_id"))
    transfers = _conform(ok, TRANSFER_SCHEMA).sort("end_to_end_id")
    proof = _conform(proof.join(ok.select("source_id"), on="source_id", how="semi"), PROOF_SCHEMA)
    return transfers, skipped, proof


def forward_events(proof: pl.DataFrame, cases: pl.DataFrame, execution_date: date) -> pl.DataFrame:
    """The ``payment_forwarded`` events of the forwards booked (``amtshilfe_events`` columns, without tenant and
    run): one per forward and request it covers — the proof's items of our case number summed — with the
    creditor id and file number as the creditor sent them (``cases``: ``case_number``, ``creditor_id``,
    ``creditor_file_number``, ``payment_reference``). ``event_id`` = ``<source_id>:<case number>``: a forward
    is booked once, so is its event. Items of claims that belong to no request (a claim of origin
    ``amtshilfe`` not made by the import) make no event. The total forwarded so far is not stored: the
    feedback sums every ``payment_forwarded`` event of the request (``amtshilfe.feedback``)."""
    per_case = (_conform(proof, PROOF_SCHEMA).group_by("source_id", "kassenzeichen")
                .agg(pl.col("amount_cents").sum()).filter(pl.col("amount_cents") > 0))
    return (per_case.join(cases.select("case_number", "creditor_id", "creditor_file_number", "payment_reference"),
                          left_on="kassenzeichen", right_on="case_number", how="inner")
            .sort("source_id", "kassenzeichen")
            .select(pl.format("{}:{}", "source_id", "kassenzeichen").alias("event_id"),
                    pl.lit("payment_forwarded").alias("kind"), "creditor_id", "creditor_file_number",
                    pl.col("kassenzeichen").alias("case_number"), "payment_reference",
                    pl.lit(execution_date).alias("event_date"), "amount_cents"))


def proof_files(proof: pl.DataFrame, execution_date: date) -> list[tuple[str, pl.DataFrame]]:
    """The Weiterleitungsnachweis per creditor: ``(file name, rows)`` in German Excel conventions (``;``,
    decimal comma, dd.mm.yyyy); the caller writes them (``write_csv``)."""
    out: list[tuple[str, pl.DataFrame]] = []
    for creditor in sorted(proof["creditor"].unique().to_list()):
        rows = proof.filter(pl.col("creditor") == creditor).select(
            pl.col("kassenzeichen").alias("Kassenzeichen"),
            pl.coalesce("external_ref", "creditor_file_number").alias("Zeichen_Glaeubiger"),
            pl.col("debtor_name").alias("Schuldner"), pl.col("paid_on").dt.strftime("%d.%m.%Y").alias("Zahlung_vom"),
            pl.format("{},{}", pl.col("amount_cents") // 100,
                      (pl.col("amount_cents") % 100).cast(pl.String).str.zfill(2)).alias("Betrag_EUR"),
            pl.col("receivable_id").alias("Forderung"), pl.col("transaction_id").alias("Zahlung"))
        tag = re.sub(r"[^A-Za-z0-9-]", "_", creditor)
        out.append((f"weiterleitung_{execution_date:%Y%m%d}_{tag}.csv", rows))
    return out


__all__ = ["ACCOUNT_SCHEMA", "CREDITOR_SCHEMA", "FORWARDED_SCHEMA", "ITEM_SCHEMA", "PROOF_SCHEMA", "creditor_of",
           "forward_due", "forward_events", "proof_files", "register_frame", "register_from_requests", "source_id"]
