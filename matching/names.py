"""Is the payer recognisably the debtor? A strict, explainable name test — vectorised, no fuzz.

Used only to *hold back* a payment whose amount does not fit the items its reference designates
(partial or over-payment): if the payer is neither a known account of the debtor nor recognisably
the debtor by name, the reference may be someone else's (a wrong Kassenzeichen) and a clerk decides.
It never creates an allocation on its own.

Names are compared as sets of words after folding (upper case, Ä→AE, Ö→OE, Ü→UE, ß→SS, then every
other letter of any alphabet transliterated to A–Z by ``anyascii``: Ł→L, Ø→O, Đ→D, Æ→AE, Œ→OE, ı/İ→I,
accents dropped, Cyrillic and Greek spelled out; anything but A–Z is a separator, legal forms and
titles dropped): ``Michał Wójcik`` = ``Wojcik, Michal``. The payer is the debtor
when every full payer word is a debtor word and every payer initial starts a debtor word
(``M. Bergmann`` = ``Bergmann, Monika``), or when every debtor word is a payer word
(``Metallbau Krämer e.K.`` = ``Metallbau Krämer``).
"""

from __future__ import annotations

import polars as pl
from anyascii import anyascii

#: Words that say nothing about who someone is.
STOP_WORDS = (
    "GMBH", "MBH", "UG", "KG", "OHG", "AG", "CO", "EK", "GBR", "EG", "EV", "SE", "HAFTUNGSBESCHRAENKT",
    "UND", "DR", "PROF", "FRAU", "HERR", "FAMILIE", "FAM",
)
#: The German umlauts as German names write them without the dots (before the transliteration, which
#: would drop the dots: Müller is MUELLER, as the banks' SEPA character set spells it).
_FOLD = {"Ä": "AE", "Ö": "OE", "Ü": "UE", "ẞ": "SS"}
#: The same in either case, for names whose case is kept (:func:`fold_name`, :func:`fold_names`).
_GERMAN_BOTH = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ẞ": "SS"}
_GERMAN = str.maketrans(_GERMAN_BOTH)


def fold_name(name: str) -> str:
    """One name in plain ASCII letters: German umlauts and ß spelled out, every other letter transliterated
    (``Michał Wójcik`` → ``Michal Wojcik``, ``Jürgen Weiß`` → ``Juergen Weiss``); case is kept."""
    name = name.translate(_GERMAN)
    return name if name.isascii() else anyascii(name)


def fold_names(names: pl.Series) -> pl.Series:
    """:func:`fold_name` of each value (null stays null), vectorised: the umlauts by one Polars pass, the
    transliteration only for the distinct values that hold another non-ASCII letter."""
    return _ascii(names.str.replace_many(_GERMAN_BOTH))


def _ascii(names: pl.Series) -> pl.Series:
    """``names`` in ASCII (:func:`fold_name` after the German umlauts are spelled out): only the distinct
    values holding another character go through the transliteration, one Python call each."""
    odd = names.str.contains(r"[^\x00-\x7F]").fill_null(False)
    if not odd.any():
        return names
    distinct = names.filter(odd).unique()
    return names.replace(distinct, pl.Series([anyascii(v) for v in distinct.to_list()], dtype=pl.String))


def name_words(expr: pl.Expr, *, plain: bool = False) -> pl.Expr:
    """The folded words of a name (list of strings, stop words removed). ``plain``: the umlauts lose their
    dots like every other accent (Fülöp → FULOP, as a Hungarian or Turkish name is written without them)
    instead of being spelled out (Müller → MUELLER, the German way); :func:`same_words_either` compares
    under both."""
    s = expr.fill_null("").str.to_uppercase()
    s = (s if plain else s.str.replace_many(_FOLD)).map_batches(_ascii, return_dtype=pl.String)
    words = s.str.to_uppercase().str.replace_all(r"[^A-Z]+", " ").str.strip_chars().str.split(" ")
    return words.list.eval(pl.element().filter((pl.element() != "") & ~pl.element().is_in(list(STOP_WORDS))))


def same_person(payer: pl.Expr, debtor: pl.Expr) -> pl.Expr:
    """Whether the payer's name is recognisably the debtor's (both raw names; false when either is empty)."""
    return same_words(name_words(payer), name_words(debtor))


def same_words(pw: pl.Expr, dw: pl.Expr) -> pl.Expr:
    """:func:`same_person` on the :func:`name_words` of both names (to fold a name once for several tests)."""
    p_full = pw.list.eval(pl.element().filter(pl.element().str.len_chars() > 1))
    p_init = pw.list.eval(pl.element().filter(pl.element().str.len_chars() == 1))
    d_full = dw.list.eval(pl.element().filter(pl.element().str.len_chars() > 1))
    d_first = d_full.list.eval(pl.element().str.slice(0, 1))
    payer_in_debtor = (
        (p_full.list.len() > 0)
        & (p_full.list.set_difference(d_full).list.len() == 0)
        & (p_init.list.set_difference(d_first).list.len() == 0)
    )
    debtor_in_payer = (d_full.list.len() > 0) & (d_full.list.set_difference(p_full).list.len() == 0)
    return (payer_in_debtor | debtor_in_payer).fill_null(False)


def same_words_either(names: pl.DataFrame, a: str, b: str) -> pl.Series:
    """Per row of ``names``: whether the names in columns ``a`` and ``b`` are :func:`same_words` with the
    umlauts spelled out (Müller = MUELLER) or, failing that, with their dots dropped (``Zoltán Fülöp`` =
    ``Fulop, Zoltan``, ``Ibrahim Ozturk`` = ``Öztürk, İbrahim``, ``Anna Muller`` = ``Müller, Anna``). Both
    names are folded the same way each time, so ``Mueller`` and ``Muller`` (two spellings without dots)
    stay two names. The second folding is tried only for rows where a name has an umlaut."""
    german = names.select(same_words(name_words(pl.col(a)), name_words(pl.col(b)))).to_series()
    odd = names.select((pl.col(a).str.contains("[ÄÖÜäöü]") | pl.col(b).str.contains("[ÄÖÜäöü]")).fill_null(False)).to_series()
    again = (odd & ~german).arg_true()
    if not again.len():
        return german
    few = names.select(pl.col(a, b).gather(again))
    plain = few.select(same_words(name_words(pl.col(a), plain=True), name_words(pl.col(b), plain=True))).to_series()
    return german.scatter(again.filter(plain), True)
