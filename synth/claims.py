"""Open items (Sollstellungen) of the synthetic municipality: claim types, tariffs, due dates.

Every periodic claim object (a property's Grundsteuer, a dog, a Kita place …) has one Kassenzeichen;
its open instalments share it, and so do the Nebenforderungen (Mahngebühr, Säumniszuschlag, Kosten,
Zinsen) of an overdue instalment. Kassenzeichen are 12 digits with a mod-11 check digit made by
:func:`claims.kassenzeichen.complete`; the first digit tells the claim type.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from claims.kassenzeichen import complete
from synth.debtors import Debtor

#: claim type → (first Kassenzeichen digit, tariffs in cents or None, law)
CLAIM_TYPES: dict[str, tuple[str, tuple[int, ...] | None, str]] = {
    "GRUNDSTEUER": ("1", None, "public"),
    "GEWERBESTEUER": ("2", None, "public"),
    "ABFALL": ("3", (4_560, 6_180, 8_240, 11_325, 14_790, 21_660, 37_950), "public"),
    "HUNDESTEUER": ("4", (2_400, 3_900, 4_500, 15_000), "public"),
    "KITA": ("5", (4_500, 9_000, 13_500, 18_000, 25_000, 32_000, 41_000), "private"),
    "BUSSGELD": ("6", (2_000, 2_500, 3_000, 3_500, 4_000, 5_500, 8_850, 12_850, 28_850), "public"),
}
PERIODIC = ("GRUNDSTEUER", "GEWERBESTEUER", "ABFALL", "HUNDESTEUER", "KITA")
MANDATE_TYPES = ("GRUNDSTEUER", "ABFALL", "HUNDESTEUER", "KITA")


@dataclasses.dataclass
class Item:
    """One open item, in the columns of the open-items export (DESIGN.md §3)."""

    receivable_id: str
    kassenzeichen: str        # 12 digits
    printed: str              # as printed on the notice / in the export (dotted or plain)
    debtor: Debtor
    claim_type: str
    amount_cents: int
    due_date: dt.date
    law: str
    external_ref: str = ""
    mandate_id: str = ""
    mandate_date: dt.date | None = None
    dunning_block_until: dt.date | None = None
    notice_date: dt.date | None = None    # Bekanntgabe of the Leistungsbescheid (synth.dunning_data)
    block_reason: str = ""                # claims.vocab.BlockReason or "" (synth.dunning_data)


def quarter_dates(year: int) -> list[dt.date]:
    """Due dates of quarterly municipal taxes: 15.2., 15.5., 15.8., 15.11."""
    return [dt.date(year, m, 15) for m in (2, 5, 8, 11)]


def _due_dates(claim_type: str, last_day: dt.date) -> tuple[dt.date, dt.date]:
    """(current, previous) due date on or before ``last_day`` for a periodic claim type."""
    if claim_type == "KITA":  # monthly on the 15th
        cur = dt.date(last_day.year, last_day.month, 15)
        if cur > last_day:
            cur = dt.date(cur.year - (cur.month == 1), (cur.month - 2) % 12 + 1, 15)
        prev = dt.date(cur.year - (cur.month == 1), (cur.month - 2) % 12 + 1, 15)
        return cur, prev
    dates = [d for y in (last_day.year - 1, last_day.year) for d in quarter_dates(y) if d <= last_day]
    return dates[-1], dates[-2]


class KassenzeichenPool:
    """Issues unique Kassenzeichen: body = type digit + 10 random digits, never a body giving 10."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def issue(self, first: str) -> str:
        """A fresh 12-digit Kassenzeichen starting with ``first``."""
        while True:
            kz = complete(f"{first}{self.rng.randrange(10**10):010d}", "mod11")
            if kz is not None and kz not in self.used:
                self.used.add(kz)
                return kz


def dotted(kz: str) -> str:
    """``512345678901`` → ``5.1234.5678.901``."""
    return f"{kz[0]}.{kz[1:5]}.{kz[5:9]}.{kz[9:]}"


def mahngebuehr(cents: int) -> int:
    """Mahngebühr § 9 VO VwVG NRW: 6 € up to 50 €, plus 1 % of the excess (cents, rounded down)."""
    return 600 + max(0, cents - 5_000) // 100


