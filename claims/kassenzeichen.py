"""The Kassenzeichen: its grammar and check digits (DESIGN.md §3, tenant config ``[reference]``).

Grammar: as printed, a Kassenzeichen may carry separators (``1.2345.6789.012``, ``1234-5678-9012``); its
normal form (``kz_norm``) is the digits alone. A *well-formed* one has exactly ``digits`` digits (12 by
default) and a valid check digit as its last digit. One that is not still identifies a claim, but only
by external reference or IBAN (never by a reference match).

``mod11``: weights 2,3,4,5,6,7 repeating from the rightmost body digit; check = (11 − sum mod 11) mod 11;
a body giving 10 is never issued. ``mod10``: Luhn. ``none``: no check digit.
"""

from __future__ import annotations

SCHEMES = ("mod11", "mod10", "none")
DEFAULT_DIGITS = 12


def normalise(text: str) -> str:
    """The digits of ``text`` (the normal form ``kz_norm``).

    >>> normalise("1.2345.6789.012")
    '123456789012'
    """
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def well_formed(number: str, digits: int = DEFAULT_DIGITS, scheme: str = "mod11") -> bool:
    """Whether ``number`` (normal form) has ``digits`` digits and a valid ``scheme`` check digit.

    >>> well_formed(complete("12345678901", "mod11") or ""), well_formed("123456789010")
    (True, False)
    """
    return len(number) == digits and is_valid(number, scheme)


def mod11(body: str) -> int | None:
    """The mod-11 check digit of ``body`` (digits only), or ``None`` for a body that is never issued.

    >>> mod11("12345678901")
    8
    """
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (2 + i % 6)
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def luhn(body: str) -> int:
    """The Luhn (mod-10) check digit of ``body``.

    >>> luhn("7992739871")
    3
    """
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def check_digit(body: str, scheme: str) -> int | None:
    """The check digit of ``body`` under ``scheme`` (``None``: no valid number has this body)."""
    if scheme == "mod11":
        return mod11(body)
    if scheme == "mod10":
        return luhn(body)
    if scheme == "none":
        return None
    raise ValueError(f"unknown check-digit scheme {scheme!r} (expected one of {', '.join(SCHEMES)})")


def is_valid(number: str, scheme: str) -> bool:
    """Whether ``number`` (digits only, check digit last) is valid under ``scheme``."""
    if not number.isdigit():
        return False
    if scheme == "none":
        return True
    return check_digit(number[:-1], scheme) == int(number[-1])


def complete(body: str, scheme: str) -> str | None:
    """``body`` with its check digit appended (``None`` if the body is never issued)."""
    if scheme == "none":
        return body
    c = check_digit(body, scheme)
    return None if c is None else f"{body}{c}"
