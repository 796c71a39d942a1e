"""The payments of the synthetic municipality, one per case of docs/SYNTH.md, with the right answer.

:func:`make_payments` draws open items from a shuffled pool so that no item is paid twice by accident
(only ``double`` and ``dd_return`` refer to an earlier payment on purpose) and records for every payment
its case label, whether a careful clerk could decide it from the data alone, and the expected
allocation ``[(receivable_id, cents), …]``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter, defaultdict

from synth.accounts import CREDITOR_ID
from synth.claims import Item
from synth.debtors import Debtor, bank_spelling, person_name, random_account, third_party
from synth.names import VAGUE_PURPOSES
from synth.remittance import PURPOSE, reference_text, styled, typo_digit, typo_swap

#: case → share of all payments (``full`` takes the rest); every case appears at least MIN_PER_CASE times
SHARES = {
    "partial": 0.05, "over": 0.03, "double": 0.02, "multi": 0.05, "third_party": 0.05, "no_ref": 0.04,
    "wrong_ref": 0.02, "typo_digit": 0.03, "typo_swap": 0.03, "iban_only": 0.05, "dd_collection": 0.18,
    "dd_return": 0.015, "refund_out": 0.01,
}
MIN_PER_CASE = 3
#: ISO return reason → synthetic DK ?34 Textschlüsselergänzung (the real table is in DK Anlage 3)
RETURN_CODES = {"MD06": "912", "AC04": "902", "MS03": "919", "AC01": "901", "MD01": "904"}


@dataclasses.dataclass
class Payment:
    """One bank booking with its ground truth (bank_ref and entry numbers are set when written)."""

    case: str
    bank: str
    booking_date: dt.date
    amount_cents: int
    decidable: bool
    expected: list[tuple[str, int]]
    gvc: str = "166"
    swift_code: str = "NTRF"
    booking_text: str = "SEPA-UEBERWEISUNG"
    domain: str = "PMNT"
    family: str = "RCDT"
    subfamily: str = "ESCT"
    svwz: str | None = None
    eref: str | None = None
    mref: str | None = None
    cred: str | None = None
    abwa: str | None = None
    cp_name: str | None = None
    cp_iban: str | None = None
    cp_bic: str | None = None
    return_code: str | None = None
    return_reason: str | None = None
    kz_quoted: str = ""          # the Kassenzeichen the payer meant (digits), "" if none
    quoted: str = ""             # the reference exactly as written in the text (may carry a typo)
    note: str = ""
    batch: bool = False          # part of the day's direct-debit Sammler (camt only)
    cdtr_ref: str | None = None  # structured creditor reference (camt Strd/CdtrRefInf/Ref), e.g. an RF reference
    hold: str = ""               # round two: why the payment must be held (synth.round_two.HOLDS), "" otherwise


class _Pools:
    """Open items grouped for drawing: single-item Kassenzeichen, several-item ones, by debtor."""

    def __init__(self, items: list[Item], rng: random.Random) -> None:
        by_kz: dict[str, list[Item]] = defaultdict(list)
        for it in items:
            by_kz[it.kassenzeichen].append(it)
        usable = [g for g in by_kz.values() if not _broken_iban(g[0].debtor)]
        rng.shuffle(usable)
        self.singles = [g[0] for g in usable if len(g) == 1]
        self.groups = [sorted(g, key=lambda i: (i.due_date, i.receivable_id)) for g in usable if len(g) > 1]
        self.all_items = items
        self.used: set[str] = set()
        self.amounts_by_debtor: dict[str, list[int]] = defaultdict(list)
        for it in items:
            self.amounts_by_debtor[it.debtor.debtor_id].append(it.amount_cents)

    def take(self, ok: object = None) -> Item | None:
        """The next unused single item passing ``ok`` (a predicate), or None."""
        for idx, it in enumerate(self.singles):
            if it.receivable_id not in self.used and (ok is None or ok(it)):  # type: ignore[operator]
                self.used.add(it.receivable_id)
                del self.singles[idx]
                return it
        return None


def _broken_iban(debtor: Debtor) -> bool:
    return bool(debtor.known_ibans) and debtor.iban not in debtor.known_ibans and len(debtor.known_ibans) == 1


def _payer(rng: random.Random, it: Item) -> tuple[str, str, str]:
    """(name, iban, bic) of the debtor paying from their usual account."""
    return bank_spelling(rng, it.debtor), it.debtor.iban, it.debtor.bic


def _purpose(rng: random.Random, it: Item) -> str:
    return rng.choice(PURPOSE.get(it.claim_type, ("Zahlung",)))


def _credit(case: str, rng: random.Random, it: Item, amount: int, expected: list[tuple[str, int]], *,
            kz_text: str | None = None, decidable: bool = True, note: str = "") -> Payment:
    name, iban, bic = _payer(rng, it)
    quoted = kz_text if kz_text is not None else styled(it.kassenzeichen, rng)
    text = reference_text(quoted, _purpose(rng, it), rng, lead=name)
    return Payment(case, "", dt.date.min, amount, decidable, expected, svwz=text, cp_name=name, cp_iban=iban,
                   cp_bic=bic, kz_quoted=it.kassenzeichen, quoted=quoted, note=note)


def _counts(n_payments: int) -> dict[str, int]:
    counts = {c: max(MIN_PER_CASE, round(share * n_payments)) for c, share in SHARES.items()}
    counts["full"] = max(MIN_PER_CASE, n_payments - sum(counts.values()))
    return counts


def make_payments(rng: random.Random, items: list[Item], days: list[dt.date], n_payments: int) -> list[Payment]:
    """About ``n_payments`` payments over ``days`` (booking days), every case label at least 3 times.

    Cases run out gracefully when the pool of suitable open items is empty (tiny ``n_items``).
    """
    pools = _Pools(items, rng)
    counts = _counts(n_payments)
    out: list[Payment] = []
    last = days[-1]

    # own direct debits first: items with a mandate, collected on the first booking day on/after the due date
    collections: list[Payment] = []
    for _ in range(counts["dd_collection"]):
        it = pools.take(lambda i: bool(i.mandate_id) and i.due_date <= last)
        if it is None:
            break
        day = next((d for d in days if d >= it.due_date), days[0])
        eref = f"{it.kassenzeichen}-{it.due_date:%Y%m%d}"
        p = Payment("dd_collection", "", day, it.amount_cents, True, [(it.receivable_id, it.amount_cents)],
                    gvc="171", swift_code="NDDT", booking_text="SEPA-LASTSCHRIFT", family="IDDT", subfamily="ESDD",
                    svwz=f"{_purpose(rng, it)} Kassenzeichen {it.printed}", eref=eref, mref=it.mandate_id,
                    cred=CREDITOR_ID, cp_name=bank_spelling(rng, it.debtor), cp_iban=it.debtor.iban,
                    cp_bic=it.debtor.bic, kz_quoted=it.kassenzeichen, quoted=it.printed, note=f"due {it.due_date}")
        collections.append(p)
    out += collections
    returnable = [c for c in collections if c.booking_date < last]
    rng.shuffle(returnable)
    for c in returnable[: counts["dd_return"]]:
        later = [d for d in days if d > c.booking_date]
        reason = rng.choice(tuple(RETURN_CODES))
        rid, cents = c.expected[0]
        out.append(Payment(
            "dd_return", "", rng.choice(later[:3]), -c.amount_cents, True, [(rid, -cents)], gvc="109",
            swift_code="NRTI", booking_text="SEPA-RUECKLASTSCHRIFT", family="IDDT", subfamily="UPDD",
            svwz=f"RUECKLASTSCHRIFT {c.svwz}"[:140], eref=c.eref, mref=c.mref, cred=CREDITOR_ID, cp_name=c.cp_name,
            cp_iban=c.cp_iban, cp_bic=c.cp_bic, return_code=RETURN_CODES[reason], return_reason=reason,
            kz_quoted=c.kz_quoted, quoted=c.quoted, note=f"return {reason} of collection on {c.booking_date}"))

    def unique_amount(it: Item) -> bool:
        return pools.amounts_by_debtor[it.debtor.debtor_id].count(it.amount_cents) == 1

    for _ in range(counts["iban_only"]):
        it = pools.take(lambda i: i.debtor.iban in i.debtor.known_ibans and len(i.debtor.known_ibans) == 1
                        and unique_amount(i))
        if it is None:
            break
        name, iban, bic = _payer(rng, it)
        text = rng.choice(("", _purpose(rng, it), "Rechnung", f"{it.debtor.last} {_purpose(rng, it)}"))
        out.append(Payment("iban_only", "", dt.date.min, it.amount_cents, True, [(it.receivable_id, it.amount_cents)],
                           svwz=text or None, cp_name=name, cp_iban=iban, cp_bic=bic,
                           note="known payer IBAN, exact amount, no reference"))

    # several items in one payment: a Kassenzeichen with several open items, or several Kassenzeichen
    for k in range(counts["multi"]):
        group: list[Item] = []
        if k % 2 == 0 and pools.groups:
            group = pools.groups.pop()
            kz_texts = [styled(group[0].kassenzeichen, rng)]
        else:
            first = pools.take()
            if first is None:
                break
            group = [first]
            for _ in range(rng.randrange(1, 3)):
                nxt = pools.take(lambda i, d=first.debtor.debtor_id: i.debtor.debtor_id == d)
                if nxt is not None:
                    group.append(nxt)
            if len(group) == 1:
                pools.used.discard(first.receivable_id)
                pools.singles.append(first)
                continue
            kz_texts = [styled(i.kassenzeichen, rng) for i in group]
        for it in group:
            pools.used.add(it.receivable_id)
        total = sum(i.amount_cents for i in group)
        joiner = rng.choice((", ", " und ", " / ", "; ", " "))
        text = f"{rng.choice(('KZ ', 'Kassenzeichen ', ''))}{joiner.join(dict.fromkeys(kz_texts))} " \
               f"{_purpose(rng, group[0])}"
        name, iban, bic = _payer(rng, group[0])
        out.append(Payment("multi", "", dt.date.min, total, True, [(i.receivable_id, i.amount_cents) for i in group],
                           svwz=text[:140], cp_name=name, cp_iban=iban, cp_bic=bic,
                           kz_quoted=group[0].kassenzeichen, quoted=kz_texts[0], note=f"{len(group)} items"))

    for _ in range(counts["third_party"]):
        it = pools.take()
        if it is None:
            break
        name, iban, bic, abwa = third_party(rng, it.debtor)
        quoted = styled(it.kassenzeichen, rng)
        text = reference_text(quoted, _purpose(rng, it), rng)
        if rng.random() < 0.4:
            text = f"{text} für {it.debtor.name}"[:140]
        out.append(Payment("third_party", "", dt.date.min, it.amount_cents, True,
                           [(it.receivable_id, it.amount_cents)], svwz=text, abwa=abwa or None, cp_name=name,
                           cp_iban=iban, cp_bic=bic, kz_quoted=it.kassenzeichen, quoted=quoted,
                           note=f"paid for {it.debtor.name}"))

    for case, typo in (("typo_digit", typo_digit), ("typo_swap", typo_swap)):
        for _ in range(counts[case]):
            it = pools.take()
            if it is None:
                break
            wrong = typo(it.kassenzeichen, rng)
            out.append(_credit(case, rng, it, it.amount_cents, [(it.receivable_id, it.amount_cents)],
                               kz_text=styled(wrong, rng), note=f"quoted {wrong}"))

    for _ in range(counts["partial"]):
        it = pools.take(lambda i: i.amount_cents >= 2_000)
        if it is None:
            break
        paid = it.amount_cents * rng.randrange(20, 90) // 100
        out.append(_credit("partial", rng, it, paid, [(it.receivable_id, paid)], note=f"owes {it.amount_cents}"))

    for _ in range(counts["over"]):
        it = pools.take()
        if it is None:
            break
        paid = it.amount_cents + rng.choice((100, 500, 1_000, it.amount_cents, rng.randrange(1, 20_000)))
        out.append(_credit("over", rng, it, paid, [(it.receivable_id, it.amount_cents)],
                           note=f"{paid - it.amount_cents} too much"))

    fulls: list[Payment] = []
    for _ in range(counts["full"]):
        it = pools.take()
        if it is None:
            break
        fulls.append(_credit("full", rng, it, it.amount_cents, [(it.receivable_id, it.amount_cents)]))
    out += fulls

    # doubles: a second payment for an item a 'full' payment settles earlier in the set
    rng.shuffle(fulls)
    for f in fulls[: counts["double"]]:
        f.booking_date = rng.choice(days[:-1] or days)
        out.append(dataclasses.replace(f, case="double", expected=[], note="item already settled by an earlier payment",
                                       booking_date=rng.choice([d for d in days if d > f.booking_date] or days)))

    owners = {it.kassenzeichen: it for it in items}
    kz_list = sorted(owners)
    for _ in range(counts["wrong_ref"]):
        victim = owners[rng.choice(kz_list)]
        open_amounts = {i.amount_cents for i in items if i.kassenzeichen == victim.kassenzeichen}
        amount = rng.randrange(1_000, 60_000)
        while amount in open_amounts:
            amount += 7
        fn, last_name = person_name(rng)
        iban, bic = random_account(rng)
        quoted = styled(victim.kassenzeichen, rng)
        out.append(Payment("wrong_ref", "", dt.date.min, amount, False, [], quoted=quoted,
                           svwz=reference_text(quoted, _purpose(rng, victim), rng),
                           cp_name=f"{fn} {last_name}", cp_iban=iban, cp_bic=bic, kz_quoted=victim.kassenzeichen,
                           note=f"quotes the Kassenzeichen of {victim.debtor.debtor_id}, amount does not fit"))

    seen = Counter(it.amount_cents for it in items)
    common = sorted(a for a, k in seen.items() if k > 1) or [2_400]
    for _ in range(counts["no_ref"]):
        fn, last_name = person_name(rng)
        iban, bic = random_account(rng)
        amount = rng.choice(common) if rng.random() < 0.6 else rng.randrange(500, 50_000)
        out.append(Payment("no_ref", "", dt.date.min, amount, False, [], svwz=rng.choice(VAGUE_PURPOSES) or None,
                           cp_name=f"{fn} {last_name}", cp_iban=iban, cp_bic=bic, note="no reference, unknown payer"))

    for _ in range(counts["refund_out"]):
        it = rng.choice(items)
        cents = rng.randrange(500, 30_000)
        out.append(Payment("refund_out", "", dt.date.min, -cents, True, [], gvc="116", booking_text="SEPA-UEBERWEISUNG",
                           family="ICDT", svwz=f"Erstattung Überzahlung Kassenzeichen {it.printed}",
                           cp_name=it.debtor.name, cp_iban=it.debtor.iban, cp_bic=it.debtor.bic,
                           note="outgoing refund of an old overpayment"))
    return out


def assign_banks_and_days(rng: random.Random, payments: list[Payment], days: list[dt.date],
                          banks: tuple[str, ...]) -> None:
    """Give every payment a bank and a booking day; returns follow their collection's bank; add bank fees."""
    by_eref: dict[str | None, str] = {}
    for p in payments:
        if p.booking_date == dt.date.min:
            p.booking_date = rng.choice(days)
        if p.case == "dd_collection":
            p.bank = banks[0] if rng.random() < 0.4 else banks[1]
            p.batch = p.bank == banks[1]
            by_eref[p.eref] = p.bank
        elif p.case == "dd_return":
            p.bank = by_eref.get(p.eref, banks[0])
        elif not p.bank:
            p.bank = banks[0] if rng.random() < 0.6 else banks[1]
    for bank in banks:
        cents = rng.randrange(1_250, 4_580)
        payments.append(Payment("fee", bank, days[-1], -cents, True, [], gvc="805", swift_code="NCHG",
                                booking_text="ENTGELTABSCHLUSS", domain="ACMT", family="MDOP", subfamily="CHRG",
                                svwz=f"Entgelte Kontofuehrung {days[-1]:%m/%Y}", note="bank fee"))
