"""Small real input files for the ledger and nightly tests: a DK-style MT940 writer and an open-items CSV.

The files go through the real parsers; amounts are cents, dates ISO. Kept tiny so a test reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from claims.kassenzeichen import complete

ACCOUNT = "DE02120300000000202051"
OTHER_ACCOUNT = "DE12500105170648489890"


def kz(n: int) -> str:
    """A valid 12-digit Kassenzeichen (mod11) from a small number, printed with separators."""
    for k in range(51_200_000_000 + 10 * n, 51_200_000_010 + 10 * n):          # bodies giving check 10 are never issued: take the next one
        body = f"{k:011d}"
        full = complete(body, "mod11")
        if full:
            return f"{full[:4]}.{full[4:8]}.{full[8:]}"
    raise AssertionError("no Kassenzeichen")


@dataclass(frozen=True)
class Entry:
    """One :61: credit (or debit with negative cents) and its :86: remittance text."""

    cents: int
    remittance: str
    name: str = "Erika Mustermann"
    iban: str = "DE89370400440532013000"
    ref: str = "NONREF"


def _amount(cents: int) -> str:
    return f"{abs(cents) // 100},{abs(cents) % 100:02d}"


def write_mt940(path: Path, *, day: date, seq: int, opening: int, entries: list[Entry],
                account: str = ACCOUNT) -> int:
    """Write one statement (number ``seq``) for ``day``; return its closing balance in cents."""
    yymmdd = day.strftime("%y%m%d")
    mmdd = day.strftime("%m%d")
    closing = opening + sum(e.cents for e in entries)
    lines = [":20:STARTUMS", f":25:{account}", f":28C:{seq:05d}/001",
             f":60F:{'C' if opening >= 0 else 'D'}{yymmdd}EUR{_amount(opening)}"]
    for i, e in enumerate(entries):
        mark = "C" if e.cents >= 0 else "D"
        gvc = "166" if e.cents >= 0 else "105"
        lines.append(f":61:{yymmdd}{mmdd}{mark}{_amount(e.cents)}NTRF{e.ref}//B{seq:03d}{i:04d}")
        lines.append(f":86:{gvc}?00GUTSCHRIFT?20SVWZ+{e.remittance}?30COBADEFFXXX?31{e.iban}?32{e.name[:27]}")
    lines += [f":62F:{'C' if closing >= 0 else 'D'}{yymmdd}EUR{_amount(closing)}", "-"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return closing


def write_open_items(path: Path, items: list[tuple[str, str, int]], *, due: date = date(2026, 11, 1)) -> None:
    """``items`` = (receivable_id, kassenzeichen, cents); one debtor per item, claim type GRUNDSTEUER."""
    rows = ["receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date"]
    for rid, k, cents in items:
        rows.append(f"{rid};{k};D-{rid};Schuldner {rid};;GRUNDSTEUER;{cents // 100},{cents % 100:02d};{due}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
