"""gpaNRW key figures for payment processing (DOMAIN.md §6.2), computed from the run's frames.

Working definitions (the GPA's official formulas are unconfirmed, see DOMAIN.md §8 item 12):

* **incoming payment** — a booked transaction with ``amount_cents > 0`` (after batch breakdown);
* **booked automatically** — an incoming payment with at least one allocation ``decided_by == "auto"``,
  no allocation by a clerk, and no row in the unresolved list (a surplus remainder counts as not clean);
  a booking by an approved learned rule is automatic;
* **Automatisierungsgrad** = booked automatically ÷ incoming payments × 100;
* **Ungeklärte Einzahlungen je 10.000 Einzahlungen** = incoming payments with an unresolved row ÷
  incoming payments × 10,000 (state on ``as_of``);
* **age structure** of unresolved rows by ``as_of − booking_date``: 0–7, 8–30, 31–90, >90 days;
* **bookings per learned rule**: allocations with rule ``learned_rule`` counted by their ``rule_id`` (a
  column the ledger's allocations carry; frames without it count none).

The period is whatever the caller passes (only rows booked up to ``as_of`` count): the day's frames give
the day's figures, the ledger's year gives the year's. Rates are floats (they are not money).
"""

from __future__ import annotations

from datetime import date

import polars as pl

SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "as_of": pl.Date(),
    "first_booking_date": pl.Date(),
    "last_booking_date": pl.Date(),
    "n_incoming": pl.Int64(),
    "incoming_cents": pl.Int64(),
    "n_outgoing": pl.Int64(),
    "outgoing_cents": pl.Int64(),          # positive number
    "n_auto": pl.Int64(),
    "auto_cents": pl.Int64(),
    "automation_rate_pct": pl.Float64(),  # Automatisierungsgrad
    "n_unresolved_payments": pl.Int64(),
    "unresolved_cents": pl.Int64(),
    "unresolved_per_10000": pl.Float64(),  # Ungeklärte Einzahlungen je 10.000 Einzahlungen
}

PER_DAY_ACCOUNT_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "booking_date": pl.Date(),
    "account_iban": pl.String(),
    "n_incoming": pl.Int64(),
    "incoming_cents": pl.Int64(),
    "n_outgoing": pl.Int64(),
    "outgoing_cents": pl.Int64(),
    "n_auto": pl.Int64(),
    "n_unresolved_payments": pl.Int64(),
}

AGE_STRUCTURE_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "age_band": pl.String(),               # "0–7", "8–30", "31–90", ">90" (days)
    "band_order": pl.Int8(),
    "n_items": pl.Int64(),
    "unallocated_cents": pl.Int64(),
}

BY_RULE_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "rule": pl.String(),
    "decided_by": pl.String(),             # auto | clerk
    "n_allocations": pl.Int64(),
    "amount_cents": pl.Int64(),
}

BY_LEARNED_RULE_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "rule_id": pl.String(),                # the approved learned rule (match_rules.rule_id)
    "n_allocations": pl.Int64(),
    "amount_cents": pl.Int64(),
}

BY_REASON_SCHEMA: dict[str, pl.DataType] = {
    "tenant": pl.String(),
    "reason": pl.String(),
    "n_items": pl.Int64(),
    "unallocated_cents": pl.Int64(),
}

#: The age bands of the unresolved list: (label, lowest age in days), in order.
AGE_BANDS = (("0–7", 0), ("8–30", 8), ("31–90", 31), (">90", 91))


def _conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return df.select([pl.col(k).cast(v) for k, v in schema.items()])


def _payments(transactions: pl.DataFrame, allocations: pl.DataFrame, unresolved: pl.DataFrame,
              as_of: date) -> pl.DataFrame:
    """Booked payments up to ``as_of`` with flags ``is_auto`` and ``is_unresolved``."""
    tx = (
        transactions.unique(subset=["transaction_id"], keep="first")
        .filter(pl.col("booked").fill_null(False) & (pl.col("booking_date") <= as_of))
        .select("transaction_id", "tenant", "account_iban", "booking_date", "amount_cents")
    )
    by = allocations.group_by("transaction_id").agg(
        (pl.col("decided_by") == "auto").any().alias("_any_auto"),
        (pl.col("decided_by") != "auto").any().alias("_any_clerk"),
    )
    un = unresolved.select(pl.col("transaction_id").unique(), pl.lit(True).alias("is_unresolved"))
    return (
        tx.join(by, on="transaction_id", how="left")
        .join(un, on="transaction_id", how="left")
        .with_columns(
            pl.col("is_unresolved").fill_null(False),
            (pl.col("amount_cents") > 0).alias("is_incoming"),
        )
        .with_columns(
            (pl.col("is_incoming") & pl.col("_any_auto").fill_null(False)
             & ~pl.col("_any_clerk").fill_null(False) & ~pl.col("is_unresolved")).alias("is_auto")
        )
    )


def _counts() -> list[pl.Expr]:
    inc, amt = pl.col("is_incoming"), pl.col("amount_cents")
    return [
        inc.sum().cast(pl.Int64()).alias("n_incoming"),
        amt.filter(inc).sum().alias("incoming_cents"),
        (amt < 0).sum().cast(pl.Int64()).alias("n_outgoing"),
        (-amt.filter(amt < 0).sum()).alias("outgoing_cents"),
        pl.col("is_auto").sum().cast(pl.Int64()).alias("n_auto"),
        amt.filter(pl.col("is_auto")).sum().alias("auto_cents"),
        (inc & pl.col("is_unresolved")).sum().cast(pl.Int64()).alias("n_unresolved_payments"),
    ]


