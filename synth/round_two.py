"""Round two of issue 14: the payments a treasury sees every week beyond the first cases, with ground truth.

``generate(..., mix=0.4)`` adds these kinds to the municipality so that they make up ``mix`` of all
payments. Each payment gets debtors and open items of its own (appended to the export, Kassenzeichen
and ids never reused), so what makes the case — the designated amounts, the second debtor with the same
open amount, the foreign account — is built on purpose and cannot be spoilt by another payment of the set.
Everything here draws from a random generator of its own (seeded by the set's seed), so the base set of
``generate(..., mix=0)`` is byte for byte what it always was.

| kind | the payment | decidable | expected |
|---|---|---|---|
| ``designation_amounts`` | one debtor's 2–3 Kassenzeichen, each with its own amount (``KZ … 55,00 Euro, KZ … 125,- Rest folgt``), every amount below what is open, so the legal order would split it differently | yes | the designated amounts |
| ``designation_bad`` | the same, but the amounts do not add up to what was paid | no | hold (``designation``) |
| ``designation_overlap`` | two such payments of one debtor naming one Kassenzeichen both, their amounts fitting it | yes | the designated amounts |
| ``contradicting`` | X's valid Kassenzeichen, paid from the IBAN on file for Y, who owes the same amount on the same claim type | no | hold (``evidence_conflict``) |
| ``neighbour`` | a stranger (unknown IBAN) pays X's item exactly, "für Frau X" | yes | that item |
| ``european_names`` | partial payment, debtor and payer named in a European alphabet (ł, ø, ı/İ, đ, œ, ß …), the bank's spelling transliterated or not, "Surname, Given"; no known IBAN | yes | the amount paid |
| ``letters_for_digits`` | exact amount, the Kassenzeichen typed with O/o for 0 or l/I for 1 | yes | that item |
| ``rf_reference`` | exact amount, ISO 11649 ``RF`` reference of the Kassenzeichen in the text or as structured creditor reference | yes | that item |
| ``year_attached`` | exact amount, ``KZ/2026``, ``KZ-2026``, ``KZ 2026`` or glued ``KZ2026`` | yes | that item |
| ``cross_border_short`` | a foreign IBAN (AT, PL, NL, FR …), a name the export does not know, the amount short by 0,50–15,00 € of bank charges | yes | the amount received |
"""

from __future__ import annotations

import datetime as dt
import random

from synth.cases import Payment
from synth.claims import CLAIM_TYPES, Item, KassenzeichenPool, _due_dates, dotted
from synth.debtors import Debtor, bank_spelling, person_name, random_account
from synth.foreign import FOREIGN_BANKS, foreign_account
from synth.names import EUROPEAN_NAMES, WOMEN
from synth.remittance import (
    PURPOSE,
    amount_text,
    designation_text,
    letters_for_digits,
    reference_text,
    rf_printed,
    rf_reference,
    styled,
    with_year,
)
from synth.spelling import latin1, transliterate

#: kind → share of the round-two payments (a designation_overlap counts its two payments)
WEIGHTS = {
    "designation_amounts": 0.14, "designation_bad": 0.06, "designation_overlap": 0.06, "contradicting": 0.08,
    "neighbour": 0.08, "european_names": 0.16, "letters_for_digits": 0.10, "rf_reference": 0.11,
    "year_attached": 0.11, "cross_border_short": 0.10,
}
KINDS = tuple(WEIGHTS)
#: kinds whose payments must be held, and the class of reason expected (truth column ``expected_hold``)
HOLDS = {"designation_bad": "designation", "contradicting": "evidence_conflict"}
MIN_PER_KIND = 2
#: claim types with fixed tariffs: two debtors owing the same amount on the same type is everyday life
_TARIFF_TYPES = ("ABFALL", "HUNDESTEUER", "KITA", "BUSSGELD")


def counts(n_base: int, mix: float) -> dict[str, int]:
    """Payments per round-two kind so that they make up ``mix`` of ``n_base`` + their own number."""
    total = round(n_base * mix / (1 - mix))
    return {k: max(MIN_PER_KIND, round(w * total)) for k, w in WEIGHTS.items()}


