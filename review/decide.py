"""Turn a submitted decision form into a journal :class:`~ledger.journal.Decision`, or into the reasons not to.

Plain functions (no web objects) so the rules are tested directly: split amounts in integer cents must add
up to the payment exactly, each open item may receive at most what is still open on it, a refund IBAN must
pass schwifty, parking as Verwahrgeld needs a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from ledger.journal import Allocation, Decision, new_decision
from review.amounts import AmountError, format_cents, parse_amount
from review.config import ReviewConfig
from review.explain import iban_verdict, resolve_open_item
from review.users import User

BEFORE_FIELDS = ("transaction_id", "account_iban", "booking_date", "amount_cents", "unallocated_cents",
                 "counterparty_name", "counterparty_iban", "remittance", "reason", "bank_ref")
MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class DecisionForm:
    """What the clerk submitted (strings as typed)."""

    action: str
    item_keys: tuple[str, ...] = ()        # receivable id or Kassenzeichen per split row
    amounts: tuple[str, ...] = ()          # German or point amounts per split row
    refund_iban: str = ""
    note: str = ""


def _before(row: dict[str, Any], run_id: str) -> dict[str, Any]:
    out = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items() if k in BEFORE_FIELDS}
    out["run_id"] = run_id
    return out


def _allocations(form: DecisionForm, open_items: pl.DataFrame, errors: list[str]) -> list[Allocation]:
    allocs: list[Allocation] = []
    for i, (key, text) in enumerate(zip(form.item_keys, form.amounts, strict=False), start=1):
        key, text = key.strip(), text.strip()
        if not text:
            continue
        item = resolve_open_item(open_items, key)
        # the row as the clerk sees it: its Kassenzeichen, never only an internal receivable id
        where = f"Zeile {i} ({item['kassenzeichen'] or key})" if item is not None else f"Zeile {i}"
        try:
            cents = parse_amount(text)
        except AmountError:
            errors.append(f"{where}: {text!r} ist kein Betrag (z. B. 1.234,56 oder 1234.56).")
            continue
        if cents <= 0:
            errors.append(f"{where}: der Betrag muss größer als 0,00 sein.")
            continue
        if item is None:
            errors.append(f"Zeile {i}: offener Posten {key!r} nicht gefunden oder nicht eindeutig "
                          "(Kassenzeichen oder Sollstellungs-ID angeben)." if key else
                          f"Zeile {i}: Betrag ohne offenen Posten.")
            continue
        if item["amount_cents"] is not None and cents > item["amount_cents"]:
            errors.append(f"{where}: {format_cents(cents)} übersteigt den offenen Betrag "
                          f"{format_cents(item['amount_cents'])} von {item['kassenzeichen']}.")
            continue
        allocs.append(Allocation(item["receivable_id"], item["kassenzeichen"] or "", cents))
    return allocs


def build_decision(form: DecisionForm, *, row: dict[str, Any], run_id: str, open_items: pl.DataFrame,
                   user: User, tenant: str, config: ReviewConfig) -> tuple[Decision | None, list[str]]:
    """(the decision to record, []) or (None, reasons shown to the clerk)."""
    errors: list[str] = []
    payment = int(row["unallocated_cents"] if row["unallocated_cents"] is not None else row["amount_cents"])
    note = form.note.strip()
    if len(note) > MAX_NOTE:
        errors.append(f"Die Notiz hat {len(note)} Zeichen; höchstens {MAX_NOTE}.")
    allocs: list[Allocation] = []
    refund_iban = None
    if form.action == "assign":
        allocs = _allocations(form, open_items, errors)
        ids = [a.receivable_id for a in allocs]
        if len(set(ids)) != len(ids):
            errors.append("Derselbe offene Posten steht zweimal in der Aufteilung.")
        total = sum(a.amount_cents for a in allocs)
        if not allocs and not errors:
            errors.append("Bitte mindestens einem offenen Posten einen Betrag zuordnen.")
        elif total != payment and not errors:
            diff = payment - total
            errors.append(f"Die Aufteilung ergibt {format_cents(total)} €, die Zahlung beträgt "
                          f"{format_cents(payment)} € (es {'fehlen' if diff > 0 else 'sind zu viel'} "
                          f"{format_cents(abs(diff))} €).")
        after: dict[str, Any] = {"status": "assigned", "unallocated_cents": 0,
                                 "allocations": [{"receivable_id": a.receivable_id, "kassenzeichen": a.kassenzeichen,
                                                  "amount_cents": a.amount_cents} for a in allocs]}
    elif form.action == "refund":
        verdict = iban_verdict(form.refund_iban)
        if verdict is None:
            errors.append("Für die Erstattung fehlt die IBAN.")
        elif not verdict.valid:
            errors.append(f"Die IBAN {form.refund_iban!r} ist ungültig ({verdict.message}).")
        else:
            refund_iban = "".join(verdict.formatted.split())
        after = {"status": "refund", "refund_iban": refund_iban, "unallocated_cents": 0}
    elif form.action == "park":
        if not note:
            errors.append("Für Verwahrgeld bitte in der Notiz angeben, warum.")
        after = {"status": "verwahrgeld", "unallocated_cents": 0}
    elif form.action == "retry":
        payment = 0                        # no money moves: the next run matches the payment again
        after = {"status": "retry_next_run"}
    else:
        errors.append(f"Unbekannte Aktion {form.action!r}.")
        after = {}
    if errors:
        return None, errors
    decision = new_decision(
        tenant, row["transaction_id"], form.action, user=user.login, role=user.role, amount_cents=payment,
        requires_approval=config.requires_approval(payment), allocations=allocs, refund_iban=refund_iban,
        note=note, before=_before(row, run_id), after=after,
    )
    return decision, []
