"""Why a candidate open item fits a payment: reference found, amount, IBAN known, name similarity.

Everything here only *explains* to a person; nothing decides money (DESIGN.md: a wrong automatic match is
worse than none). Name similarity uses rapidfuzz's token-set ratio (0-100).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import polars as pl
from rapidfuzz import fuzz
from schwifty import IBAN

_SEPARATORS = re.compile(r"[\s.\-/]")


@dataclass(frozen=True, slots=True)
class IbanVerdict:
    """schwifty's verdict on an IBAN as the bank delivered it."""

    text: str
    valid: bool
    formatted: str
    message: str                           # "gültig (Commerzbank, COBADEFFXXX)" or why it is not
    bic: str = ""


def iban_verdict(text: str | None) -> IbanVerdict | None:
    """Check an IBAN with schwifty (``None`` when there is none)."""
    if not text or not text.strip():
        return None
    try:
        iban = IBAN(text)
    except ValueError as exc:              # schwifty's exceptions subclass ValueError
        return IbanVerdict(text, False, text, f"ungültig: {exc}")
    bank = getattr(iban, "bank_name", None) or ""
    bic = str(iban.bic) if iban.bic else ""
    detail = ", ".join(x for x in (bank, bic) if x)
    return IbanVerdict(text, True, iban.formatted, f"gültig ({detail})" if detail else "gültig", bic)


def normalise_iban(text: str | None) -> str:
    """Upper case without spaces, for comparing IBANs."""
    return "".join((text or "").split()).upper()


def parse_candidates(raw: str | None) -> tuple[list[dict[str, Any]], str]:
    """The matcher's candidate list from its JSON column; (candidates, problem text or "")."""
    if not raw:
        return [], ""
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return [], f"candidates column is not JSON ({exc}); showing none"
    if not isinstance(data, list):
        return [], "candidates column is not a JSON list; showing none"
    return [c for c in data if isinstance(c, dict) and c.get("receivable_id")], ""


@dataclass(frozen=True, slots=True)
class Fit:
    """One open item beside a payment, with the reasons it may belong to it."""

    receivable_id: str
    kassenzeichen: str
    debtor_name: str
    claim_type: str
    due_date: str
    open_cents: int | None                 # what is still open now (None: no longer open)
    score: float | None                    # the matcher's score, if it proposed this item
    matcher_why: str
    reference_found: bool
    amount_equal: bool
    iban_known: bool
    name_similarity: int
    debtor_id: str = ""                    # links the debtor's dunning history


def _reference_found(kz: str, kz_norm: str, text: str) -> bool:
    if not kz and not kz_norm:
        return False
    compact = _SEPARATORS.sub("", text)
    return bool((kz and kz in text) or (kz_norm and kz_norm in compact))


def explain(row: dict[str, Any], items: pl.DataFrame, proposed: list[dict[str, Any]]) -> list[Fit]:
    """Fits for ``items`` (OPEN_ITEM_SCHEMA rows) against one Klärungsliste ``row``, proposed ones first."""
    text = " ".join(str(row.get(k) or "") for k in ("remittance", "end_to_end_id"))
    payer_iban = normalise_iban(row.get("counterparty_iban"))
    payer = (row.get("counterparty_name") or "").lower()
    amount = row.get("unallocated_cents")
    by_id = {p["receivable_id"]: p for p in proposed}
    out = []
    for it in items.iter_rows(named=True):           # a handful of open items per payment, not a hot path
        p = by_id.get(it["receivable_id"], {})
        ibans = {normalise_iban(x) for x in re.split(r"[,;]", it.get("debtor_iban") or "") if x.strip()}
        score = p.get("score")
        out.append(Fit(
            receivable_id=it["receivable_id"], kassenzeichen=it.get("kassenzeichen") or "",
            debtor_name=it.get("debtor_name") or "", claim_type=it.get("claim_type") or "",
            due_date=str(it.get("due_date") or ""), open_cents=it.get("amount_cents"),
            score=float(score) if isinstance(score, int | float) else None,
            matcher_why=str(p.get("why") or ""),
            reference_found=_reference_found(it.get("kassenzeichen") or "", it.get("kz_norm") or "", text),
            amount_equal=amount is not None and it.get("amount_cents") == amount,
            iban_known=bool(payer_iban) and payer_iban in ibans,
            name_similarity=round(fuzz.token_set_ratio(payer, (it.get("debtor_name") or "").lower()))
            if payer else 0,
            debtor_id=it.get("debtor_id") or "",
        ))
    out.sort(key=lambda f: (f.receivable_id not in by_id, -(f.score or 0), -f.name_similarity))
    return out


def proposed_items(open_items: pl.DataFrame, proposed: list[dict[str, Any]]) -> pl.DataFrame:
    """The open items the matcher proposed (those still open)."""
    ids = [str(c["receivable_id"]) for c in proposed]
    return open_items.filter(pl.col("receivable_id").is_in(ids))


def search_open_items(open_items: pl.DataFrame, q: str, limit: int = 20) -> pl.DataFrame:
    """Open items with money still open whose Kassenzeichen, receivable id, debtor name or IBAN contains ``q``
    (for a manual pick)."""
    q = q.strip()
    if not q:
        return open_items.head(0)
    low = q.lower()
    compact = _SEPARATORS.sub("", q)
    expr = (
        pl.col("debtor_name").fill_null("").str.to_lowercase().str.contains(low, literal=True)
        | pl.col("receivable_id").fill_null("").str.contains(q, literal=True)
        | pl.col("kassenzeichen").fill_null("").str.contains(q, literal=True)
        | pl.col("debtor_iban").fill_null("").str.replace_all(r"\s", "").str.to_uppercase()
        .str.contains(normalise_iban(q), literal=True)
    )
    if compact:
        expr = expr | pl.col("kz_norm").fill_null("").str.contains(compact, literal=True)
    # an item with nothing left open (0,00 €) cannot take money: the search does not offer it
    return open_items.filter(expr & (pl.col("amount_cents").fill_null(1) > 0)).head(limit)


def resolve_open_item(open_items: pl.DataFrame, key: str) -> dict[str, Any] | None:
    """The open item a clerk typed: its receivable id, or its Kassenzeichen with or without separators."""
    key = key.strip()
    if not key:
        return None
    compact = _SEPARATORS.sub("", key)
    hit = open_items.filter(
        (pl.col("receivable_id") == key) | (pl.col("kassenzeichen") == key) | (pl.col("kz_norm") == compact)
    )
    if hit.height != 1:
        hit = hit.filter(pl.col("receivable_id") == key)
    return hit.row(0, named=True) if hit.height == 1 else None
