"""Letters typed for digits in a Kassenzeichen: ``O``/``o`` for ``0``, ``I``/``l`` for ``1``.

On many keyboards and in many fonts these look alike, and payers copy a Kassenzeichen by hand from a
letter (``KZ 1OOO.OOOO.OO13``, ``l000 0000 00l3``). A word is read with digits for those letters only
when it is made of digits and these four letters alone and holds at least one digit: ``9O12`` is read
``9012``, while ``Obst``, ``Ol``, ``IO`` and ``2026Oktober`` stay as they are. Each such word has one
reading (every letter stands for one digit), and the Kassenzeichen's check digit must confirm the
reading: :func:`matching.evidence.by_typo` books it only where it names exactly one Kassenzeichen.

``S``/``5``, ``B``/``8`` and ``Z``/``2`` are left out on purpose: they are misreadings of handwriting or
scans, not typing slips, and these letters are common in real codes next to digits (``B 12``, ``S1``,
``KFZ``), so each would add readings that are only ever checked, never meant.

Vectorised, and only for the payments that need it: those the exact and window readings found nothing
for, and of them only those with one of the letters beside a digit.
"""

from __future__ import annotations

import polars as pl

from matching.config import MatchConfig

#: the letters read as digits
LETTER_DIGITS = {"O": "0", "o": "0", "I": "1", "l": "1"}
_LETTERS = "".join(LETTER_DIGITS)
#: a word that is read: digits and the letters only, at least one digit
_WORD = rf"^[0-9{_LETTERS}]*[0-9][0-9{_LETTERS}]*$"
FIELDS = ("remittance", "end_to_end_id", "creditor_ref")


def _unglued(text: pl.Expr, cfg: MatchConfig) -> pl.Expr:
    """``text`` without the prefixes glued to a number (``KZ1OOO…`` → ``1OOO…``): else the number would be
    one word with other letters in it."""
    if not cfg.prefixes:
        return text
    alts = "|".join(sorted((p.replace(".", r"\.") for p in cfg.prefixes), key=len, reverse=True))
    return text.str.replace_all(rf"(?i:\b(?:{alts}))([0-9{_LETTERS}])", "$1")


def _read(text: pl.Expr) -> pl.Expr:
    """``text`` with its readable words' letters replaced by digits, every other character kept: the text
    is cut into words and non-words (``\\w+|\\W+``: every character belongs to one piece), the readable
    words rewritten, and the pieces joined again."""
    word = pl.element()
    readable = word.str.contains(_WORD) & word.str.contains(f"[{_LETTERS}]")
    as_digits = word.str.replace_many(list(LETTER_DIGITS), list(LETTER_DIGITS.values()))
    pieces = text.str.extract_all(r"\w+|\W+")
    return pieces.list.eval(pl.when(readable).then(as_digits).otherwise(word)).list.join("")


def letter_texts(tx: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """transaction_id and the text fields of the payments of ``tx`` whose text changes when letters are
    read as digits, with the letters so read (for :func:`matching.refexpr.reference_candidates`)."""
    near = rf"[0-9][{_LETTERS}]|[{_LETTERS}][0-9]"  # (a letter beside a digit: the cheap test that leaves most out)
    some = tx.select("transaction_id", *FIELDS).filter(
        pl.any_horizontal(pl.col(f).str.contains(near).fill_null(False) for f in FIELDS))
    if some.is_empty():
        return some
    some = some.with_columns(_unglued(pl.col(f), cfg) for f in FIELDS)
    read = some.with_columns(_read(pl.col(f)).alias(f"_{f}") for f in FIELDS)
    changed = pl.any_horizontal((pl.col(f"_{f}") != pl.col(f)).fill_null(False) for f in FIELDS)
    return read.filter(changed).select("transaction_id", *(pl.col(f"_{f}").alias(f) for f in FIELDS))