def _age_structure(unresolved: pl.DataFrame, tenants: pl.DataFrame, as_of: date) -> pl.DataFrame:
    bands = pl.DataFrame({"age_band": [b for b, _ in AGE_BANDS], "band_order": list(range(len(AGE_BANDS)))},
                         schema={"age_band": pl.String(), "band_order": pl.Int8()})
    age = (pl.lit(as_of) - pl.col("booking_date")).dt.total_days()
    band = pl.lit(0, pl.Int8())
    for i, (_, low) in enumerate(AGE_BANDS[1:], start=1):
        band = pl.when(age >= low).then(pl.lit(i, pl.Int8())).otherwise(band)
    got = (
        unresolved.with_columns(band.alias("band_order"))
        .group_by("tenant", "band_order")
        .agg(pl.len().cast(pl.Int64()).alias("n_items"), pl.col("unallocated_cents").sum())
    )
    return _conform(
        tenants.join(bands, how="cross")
        .join(got, on=["tenant", "band_order"], how="left")
        .with_columns(pl.col("n_items").fill_null(0), pl.col("unallocated_cents").fill_null(0))
        .sort("tenant", "band_order"),
        AGE_STRUCTURE_SCHEMA,
    )


def key_figures(transactions: pl.DataFrame, allocations: pl.DataFrame, unresolved: pl.DataFrame, *,
                as_of: date, tenant: str | None = None) -> dict[str, pl.DataFrame]:
    """Compute the key figures as of ``as_of``: ``summary`` (one row per tenant) and detail frames.

    Returns frames named ``summary``, ``per_day_account``, ``age_structure``, ``by_rule``,
    ``by_learned_rule`` and ``by_reason``
    (schemas ``*_SCHEMA`` in this module). Inputs follow TRANSACTION_SCHEMA, ALLOCATION_SCHEMA and
    UNRESOLVED_SCHEMA; allocations and unresolved rows are attributed to a tenant through their transaction;
    rows whose transaction is not in ``transactions`` (e.g. older unresolved items when only the day's
    payments are passed) belong to ``tenant``, or to the only tenant in ``transactions``.
    """
    pay = _payments(transactions, allocations, unresolved, as_of)
    summary = (
        pay.group_by("tenant")
        .agg(
            pl.col("booking_date").min().alias("first_booking_date"),
            pl.col("booking_date").max().alias("last_booking_date"),
            *_counts(),
        )
        .with_columns(
            pl.lit(as_of).alias("as_of"),
            pl.when(pl.col("n_incoming") > 0)
            .then(pl.col("n_auto") * 100.0 / pl.col("n_incoming")).alias("automation_rate_pct"),
            pl.when(pl.col("n_incoming") > 0)
            .then(pl.col("n_unresolved_payments") * 10_000.0 / pl.col("n_incoming")).alias("unresolved_per_10000"),
        )
    )
    tenant_of = transactions.select("transaction_id", "tenant").unique(subset=["transaction_id"], keep="first")
    known = transactions.get_column("tenant").unique().to_list()
    fallback = tenant if tenant is not None else (known[0] if len(known) == 1 else "")
    un = (
        unresolved.join(tenant_of, on="transaction_id", how="left")
        .with_columns(pl.col("tenant").fill_null(fallback))
        .filter(pl.col("booking_date") <= as_of)
    )
    open_sum = un.group_by("tenant").agg(pl.col("unallocated_cents").sum().alias("unresolved_cents"))
    summary = summary.join(open_sum, on="tenant", how="left").with_columns(pl.col("unresolved_cents").fill_null(0))
    per_day = pay.group_by("tenant", "booking_date", "account_iban").agg(*_counts()).sort(
        "tenant", "booking_date", "account_iban"
    )
    al = allocations.join(tenant_of, on="transaction_id", how="left").with_columns(
        pl.col("tenant").fill_null(fallback),
        pl.when(pl.col("decided_by") == "auto").then(pl.lit("auto")).otherwise(pl.lit("clerk")).alias("decided_by"),
    )
    by_rule = al.group_by("tenant", "rule", "decided_by").agg(
        pl.len().cast(pl.Int64()).alias("n_allocations"), pl.col("amount_cents").sum()
    ).sort("tenant", "rule", "decided_by")
    learned = al.filter(pl.col("rule") == "learned_rule")
    if "rule_id" not in learned.columns:
        learned = learned.with_columns(pl.lit(None, pl.String()).alias("rule_id"))
    by_learned_rule = learned.group_by("tenant", "rule_id").agg(
        pl.len().cast(pl.Int64()).alias("n_allocations"), pl.col("amount_cents").sum()
    ).sort("tenant", "rule_id")
    by_reason = un.group_by("tenant", "reason").agg(
        pl.len().cast(pl.Int64()).alias("n_items"), pl.col("unallocated_cents").sum()
    ).sort("tenant", "reason")
    tenants = pl.concat([summary.select("tenant"), un.select("tenant")]).unique().sort("tenant")
    return {
        "summary": _conform(summary.sort("tenant"), SUMMARY_SCHEMA),
        "per_day_account": _conform(per_day, PER_DAY_ACCOUNT_SCHEMA),
        "age_structure": _age_structure(un, tenants, as_of),
        "by_rule": _conform(by_rule, BY_RULE_SCHEMA),
        "by_learned_rule": _conform(by_learned_rule, BY_LEARNED_RULE_SCHEMA),
        "by_reason": _conform(by_reason, BY_REASON_SCHEMA),
    }
