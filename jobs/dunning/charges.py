"""The fees and surcharges a booked notice charges, as claims of Stadtkasse's own with a Kassenzeichen.

Per claim on a booked notice (set-based, no loop over claims):

* ``MAHNGEBUEHR`` — the notice's Mahngebühr (``dunning.fees``: once per claim, so at most once);
* ``SAEUMNISZUSCHLAG`` / ``ZINSEN`` — the selection's figures are what accrued **in total** up to the
  notice date; booked is only the difference to what earlier runs booked for the claim (table
  ``claims``, by ``parent_receivable_id``), when positive.

Each becomes a row of ``claims`` (origin ``fee``, creditor the tenant, debtor and address of the main
claim, ``law`` of the main claim, due on the notice's deadline, ``parent_receivable_id`` = the main claim).

**One fee Kassenzeichen per notice**, shared by all the fee claims that notice charges: the letter quotes
it beside the main claims' Kassenzeichen (claims table, remittance, GiroCode), so a citizen paying the
letter's total with the letter's remittance settles every claim of it — the matcher takes the items of
all the Kassenzeichen named together and fills them in the § 225 AO class order (main claim, Mahngebühr,
Zinsen, Säumniszuschläge), one debtor, exactly the sum: booked. Several claims under one Kassenzeichen are
what the finance system does too (a Grundbesitzabgaben notice). A later letter also asks for the earlier
notices' fee claims still open and quotes their Kassenzeichen (:func:`owed`). ``receivable_id`` =
``GEB-<Kassenzeichen>-<n>``, *n* counting the notice's fee claims from 1 (main claim, then type order).

**Kassenzeichen of the fees** (a payment quoting it is matched like any other): the tenant's grammar
(``[reference] digits`` and ``check_digit``), the body being the reserved leading digits
``[dunning] fee_kassenzeichen_prefix`` (default ``9``) followed by a counter, zero-padded, continuing from
the highest counter the ledger's own claims carry; mod-11 bodies that would need check value 10 are
skipped (never issued). The finance system must not issue
Kassenzeichen starting with the prefix: the job checks the new numbers against every Kassenzeichen the
ledger knows (exports and own claims) and refuses the booking on a collision
(:class:`FeeNumberCollision`), naming one.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from claims.errors import KasseError
from claims.kassenzeichen_expr import check_ok
from claims.vocab import ClaimType
from ledger.tables import CLAIMS

#: The charge columns of a notice item and the claim type each books.
CHARGES = {"mahngebuehr": ClaimType.MAHNGEBUEHR, "saeumniszuschlag": ClaimType.SAEUMNISZUSCHLAG,
           "interest": ClaimType.ZINSEN}
#: The fee claims' receivable ids: this prefix + the Kassenzeichen.
RECEIVABLE_PREFIX = "GEB-"


class FeeNumberCollision(KasseError):
    """A new fee Kassenzeichen is in use already (the finance system issued one with the reserved prefix)."""


def body_length(digits: int, scheme: str) -> int:
    return digits if scheme == "none" else digits - 1


def next_counter(own_numbers: pl.Series, prefix: str, digits: int, scheme: str) -> int:
    """The first counter after the highest one among ``own_numbers`` (Kassenzeichen of own claims)."""
    body = body_length(digits, scheme)
    mine = own_numbers.drop_nulls().filter(own_numbers.drop_nulls().str.starts_with(prefix)
                                           & (own_numbers.drop_nulls().str.len_chars() == digits))
    if mine.len() == 0:
        return 1
    counters = mine.str.slice(len(prefix), body - len(prefix)).cast(pl.Int64, strict=False).drop_nulls()
    return int(counters.max() or 0) + 1  # type: ignore[arg-type]


def fee_numbers(n: int, first: int, *, prefix: str, digits: int, scheme: str) -> pl.Series:
    """``n`` Kassenzeichen (normal form) from counter ``first`` on: prefix + counter + check digit."""
    body = body_length(digits, scheme)
    width = body - len(prefix)
    if not prefix.isdigit() or width < 1:
        raise KasseError(f"[dunning] fee_kassenzeichen_prefix {prefix!r}: expected digits, shorter than the "
                         f"{body}-digit body of a Kassenzeichen")
    if n == 0:
        return pl.Series("kz_norm", [], pl.String)
    # enough counters for n numbers: mod 11 leaves out about one body in eleven
    want = n + n // 8 + 12
    if first + want > 10**width:
        raise KasseError(f"the fee Kassenzeichen with prefix {prefix} are used up ({10**width - 1} numbers): "
                         "choose another [dunning] fee_kassenzeichen_prefix")
    bodies = pl.DataFrame({"c": pl.int_range(first, first + want, eager=True)}).select(
        (pl.lit(prefix) + pl.col("c").cast(pl.String).str.zfill(width)).alias("b"))
    if scheme == "none":
        return bodies["b"].head(n).alias("kz_norm")
    # every body with each check digit; the valid one stays (none for a mod-11 body needing 10)
    cand = bodies.join(pl.DataFrame({"d": [str(d) for d in range(10)]}), how="cross").select(
        (pl.col("b") + pl.col("d")).alias("kz_norm"))
    valid = cand.filter(check_ok(pl.col("kz_norm"), digits, scheme)).sort("kz_norm")
    if valid.height < n:
        raise KasseError(f"the fee Kassenzeichen with prefix {prefix} are used up")
    return valid["kz_norm"].head(n)


def charge_rows(items: pl.DataFrame, charged: pl.DataFrame) -> pl.DataFrame:
    """One row per charge to book: ``receivable_id`` (the main claim), ``notice_id``, ``claim_type``,
    ``amount_cents`` (> 0). ``items``: the booked notice items (``*_cents`` of :data:`CHARGES`);
    ``charged``: ``ledger.dunning_state.CHARGED_SCHEMA`` (what earlier runs booked)."""
    long = items.select(
        "notice_id", "receivable_id",
        *[pl.col(f"{c}_cents").fill_null(0).alias(str(t)) for c, t in CHARGES.items()],
    ).unpivot(index=["notice_id", "receivable_id"], variable_name="claim_type", value_name="total_cents")
    before = charged.filter(pl.col("claim_type") != ClaimType.MAHNGEBUEHR).rename(
        {"parent_receivable_id": "receivable_id"})
    return (long.join(before, on=["receivable_id", "claim_type"], how="left")
            # the Mahngebühr is charged once (the selection knows); surcharges book what accrued since
            .with_columns((pl.col("total_cents") - pl.col("booked_cents").fill_null(0)).alias("amount_cents"))
            .filter(pl.col("amount_cents") > 0)
            .select("notice_id", "receivable_id", "claim_type", "amount_cents")
            .sort("notice_id", "receivable_id", "claim_type"))


def notice_numbers(charges: pl.DataFrame, numbers: pl.Series) -> pl.DataFrame:
    """``notice_id`` → ``fee_kassenzeichen``: one of ``numbers`` per notice that charges anything, in
    notice order (``numbers`` holds as many as ``charges`` has distinct notices)."""
    ids = charges.select(pl.col("notice_id").unique(maintain_order=True)).sort("notice_id")
    return ids.with_columns(numbers.head(ids.height).alias("fee_kassenzeichen"))


def fee_claims(charges: pl.DataFrame, per_notice: pl.DataFrame, parents: pl.DataFrame, notices: pl.DataFrame, *,
               tenant: str, run_id: str, created_at: datetime) -> pl.DataFrame:
    """The ledger rows (:data:`ledger.tables.CLAIMS`) of ``charges``, each under its notice's fee
    Kassenzeichen (``per_notice``: :func:`notice_numbers`). ``parents``: the main claims (debtor, name,
    IBAN, address, law); ``notices``: ``notice_id`` → ``deadline``."""
    parent_cols = ["receivable_id", "debtor_id", "debtor_name", "debtor_iban", "law", "debtor_street",
                   "debtor_postcode", "debtor_city", "debtor_country", "debtor_birth_date"]
    df = (charges.sort("notice_id", "receivable_id", "claim_type")
          .join(per_notice.select("notice_id", pl.col("fee_kassenzeichen").alias("kz_norm")), on="notice_id",
                how="left")
          .with_columns(pl.int_range(1, pl.len() + 1).over("notice_id").alias("_n"))
          .join(parents.select(parent_cols).unique("receivable_id", keep="first"), on="receivable_id", how="left")
          .join(notices.select("notice_id", "deadline"), on="notice_id", how="left")
          .with_columns(
              pl.col("receivable_id").alias("parent_receivable_id"),
              (pl.lit(RECEIVABLE_PREFIX) + pl.col("kz_norm") + "-" + pl.col("_n").cast(pl.String))
              .alias("receivable_id"),
              pl.col("kz_norm").alias("kassenzeichen"),
              pl.col("deadline").alias("due_date"),
              pl.col("law").fill_null("public"),
              pl.lit("fee").alias("origin"), pl.lit(tenant).alias("creditor"), pl.lit(tenant).alias("tenant"),
              pl.lit(run_id).alias("run_id"), pl.lit(created_at).alias("created_at"),
              pl.lit(run_id).alias("source_file"),
          ))
    return df.select([pl.col(c).cast(t) if c in df.columns else pl.lit(None, t).alias(c) for c, t in CLAIMS.items()])


#: Per fee claim type, the notice item's column that shows what is open of it.
OWED_COLUMNS = {str(t): f"{c}_cents" for c, t in CHARGES.items()}


def owed(items: pl.DataFrame, open_fees: pl.DataFrame, booked: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What the debtor owes on each booked notice, from the ledger: the letter shows it and asks for it.

    ``items``: the notice items (``notice_id``, ``receivable_id``, ``open_cents`` = the open principal, and
    the selection's charge columns); ``open_fees``: the fee claims of earlier runs still open after their
    allocations (``ledger.dunning_state.OPEN_FEE_SCHEMA``); ``booked``: the fee claims this run books
    (:func:`fee_claims`' rows). Returns

    * ``items`` with ``mahngebuehr_cents``, ``saeumniszuschlag_cents``, ``interest_cents`` = the **open**
      amount of every fee claim of that type of the main claim — the earlier ones as far as they are not
      paid, plus the ones booked now — and ``earlier_cents`` (of those, the part from earlier runs);
    * ``fee_kz``: ``notice_id``, ``fee_kassenzeichen`` — one row per fee Kassenzeichen holding an open fee
      claim of the notice's claims, in number order (the counter: earlier notices first), deduplicated.

    Why: a later letter's selection figures are the Säumniszuschlag accrued **in total** and no
    Mahngebühr (charged before); only the difference is booked under the new fee Kassenzeichen, the
    rest sits under the earlier notices' — a payment of such a total with such a remittance could not
    settle the claims. From the ledger's open amounts, a transfer of the total quoting the remittance names
    exactly the claims that make up the total, and a payment of an earlier fee lowers it."""
    earlier = open_fees.select("parent_receivable_id", "claim_type", "kassenzeichen",
                               pl.col("open_cents").alias("cents"), pl.lit(True).alias("earlier"))
    now = booked.select("parent_receivable_id", "claim_type", "kassenzeichen",
                        pl.col("amount_cents").alias("cents"), pl.lit(False).alias("earlier"))
    fees = (pl.concat([earlier, now]).rename({"parent_receivable_id": "receivable_id"})
            .join(items.select("notice_id", "receivable_id"), on="receivable_id", how="inner"))
    per_type = fees.group_by("notice_id", "receivable_id").agg(
        *[pl.col("cents").filter(pl.col("claim_type") == t).sum().cast(pl.Int64).alias(col)
          for t, col in OWED_COLUMNS.items()],
        pl.col("cents").filter(pl.col("earlier")).sum().cast(pl.Int64).alias("earlier_cents"))
    cols = [*OWED_COLUMNS.values(), "earlier_cents"]
    out = (items.drop([c for c in cols if c in items.columns])
           .join(per_type, on=["notice_id", "receivable_id"], how="left", maintain_order="left")
           .with_columns([pl.col(c).fill_null(0) for c in cols])
           .select(*[c for c in items.columns if c != "earlier_cents"], "earlier_cents"))
    fee_kz = (fees.select("notice_id", pl.col("kassenzeichen").cast(pl.String).alias("fee_kassenzeichen"))
              .filter(pl.col("fee_kassenzeichen").is_not_null()).unique().sort("notice_id", "fee_kassenzeichen"))
    return out, fee_kz