def saeumniszuschlag(cents: int, months: int) -> int:
    """Säumniszuschlag § 240 AO: 1 % per started month on the amount rounded down to 50 €."""
    return (cents // 5_000) * 5_000 // 100 * months


def _amount(rng: random.Random, claim_type: str, debtor: Debtor) -> int:
    tariffs = CLAIM_TYPES[claim_type][1]
    if tariffs is not None:
        return rng.choice(tariffs)
    if claim_type == "GRUNDSTEUER":
        top = 500_000 if debtor.kind != "person" else 90_000
        return rng.randrange(6_000, top) // 10 * 10 + rng.choice((0, 0, 5))
    return rng.randrange(250, 25_000) * 100  # Gewerbesteuer prepayment, whole euros


def _types_for(rng: random.Random, debtor: Debtor) -> list[str]:
    odds = ({"GRUNDSTEUER": 0.45, "ABFALL": 0.5, "HUNDESTEUER": 0.2, "KITA": 0.15, "BUSSGELD": 0.12}
            if debtor.kind == "person" else
            {"GEWERBESTEUER": 0.85, "GRUNDSTEUER": 0.5, "ABFALL": 0.4, "BUSSGELD": 0.05}
            if debtor.kind == "company" else {"GRUNDSTEUER": 0.9, "ABFALL": 0.9})
    types = [t for t, p in odds.items() if rng.random() < p]
    return types or [next(iter(odds))]


def make_items(rng: random.Random, debtors: list[Debtor], n_items: int, start: dt.date,
               last_day: dt.date) -> list[Item]:
    """Exactly ``n_items`` open items for the debtors (cycling through them as often as needed)."""
    pool = KassenzeichenPool(rng)
    items: list[Item] = []
    seq = 0

    def add(kz: str, debtor: Debtor, ctype: str, cents: int, due: dt.date, **extra: object) -> Item:
        nonlocal seq
        seq += 1
        printed = dotted(kz) if int(kz[-4:-1]) % 10 < 7 else kz  # one printed form per Kassenzeichen
        law = "public" if ctype not in CLAIM_TYPES else CLAIM_TYPES[ctype][2]
        item = Item(f"SO-{start.year}-{seq:07d}", kz, printed, debtor, ctype, cents, due, law, **extra)  # type: ignore[arg-type]
        items.append(item)
        return item

    k = 0
    while len(items) < n_items:
        debtor = debtors[k % len(debtors)]
        k += 1
        for ctype in _types_for(rng, debtor):
            kz = pool.issue(CLAIM_TYPES[ctype][0])
            cents = _amount(rng, ctype, debtor)
            extra: dict[str, object] = {}
            if ctype == "KITA":
                extra["external_ref"] = f"KB-{rng.randrange(10**5, 10**6)}"
            elif ctype == "GEWERBESTEUER":
                extra["external_ref"] = f"StNr 2{rng.randrange(10, 99)}/{rng.randrange(1000, 9999)}/" \
                                        f"{rng.randrange(1000, 9999)}"
            mandate = ctype in MANDATE_TYPES and rng.random() < 0.3 and debtor.kind == "person"
            if mandate:
                extra["mandate_id"] = f"MS{kz[:6]}-{debtor.debtor_id}"
                extra["mandate_date"] = dt.date(rng.randrange(2014, 2026), rng.randrange(1, 13), rng.randrange(1, 28))
            if rng.random() < 0.03:
                extra["dunning_block_until"] = start + dt.timedelta(days=rng.randrange(20, 120))
            if ctype == "BUSSGELD":
                add(kz, debtor, ctype, cents, start - dt.timedelta(days=rng.randrange(0, 45)), **extra)
                continue
            current, previous = _due_dates(ctype, last_day)
            if not mandate and rng.random() < 0.2:  # an overdue instalment, often already dunned
                add(kz, debtor, ctype, cents, previous, **extra)
                if ctype != "KITA" and rng.random() < 0.6:
                    months = max(1, (start - previous).days // 30)
                    fee = mahngebuehr(cents) if cents < 5_000 else min(mahngebuehr(cents), 5_200)  # cap with SZ
                    add(kz, debtor, "MAHNGEBUEHR", fee, previous + dt.timedelta(days=30))
                    if cents >= 5_000:
                        add(kz, debtor, "SAEUMNISZUSCHLAG", saeumniszuschlag(cents, months), current)
                    if rng.random() < 0.3:
                        add(kz, debtor, "KOSTEN", rng.choice((345, 500, 1_150)), previous + dt.timedelta(days=30))
                    if ctype == "GEWERBESTEUER" and rng.random() < 0.5:
                        add(kz, debtor, "ZINSEN", cents * 15 // 1000 * months // 10 or 100, current)
                if rng.random() < 0.5:
                    continue  # the current instalment was paid already
            add(kz, debtor, ctype, cents, current, **extra)
    return items[:n_items]