class Issuer:
    """New debtors and open items for round-two payments, continuing the base set's ids and Kassenzeichen."""

    def __init__(self, rng: random.Random, debtors: list[Debtor], items: list[Item], start: dt.date,
                 last_day: dt.date) -> None:
        self.rng = rng
        self.start, self.last_day = start, last_day
        self.next_debtor = max(int(d.debtor_id[1:]) for d in debtors) + 1
        self.next_item = max(int(i.receivable_id.rsplit("-", 1)[1]) for i in items) + 1
        self.pool = KassenzeichenPool(rng)
        self.pool.used = {i.kassenzeichen for i in items}
        self.debtors: list[Debtor] = []
        self.items: list[Item] = []

    def debtor(self, first: str, last: str, *, known: str, name: str | None = None) -> Debtor:
        """A person; ``known`` = ``own`` (the export has the IBAN they pay from), ``none`` (no IBAN on file)."""
        iban, bic = random_account(self.rng)
        d = Debtor(f"P{self.next_debtor:06d}", name or f"{last}, {first}", "person", first, last, iban, bic,
                   (iban,) if known == "own" else ())
        self.next_debtor += 1
        self.debtors.append(d)
        return d

    def german(self, *, known: str) -> Debtor:
        first, last = person_name(self.rng)
        return self.debtor(first, last, known=known)

    def item(self, debtor: Debtor, *, ctype: str | None = None, cents: int | None = None, min_cents: int = 2_000,
             zero_or_one: bool = False) -> Item:
        """An open item of ``debtor`` under a Kassenzeichen of its own (``zero_or_one``: with a 0 or 1 in it)."""
        rng = self.rng
        ctype = ctype or rng.choice(("GRUNDSTEUER", "ABFALL", "ABFALL", "HUNDESTEUER", "KITA", "BUSSGELD"))
        first_digit, tariffs, law = CLAIM_TYPES[ctype]
        if cents is None:
            options = [t for t in tariffs or () if t >= min_cents]
            cents = rng.choice(options) if options else rng.randrange(max(min_cents, 6_000), 90_000) // 5 * 5
        while True:
            kz = self.pool.issue(first_digit)
            if not zero_or_one or any(ch in "01" for ch in kz):
                break
        due = (self.start - dt.timedelta(days=rng.randrange(0, 45)) if ctype == "BUSSGELD"
               else _due_dates(ctype, self.last_day)[0])
        printed = dotted(kz) if int(kz[-4:-1]) % 10 < 7 else kz
        it = Item(f"SO-{self.start.year}-{self.next_item:07d}", kz, printed, debtor, ctype, cents, due, law)
        self.next_item += 1
        self.items.append(it)
        return it


def _purpose(rng: random.Random, it: Item) -> str:
    return rng.choice(PURPOSE.get(it.claim_type, ("Zahlung",)))


def _payment(case: str, it: Item, amount: int, expected: list[tuple[str, int]], payer: tuple[str, str, str | None],
             svwz: str | None, quoted: str, note: str, *, hold: str = "", cdtr_ref: str | None = None) -> Payment:
    name, iban, bic = payer
    return Payment(case, "", dt.date.min, amount, not hold, expected, svwz=svwz, cp_name=name, cp_iban=iban,
                   cp_bic=bic, kz_quoted=it.kassenzeichen, quoted=quoted, note=note, hold=hold, cdtr_ref=cdtr_ref)


def _partial(rng: random.Random, cents: int) -> int:
    """A designated part of an open amount: 20–89 %, often whole euros, always above 0 and below ``cents``."""
    part = cents * rng.randrange(20, 90) // 100
    if rng.random() < 0.6 and part >= 100:
        part = part // 100 * 100
    return max(1, part)


def _designation(iss: Issuer, rng: random.Random, case: str) -> list[Payment]:
    d = iss.german(known="own")
    group = [iss.item(d, min_cents=3_000) for _ in range(rng.choice((2, 2, 3)))]
    parts = [_partial(rng, it.amount_cents) for it in group]
    texts = [(styled(it.kassenzeichen, rng), amount_text(c, rng)) for it, c in zip(group, parts, strict=True)]
    text = designation_text(texts, rng, rest_follows=rng.random() < 0.5)
    payer = (bank_spelling(rng, d), d.iban, d.bic)
    designated = " / ".join(f"{c}" for c in parts)
    if case == "designation_amounts":
        return [_payment(case, group[0], sum(parts), [(it.receivable_id, c) for it, c in zip(group, parts, strict=True)],
                         payer, text, texts[0][0], f"designates {designated} of {len(group)} items")]
    # the amounts do not add up: a slip of the pen, never the whole open sum
    owed = sum(it.amount_cents for it in group)
    paid = sum(parts)
    while paid == sum(parts) or paid <= 0 or paid >= owed:
        paid = sum(parts) + rng.choice((-1, 1)) * rng.choice((100, 500, 1_000, 2_000, 990))
    return [_payment(case, group[0], paid, [], payer, text, texts[0][0],
                     f"designates {designated}, sum {sum(parts)}, paid {paid}", hold=HOLDS[case])]


