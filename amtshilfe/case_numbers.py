"""Our case number of a foreign creditor's request: a valid Kassenzeichen of the tenant's scheme (issue 18 §3).

The debtor of an Amtshilfe case pays to the enforcement office and quotes the number the office wrote to
them. The nightly matcher finds a Kassenzeichen in a remittance by the tenant's reference grammar only
(``[reference]``: ``digits`` digits, the ``check_digit`` scheme; docs/MATCHING.md), so the case number
is one: ``prefix`` (``[amtshilfe] case_number_prefix``, a range of numbers the tenant's own scheme does
not issue) + digits of SHA-256(tenant, creditor, file number) + the scheme's check digit.

**The same request, the same number**: the digits come from the request's key alone, so a rerun after a
crash makes the same numbers. **Never a number in use**: a number that is already a Kassenzeichen of the
tenant (an export's, an own claim's, another case's), or is given to an earlier request of the same
night, or whose body the scheme never issues (mod 11 giving 10), is skipped for the next *attempt* —
the key with ``|1``, ``|2``, … hashed again. The numbers in use change only with what is booked, so a
rerun of the same night against the same ledger still gives the same numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from claims.kassenzeichen import complete

#: attempts per request before giving up: with a 10-digit hash part a request needs a second attempt
#: about once in eleven (mod 11) plus the collisions, so reaching this means the range is (nearly) full.
MAX_ATTEMPTS = 1000
#: the fewest hashed digits a case number may have (10⁶ numbers): fewer and collisions become common.
MIN_HASH_DIGITS = 6


class CaseNumberError(ValueError):
    """The prefix does not fit the tenant's Kassenzeichen, or its range is used up."""


def hash_digits(digits: int, scheme: str, prefix: str) -> int:
    """How many digits of a case number come from the hash (the body less the prefix)."""
    if not prefix.isdigit():
        raise CaseNumberError(f"[amtshilfe] case_number_prefix {prefix!r}: expected digits")
    width = (digits if scheme == "none" else digits - 1) - len(prefix)
    if width < MIN_HASH_DIGITS:
        raise CaseNumberError(f"[amtshilfe] case_number_prefix {prefix!r} leaves {width} of the {digits} "
                              f"digits of a Kassenzeichen to number the cases; at least {MIN_HASH_DIGITS} needed")
    return width


def key_of(tenant: str, creditor_id: str, file_number: str) -> str:
    """The request's key as hashed: creditor id trimmed and upper-cased, file number trimmed."""
    return "\x1f".join((tenant, creditor_id.strip().upper(), file_number.strip()))


def candidate(key: str, attempt: int, *, prefix: str, digits: int, scheme: str) -> str | None:
    """The number of ``key`` at ``attempt`` (0: the plain key), or ``None`` when the scheme never issues
    its body."""
    width = hash_digits(digits, scheme, prefix)
    text = key if attempt == 0 else f"{key}|{attempt}"
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big") % 10**width
    return complete(prefix + f"{value:0{width}d}", scheme)


def assign(keys: Iterable[str], *, prefix: str, digits: int, scheme: str, taken: Iterable[str] = ()) -> list[str]:
    """The case number of each key (in order): its first valid attempt not in ``taken`` and not given to
    an earlier key of ``keys`` (a key given twice gets the same number twice)."""
    used = set(taken)
    given: dict[str, str] = {}
    out = []
    for key in keys:
        if key not in given:
            for attempt in range(MAX_ATTEMPTS):
                number = candidate(key, attempt, prefix=prefix, digits=digits, scheme=scheme)
                if number is not None and number not in used:
                    break
            else:
                raise CaseNumberError(f"no free case number for {key!r} in the range {prefix}…: "
                                      "choose another [amtshilfe] case_number_prefix")
            used.add(number)
            given[key] = number
        out.append(given[key])
    return out


__all__ = ["MAX_ATTEMPTS", "CaseNumberError", "assign", "candidate", "hash_digits", "key_of"]
