"""Synthetic debtors (Personenkonten): people, double names, companies, WEGs; their bank accounts.

Names keep German letters (ä, ö, ü, ß); a payer's bank may spell them differently (see
:func:`bank_spelling`). About 80 % of debtors have a known IBAN; a few of those are wrong in the
finance system (bad check digits) and some have two accounts.
"""

from __future__ import annotations

import dataclasses
import random

from synth.names import COMPANY_FORMS, COMPANY_STEMS, DEBTOR_BANKS, FIRST_NAMES, HAUSVERWALTUNGEN, LAST_NAMES

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS"})


@dataclasses.dataclass(frozen=True)
class Debtor:
    """One Personenkonto of the finance system."""

    debtor_id: str
    name: str                 # as the finance system holds it, e.g. "Müller, Anna" or a company
    kind: str                 # person | company | weg
    first: str                # first name of a person ("" otherwise)
    last: str                 # last name of a person, or the full company name
    iban: str                 # the payer account the debtor really uses
    bic: str
    known_ibans: tuple[str, ...]  # what the open-items export says (may be empty, wrong, or two)


def iban_check(blz: str, account: str) -> str:
    """German IBAN for BLZ and account (ISO 13616 check digits)."""
    number = int(f"{blz}{account.zfill(10)}131400")
    return f"DE{98 - number % 97:02d}{blz}{account.zfill(10)}"


def random_account(rng: random.Random) -> tuple[str, str]:
    """A random payer account (IBAN, BIC) at one of the real German banks in the name pool."""
    blz, bic = rng.choice(DEBTOR_BANKS)
    return iban_check(blz, str(rng.randrange(10**6, 10**10))), bic


def broken_iban(iban: str) -> str:
    """The same IBAN with wrong check digits (a typing error in the finance system)."""
    check = int(iban[2:4])
    return f"{iban[:2]}{(check - 2 + 37) % 97 + 2:02d}{iban[4:]}"


def person_name(rng: random.Random) -> tuple[str, str]:
    """A (first, last) name pair; sometimes a double first name or a double last name."""
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    if rng.random() < 0.04:
        other = rng.choice(LAST_NAMES)
        if "-" not in last and "-" not in other and " " not in last + other and other != last:
            last = f"{last}-{other}"
    return first, last


def bank_spelling(rng: random.Random, debtor: Debtor) -> str:
    """The payer name as a bank transmits it: order, initials, upper case or transliterated umlauts."""
    if debtor.kind != "person":
        r = rng.random()
        return debtor.name.upper().translate(_TRANSLIT) if r < 0.2 else debtor.name
    r = rng.random()
    if r < 0.55:
        return f"{debtor.first} {debtor.last}"
    if r < 0.75:
        return f"{debtor.last}, {debtor.first}"
    if r < 0.88:
        return f"{debtor.first} {debtor.last}".upper().translate(_TRANSLIT)
    return f"{debtor.first[0]}. {debtor.last}"


def make_debtors(rng: random.Random, n: int) -> list[Debtor]:
    """``n`` debtors with ids ``P000001`` …, of which ~78 % people, ~17 % companies, ~5 % WEGs."""
    out: list[Debtor] = []
    for i in range(n):
        r = rng.random()
        if r < 0.78:
            first, last = person_name(rng)
            kind, name = "person", f"{last}, {first}"
            if rng.random() < 0.03:
                name = f"{last}, Dr. {first}"
        elif r < 0.95:
            kind, first, last = "company", "", f"{rng.choice(COMPANY_STEMS)} {rng.choice(COMPANY_FORMS)}"
            name = last
        else:
            kind, first = "weg", ""
            last = name = f"WEG {rng.choice(('Rheinstraße', 'Am Markt', 'Lindenallee', 'Kölner Str.'))} " \
                          f"{rng.randrange(1, 120)}"
        iban, bic = random_account(rng)
        r = rng.random()
        if r < 0.20:
            known: tuple[str, ...] = ()
        elif r < 0.21:
            known = (broken_iban(iban),)
        elif r < 0.25:
            known = (iban, random_account(rng)[0])
        else:
            known = (iban,)
        out.append(Debtor(f"P{i + 1:06d}", name, kind, first, last, iban, bic, known))
    return out


def third_party(rng: random.Random, debtor: Debtor) -> tuple[str, str, str, str]:
    """Someone paying for ``debtor``: (name, iban, bic, abwa): a relative, or a Hausverwaltung."""
    iban, bic = random_account(rng)
    if debtor.kind == "person" and rng.random() < 0.6:
        first, last = person_name(rng)
        if rng.random() < 0.5:
            last = debtor.last  # a parent or spouse with the same family name
        return f"{first} {last}", iban, bic, ""
    return rng.choice(HAUSVERWALTUNGEN), iban, bic, (debtor.name if rng.random() < 0.5 else "")