def _overlap(iss: Issuer, rng: random.Random) -> list[Payment]:
    """Two designated payments of one debtor that share a Kassenzeichen; both amounts fit it together."""
    d = iss.german(known="own")
    a, b, c = (iss.item(d, min_cents=6_000) for _ in range(3))
    b1 = b.amount_cents * rng.randrange(20, 45) // 100
    b2 = b.amount_cents * rng.randrange(20, 45) // 100
    out = []
    for (x, cx), (y, cy) in (((a, _partial(rng, a.amount_cents)), (b, b1)), ((b, b2), (c, _partial(rng, c.amount_cents)))):
        texts = [(styled(x.kassenzeichen, rng), amount_text(cx, rng)), (styled(y.kassenzeichen, rng), amount_text(cy, rng))]
        out.append(_payment("designation_overlap", x, cx + cy, [(x.receivable_id, cx), (y.receivable_id, cy)],
                            (bank_spelling(rng, d), d.iban, d.bic), designation_text(texts, rng, rest_follows=False),
                            texts[0][0], f"designates {cx} / {cy}; {b.receivable_id} is named by two payments"))
    return out


def _contradicting(iss: Issuer, rng: random.Random) -> list[Payment]:
    """X's Kassenzeichen from Y's IBAN on file, Y owing the same amount on the same claim type."""
    ctype = rng.choice(_TARIFF_TYPES)
    x = iss.german(known=rng.choice(("own", "none")))
    ix = iss.item(x, ctype=ctype)
    y = iss.german(known="own")
    while y.last == x.last:
        y = iss.german(known="own")
    iy = iss.item(y, ctype=ctype, cents=ix.amount_cents)
    quoted = styled(ix.kassenzeichen, rng)
    return [_payment("contradicting", ix, ix.amount_cents, [], (bank_spelling(rng, y), y.iban, y.bic),
                     reference_text(quoted, _purpose(rng, ix), rng), quoted,
                     f"quotes {x.debtor_id}'s Kassenzeichen from the IBAN of {y.debtor_id}, who owes the same on "
                     f"{iy.receivable_id}", hold=HOLDS["contradicting"])]


def _neighbour(iss: Issuer, rng: random.Random) -> list[Payment]:
    """A stranger pays X's item exactly, quoting X's Kassenzeichen, "für Frau X"."""
    x = iss.german(known=rng.choice(("own", "none")))
    ix = iss.item(x, ctype=rng.choice(_TARIFF_TYPES))
    first, last = person_name(rng)
    iban, bic = random_account(rng)
    title = "Frau" if x.first in WOMEN else "Herrn"
    on_behalf = rng.choice((f"für {title} {x.last}", f"für {title} {x.first} {x.last}", f"für Familie {x.last}",
                            f"i.A. {x.first} {x.last}", f"für Nachbarin {x.last}" if title == "Frau" else f"für {x.last}"))
    quoted = styled(ix.kassenzeichen, rng)
    text = f"{reference_text(quoted, _purpose(rng, ix), rng)} {on_behalf}"[:140]
    return [_payment("neighbour", ix, ix.amount_cents, [(ix.receivable_id, ix.amount_cents)],
                     (f"{first} {last}", iban, bic), text, quoted, f"a stranger pays for {x.debtor_id}")]


def european_person(rng: random.Random, country: str | None = None) -> tuple[str, str]:
    """(first, last) from :data:`synth.names.EUROPEAN_NAMES`, the surname in the form of the first name's gender."""
    men, women, men_last, women_last = EUROPEAN_NAMES[country or rng.choice(tuple(EUROPEAN_NAMES))]
    k = rng.randrange(len(men_last))
    return (rng.choice(men), men_last[k]) if rng.random() < 0.5 else (rng.choice(women), women_last[k])


def european_spelling(rng: random.Random, first: str, last: str) -> str:
    """The payer's name as a bank sends it: as written, "Surname, Given", transliterated, upper case, initial."""
    r = rng.random()
    if r < 0.25:
        return f"{first} {last}"
    if r < 0.45:
        return f"{last}, {first}"
    if r < 0.65:
        return transliterate(f"{first} {last}")
    if r < 0.80:
        return transliterate(f"{first} {last}", expanded=rng.random() < 0.5).upper()
    if r < 0.92:
        return transliterate(f"{last}, {first}")
    return f"{first[0]}. {last}"


def _european(iss: Issuer, rng: random.Random) -> list[Payment]:
    """A partial payment of a debtor with a European name; only the name can tell it is the debtor."""
    first, last = european_person(rng)
    name = f"{last}, {first}" if rng.random() < 0.8 else transliterate(f"{last}, {first}")
    d = iss.debtor(first, last, known="none", name=name)
    it = iss.item(d, min_cents=2_000)
    paid = _partial(rng, it.amount_cents)
    payer = european_spelling(rng, first, last)
    quoted = styled(it.kassenzeichen, rng)
    return [_payment("european_names", it, paid, [(it.receivable_id, paid)], (payer, d.iban, d.bic),
                     reference_text(quoted, _purpose(rng, it), rng), quoted,
                     f"owes {it.amount_cents}; export name {name!r}")]


