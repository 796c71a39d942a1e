"""Letters typed for digits in a Kassenzeichen: ``O``/``o`` for ``0``, ``I``/``l`` for ``1``.

On many keyboards and in many fonts these look alike, and payers copy a Kassenzeichen by hand from a
letter (``KZ 1OOO.OOOO.OO13``, ``l000 0000 00l3``). A word is read with digits for those letters only
when it is made of digits and these four letters alone and belongs to a number that holds at least one
digit (words joined by the separators of a Kassenzeichen): ``9O12`` is read ``9012``, ``lOOO OOOO
OOl3`` is read ``1000 0000 0013``, while ``Obst``, ``Ol``, ``IO`` and ``2026Oktober`` stay as they are. Each such word has one
reading (every letter stands for one digit), and the Kassenzeichen's check digit must confirm the
reading: :func:`matching.evidence.by_typo` books it only where it names exactly one Kassenzeichen.

``S``/``5``, ``B``/``8`` and ``Z``/``2`` are left out on purpose: they are misreadings of handwriting or
scans, not typing slips, and these letters are common in real codes next to digits (``B 12``, ``S1``,
``KFZ``), so each would add readings that are only ever checked, never meant.

Vectorised, and only for the payments that need it: those the exact and window readings found nothing
for, and of them only those with one of the letters next to a digit.
"""

from __future__ import annotations

import polars as pl

from matching.config import MatchConfig

#: the letters read as digits
LETTER_DIGITS = {"O": "0", "o": "0", "I": "1", "l": "1"}
_LETTERS = "".join(LETTER_DIGITS)
FIELDS = ("remittance", "end_to_end_id", "creditor_ref")


def _unglued(text: pl.Expr, cfg: MatchConfig) -> pl.Expr:
    """``text`` without the prefixes glued to a number (``KZ1OOO…`` → ``1OOO…``): else the number would be
    one word with other letters in it."""
    if not cfg.prefixes:
        return text
    alts = "|".join(sorted((p.replace(".", r"\.") for p in cfg.prefixes), key=len, reverse=True))
    return text.str.replace_all(rf"(?i:\b(?:{alts}))([0-9{_LETTERS}])", "$1")


def _pieces(some: pl.DataFrame, field: str) -> pl.DataFrame:
    """``_i`` (row of ``some``), ``p``: the pieces of ``field`` in order, every character in one piece.

    The text is cut into words and non-words (``\\w+|\\W+``). A word with other letters in it is cut
    further: its head up to the last digit of its leading digits-and-letters (``OO13`` of ``OO13Abfall``,
    a number glued to the next word by a bank line cut), the middle, and its tail from the first digit
    of its trailing digits-and-letters (``2O26`` of ``Steuer2O26``); ``Obst`` and ``Oktober`` have neither."""
    words = some.select(pl.int_range(pl.len()).alias("_i"), pl.col(field).str.extract_all(r"\w+|\W+").alias("p")).explode(
        "p", empty_as_null=True)  # (a row per text: an empty text is one null piece)
    p = pl.col("p")
    mixed = p.str.contains(r"^\w+$") & ~p.str.contains(f"^[0-9{_LETTERS}]+$")
    head = p.str.extract(f"^([0-9{_LETTERS}]*[0-9])", 1).fill_null("")
    tail = p.str.extract(f"([0-9][0-9{_LETTERS}]*)$", 1).fill_null("")
    n_head, n_tail = head.str.len_chars(), tail.str.len_chars()
    middle = p.str.slice(n_head, p.str.len_chars() - n_head - n_tail)
    cut = pl.when(mixed.fill_null(False)).then(pl.concat_list(head, middle, tail).list.eval(
        pl.element().filter(pl.element() != ""))).otherwise(pl.concat_list(p))
    return words.select("_i", cut.alias("p")).explode("p")


def _read(some: pl.DataFrame, field: str) -> pl.Series:
    """``field`` of ``some`` with the letters of its numbers read as digits, every other character kept.

    A *number* is a run of pieces (:func:`_pieces`) made of digits and the letters only, joined by the
    separators of a Kassenzeichen (``.`` white space ``/`` ``-``), holding at least one digit: all its
    pieces are read (``lOOO OOOO OOl3`` → ``1000 0000 0013``; ``Ol``, ``IO`` alone, ``Obst`` stay)."""
    pieces = _pieces(some, field)
    p, i = pl.col("p"), pl.col("_i")
    wordlike = p.str.contains(f"^[0-9{_LETTERS}]+$").fill_null(False)
    joint = p.str.contains(r"^[.\s/\-]+$").fill_null(False)
    number = ((~(wordlike | joint)) | (i != i.shift(1)).fill_null(True)).cum_sum()  # a number per run
    digit = wordlike & p.str.contains("[0-9]")
    read = wordlike & p.str.contains(f"[{_LETTERS}]") & digit.any().over(number)
    as_digits = p.str.replace_many(list(LETTER_DIGITS), list(LETTER_DIGITS.values()))
    text = (
        pieces.select(i, pl.when(read).then(as_digits).otherwise(p).alias("p"))
        .group_by("_i", maintain_order=True).agg(p.str.join(""))["p"]
    )
    return some.select(pl.when(pl.col(field).is_null()).then(None).otherwise(pl.lit(text))).to_series()


def letter_texts(tx: pl.DataFrame, cfg: MatchConfig) -> pl.DataFrame:
    """transaction_id and the text fields of the payments of ``tx`` whose text changes when letters are
    read as digits, with the letters so read (for :func:`matching.refexpr.reference_candidates`)."""
    # the cheap test that leaves most out: a letter beside a digit, or only separators between them (a
    # number read holds both, and along its words one of them follows the other so)
    near = rf"[0-9][.\s/\-]*[{_LETTERS}]|[{_LETTERS}][.\s/\-]*[0-9]"
    maybe = near
    if cfg.prefixes:  # or a prefix glued to a number, which _unglued drops (a costly regex: run on these only)
        maybe += "|(?i:" + "|".join(p.replace(".", r"\.") for p in cfg.prefixes) + f")[0-9{_LETTERS}]"
    some = tx.select("transaction_id", *FIELDS).filter(
        pl.any_horizontal(pl.col(f).str.contains(maybe).fill_null(False) for f in FIELDS))
    some = some.with_columns(_unglued(pl.col(f), cfg) for f in FIELDS).filter(
        pl.any_horizontal(pl.col(f).str.contains(near).fill_null(False) for f in FIELDS))
    if some.is_empty():
        return some
    read = some.with_columns(_read(some, f).alias(f"_{f}") for f in FIELDS)
    changed = pl.any_horizontal((pl.col(f"_{f}") != pl.col(f)).fill_null(False) for f in FIELDS)
    return read.filter(changed).select("transaction_id", *(pl.col(f"_{f}").alias(f) for f in FIELDS))
