"""Klärungsliste: every payment that was not booked automatically, with what a clerk needs to clear it.

One row per unresolved row (a payment, or the remainder of one), joined with its bank transaction for
payer, IBAN, remittance and provenance. ``section`` splits the list as the issue asks:

* ``unresolved`` — still to be cleared (no reference, ambiguous, unknown Kassenzeichen, …);
* ``overpayment`` — surplus after a booking, or a payment for an item already settled (refund or keep);
* ``verwahrgeld`` — money parked on the Verwahrkonto by a clerk's decision (item state ``parked``; read
  when the frame has a ``state`` column, as the ledger's current Klärungsliste has).

The list is computed from the current unresolved frame: a payment that matches later (a new open-items
export) is no longer in that frame, so it leaves the list by itself.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from claims.vocab import ItemState, Section, UnresolvedReason
from outputs.collection_texts import COLLECTION_HOLD_TEXT, PAYOUT_HOLD_TEXT
from outputs.fmt import eur_expr

#: One row per unresolved payment (or remainder), sorted by section, age (oldest first), amount.
KLAERUNG_SCHEMA: dict[str, pl.DataType] = {
    "section": pl.String(),               # Section: unresolved | overpayment | verwahrgeld
    "tenant": pl.String(),
    "account_iban": pl.String(),
    "transaction_id": pl.String(),
    "bank_ref": pl.String(),
    "booking_date": pl.Date(),
    "value_date": pl.Date(),
    "age_days": pl.Int32(),               # as_of − booking_date
    "amount_cents": pl.Int64(),           # the whole payment
    "unallocated_cents": pl.Int64(),      # what is still to be cleared
    "currency": pl.String(),
    "counterparty_name": pl.String(),     # payer (attacker-controlled text: escape when shown)
    "counterparty_iban": pl.String(),
    "iban_valid": pl.Boolean(),
    "remittance": pl.String(),
    "end_to_end_id": pl.String(),
    "reason": pl.String(),                # stable code from matching
    "reason_text": pl.String(),           # German explanation for people
    "candidates": pl.String(),            # JSON list as matching produced it
    "candidates_text": pl.String(),       # "KZ 4711 Meier 12,00 € (0.93 name)" joined by " | "
    "n_candidates": pl.Int32(),
    "statement_id": pl.String(),          # provenance: where the payment came from
    "entry_index": pl.Int32(),
    "source_file": pl.String(),
    "source_path": pl.String(),
    "raw": pl.String(),
}

#: Reason codes whose rows are a surplus rather than an unknown payment.
OVERPAYMENT_REASONS = UnresolvedReason.surplus()

#: German explanations of the reason codes (unknown codes are shown as they are).
REASON_TEXT: dict[str, str] = {
    UnresolvedReason.NO_REFERENCE: "Kein Kassenzeichen im Verwendungszweck gefunden",
    UnresolvedReason.UNKNOWN_REFERENCE: "Kassenzeichen nicht in den offenen Posten",
    UnresolvedReason.AMBIGUOUS: "Mehrere Forderungen passen gleich gut",
    UnresolvedReason.OVERPAYMENT: "Überzahlung: Rest nach Zuordnung",
    UnresolvedReason.DOUBLE_PAYMENT: "Doppelzahlung: Forderung bereits beglichen",
    UnresolvedReason.RETURN_UNMATCHED: "Rücklastschrift ohne zugehörige Buchung",
    UnresolvedReason.RETURN_DUPLICATE: "Rücklastschrift einer bereits zurückgebuchten Lastschrift",
    UnresolvedReason.SEVERAL_DEBTORS: "Kassenzeichen mehrerer Schuldner, Betrag ist nicht ihre Summe",
    UnresolvedReason.REFERENCE_OTHER_DEBTOR: "Betrag passt nicht, Zahler-IBAN gehört einem anderen Schuldner",
    UnresolvedReason.PAYER_UNCONFIRMED: "Betrag passt nicht, Zahler ist nicht erkennbar der Schuldner",
    UnresolvedReason.TYPO_UNCONFIRMED: "Kassenzeichen nur nach Tippfehler-Korrektur, Betrag passt nicht",
    UnresolvedReason.CONFLICT: "Zwei Zahlungen dieses Laufs nennen sich überschneidende Forderungen",
    UnresolvedReason.DESIGNATION_INCOMPLETE: "Beträge im Verwendungszweck nicht jedem Kassenzeichen zuzuordnen",
    UnresolvedReason.DESIGNATION_SUM_MISMATCH: "Beträge im Verwendungszweck ergeben nicht den Zahlbetrag",
    UnresolvedReason.LEARNED_RULE_CONTRADICTED: "Gelernte Regel nennt einen anderen Schuldner als Kassenzeichen oder IBAN",
    UnresolvedReason.EVIDENCE_CONFLICT: "Kassenzeichen und Zahler-IBAN weisen auf verschiedene Schuldner",
}

#: Every text a Klärungsliste row may need: the matcher's reasons and the holds of our own collections'
#: and payouts' bank rows (the nightly run holds those before the matcher, outputs/collection_texts.py).
#: (plain strings as keys: Polars would read members of three StrEnums as an Enum type of the first)
ALL_REASON_TEXT: dict[str, str] = {str(k): v for k, v in {**REASON_TEXT, **COLLECTION_HOLD_TEXT,
                                                          **PAYOUT_HOLD_TEXT}.items()}

_CANDIDATE = pl.Struct({
    "receivable_id": pl.String(), "kassenzeichen": pl.String(), "debtor_name": pl.String(),
    "amount_cents": pl.Int64(), "score": pl.Float64(), "why": pl.String(),
})


def _candidates_text() -> list[pl.Expr]:
    parsed = pl.col("candidates").fill_null("[]").str.replace(r"^\s*$", "[]").str.json_decode(pl.List(_CANDIDATE))
    one = pl.concat_str(
        [
            pl.lit("KZ "), pl.element().struct.field("kassenzeichen").fill_null("?"),
            pl.lit(" "), pl.element().struct.field("debtor_name").fill_null(""),
            pl.lit(" "), eur_expr(pl.element().struct.field("amount_cents")).fill_null(""),
            pl.lit(" ("), pl.element().struct.field("score").round(2).cast(pl.String()).fill_null("?"),
            pl.lit(" "), pl.element().struct.field("why").fill_null(""), pl.lit(")"),
        ]
    ).str.replace_all(r"\s+", " ")
    return [
        parsed.list.eval(one).list.join(" | ").alias("candidates_text"),
        parsed.list.len().cast(pl.Int32()).alias("n_candidates"),
    ]


def klaerungsliste(unresolved: pl.DataFrame, transactions: pl.DataFrame, *, as_of: date) -> pl.DataFrame:
    """Build the Klärungsliste as of ``as_of``: every unresolved payment with age, payer and candidates.

    ``unresolved`` follows UNRESOLVED_SCHEMA, ``transactions`` TRANSACTION_SCHEMA and must hold every
    payment the unresolved rows name (a missing one is a hand-off bug and raises ``ValueError``).
    Returns KLAERUNG_SCHEMA rows sorted by section, then oldest first, then largest amount.
    """
    tx = transactions.unique(subset=["transaction_id"], keep="first").select(
        "transaction_id", "tenant", "account_iban", pl.col("booking_date").alias("_tx_date"), "value_date",
        "currency", "counterparty_name", "counterparty_iban", "iban_valid", "remittance", "end_to_end_id",
        pl.col("bank_ref").alias("_tx_ref"), "statement_id", "entry_index", "source_file", "source_path", "raw",
    )
    df = unresolved.join(tx, on="transaction_id", how="left")
    lost = df.filter(pl.col("account_iban").is_null())
    if lost.height:
        ids = ", ".join(lost.get_column("transaction_id").head(5).to_list())
        raise ValueError(f"klaerungsliste: {lost.height} unresolved payment(s) not in transactions (e.g. {ids})")
    reason = pl.col("reason").fill_null("")
    parked = (pl.col("state") == ItemState.PARKED).fill_null(False) if "state" in df.columns else pl.lit(False)
    df = df.with_columns(
        pl.when(parked).then(pl.lit(Section.VERWAHRGELD))
        .when(reason.is_in(OVERPAYMENT_REASONS)).then(pl.lit(Section.OVERPAYMENT))
        .otherwise(pl.lit(Section.UNRESOLVED))
        .alias("section"),
        pl.coalesce("booking_date", "_tx_date").alias("booking_date"),
        pl.coalesce("bank_ref", "_tx_ref").alias("bank_ref"),
        reason.replace_strict(ALL_REASON_TEXT, default=reason, return_dtype=pl.String()).alias("reason_text"),
        *_candidates_text(),
    ).with_columns(
        (pl.lit(as_of) - pl.col("booking_date")).dt.total_days().cast(pl.Int32()).alias("age_days"),
        pl.col("unallocated_cents").fill_null(pl.col("amount_cents")),
    )
    order = pl.col("section").replace_strict({s: i for i, s in enumerate(Section)},
                                             return_dtype=pl.Int8())
    return (
        df.sort([order, pl.col("age_days"), pl.col("unallocated_cents"), pl.col("transaction_id")],
                descending=[False, True, True, False], nulls_last=True)
        .select([pl.col(k).cast(v) for k, v in KLAERUNG_SCHEMA.items()])
    )


def section_totals(kl: pl.DataFrame) -> pl.DataFrame:
    """Count and sum of unallocated cents per section (all three sections, zero when empty)."""
    sections = pl.DataFrame({"section": [s.value for s in Section]})
    sums = kl.group_by("section").agg(pl.len().cast(pl.Int64()).alias("n"),
                                      pl.col("unallocated_cents").sum().alias("cents"))
    return sections.join(sums, on="section", how="left").with_columns(
        pl.col("n").fill_null(0), pl.col("cents").fill_null(0)
    )