def _exact(iss: Issuer, rng: random.Random, case: str) -> list[Payment]:
    """An exact payment whose reference is written in one of the new ways (letters, RF, year attached)."""
    d = iss.german(known=rng.choice(("own", "none", "none")))
    it = iss.item(d, zero_or_one=case == "letters_for_digits")
    purpose = _purpose(rng, it)
    cdtr_ref = None
    if case == "letters_for_digits":
        quoted = letters_for_digits(styled(it.kassenzeichen, rng), rng)
        text: str | None = reference_text(quoted, purpose, rng)
    elif case == "year_attached":
        quoted = with_year(it.kassenzeichen, rng)
        text = reference_text(quoted, purpose, rng)
    else:
        rf = rf_reference(it.kassenzeichen)
        if rng.random() < 0.45:  # the structured creditor reference, no text
            quoted, text, cdtr_ref = rf, None, rf
        else:
            quoted = rf_printed(rf) if rng.random() < 0.5 else rf
            text = f"{quoted} {purpose}" if rng.random() < 0.7 else f"{purpose} {quoted}"
    return [_payment(case, it, it.amount_cents, [(it.receivable_id, it.amount_cents)],
                     (bank_spelling(rng, d), d.iban, d.bic), text, quoted, f"quoted {quoted}", cdtr_ref=cdtr_ref)]


def _cross_border(iss: Issuer, rng: random.Random) -> list[Payment]:
    """From a foreign account and an unknown name, short by the banks' charges."""
    d = iss.german(known=rng.choice(("own", "none")))
    it = iss.item(d, min_cents=2_500)
    country = rng.choice(tuple(FOREIGN_BANKS))
    iban, bic = foreign_account(rng, country)
    first, last = european_person(rng, FOREIGN_BANKS[country][2])
    while set(f"{first} {last}".split()) & set(f"{d.first} {d.last}".split()):
        first, last = european_person(rng, FOREIGN_BANKS[country][2])
    payer = f"{first} {last}" if rng.random() < 0.5 else transliterate(f"{first} {last}").upper()
    charges = min(rng.randrange(50, 1_501), it.amount_cents // 2)
    paid = it.amount_cents - charges
    quoted = styled(it.kassenzeichen, rng)
    return [_payment("cross_border_short", it, paid, [(it.receivable_id, paid)], (payer, iban, bic),
                     reference_text(quoted, _purpose(rng, it), rng), quoted,
                     f"from {country}, short by {charges} of charges; owes {it.amount_cents}")]


def make_round_two(rng: random.Random, debtors: list[Debtor], items: list[Item], n_base: int, mix: float,
                   start: dt.date, last_day: dt.date) -> tuple[list[Debtor], list[Item], list[Payment]]:
    """New debtors, their open items, and the round-two payments (as :class:`synth.cases.Payment` fields)."""
    iss = Issuer(rng, debtors, items, start, last_day)
    out: list[Payment] = []
    for kind, n in counts(n_base, mix).items():
        made = 0
        while made < n:
            if kind in ("designation_amounts", "designation_bad"):
                new = _designation(iss, rng, kind)
            elif kind == "designation_overlap":
                new = _overlap(iss, rng)
            elif kind == "contradicting":
                new = _contradicting(iss, rng)
            elif kind == "neighbour":
                new = _neighbour(iss, rng)
            elif kind == "european_names":
                new = _european(iss, rng)
            elif kind == "cross_border_short":
                new = _cross_border(iss, rng)
            else:
                new = _exact(iss, rng, kind)
            out += new
            made += len(new)
    return iss.debtors, iss.items, out


def place(rng: random.Random, p: Payment, days: list[dt.date], banks: tuple[str, ...]) -> None:
    """Give a round-two payment its bank and day, and fit it to what that bank's file can carry.

    A Sparkasse MT940 file is ISO-8859-1 and has no field for a structured creditor reference: the
    bank spells names and text in Latin-1 letters, and the RF reference stands in the SVWZ text.
    """
    p.bank = banks[0] if rng.random() < 0.6 else banks[1]
    p.booking_date = rng.choice(days)
    if p.bank != banks[0]:
        return
    if p.cdtr_ref:
        p.svwz, p.cdtr_ref = p.cdtr_ref, None
    p.cp_name = latin1(p.cp_name) if p.cp_name else p.cp_name
    p.svwz = latin1(p.svwz) if p.svwz else p.svwz
    p.quoted = latin1(p.quoted)
