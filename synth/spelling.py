"""How a bank spells a name it cannot or will not carry: transliteration for the synthetic payers.

The generator's own small table, deliberately independent of whatever library the matcher uses to fold
names (a test that used the same library on both sides would prove nothing). Two styles occur at real
banks: letters stripped of their marks (``ø`` → ``o``, ``đ`` → ``d``, ``ä`` → ``a``) and the expanded
forms a German bank writes (``ø`` → ``oe``, ``đ`` → ``dj``, ``ä`` → ``ae``, ``å`` → ``aa``). Letters
with no decomposition (``ł``, ``ı``, ``ß``, ``æ``, ``œ``) are spelled out in both.
"""

from __future__ import annotations

import unicodedata

#: letters Unicode does not decompose into a base letter and a mark, in both styles
_SPELLED = {"ł": "l", "Ł": "L", "ı": "i", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
            "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D"}
#: the German bank's expanded forms where they differ from stripping the mark
_EXPANDED = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ø": "oe", "Ø": "Oe",
             "å": "aa", "Å": "Aa", "đ": "dj", "Đ": "Dj"}


def _strip(ch: str) -> str:
    """One character without its marks (``ś`` → ``s``, ``İ`` → ``I``); spelled out where Unicode cannot."""
    if ch in _SPELLED:
        return _SPELLED[ch]
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))


def transliterate(text: str, *, expanded: bool = False) -> str:
    """``text`` in plain ASCII letters: marks stripped, or (``expanded``) the German bank's ``ae``/``oe``/``dj``."""
    return "".join(_EXPANDED.get(ch, _strip(ch)) if expanded else _strip(ch) for ch in text)


def latin1(text: str) -> str:
    """``text`` with every character outside ISO-8859-1 stripped of its marks (what a Sparkasse MT940 holds).

    Latin-1 letters (``ä``, ``é``, ``ø``, ``æ`` …) stay; so a text that was Latin-1 already is unchanged.
    The euro sign, which Latin-1 lacks, becomes ``EUR``.
    """
    if all(ord(ch) < 256 for ch in text):
        return text
    return "".join(ch if ord(ch) < 256 else "EUR" if ch == "€" else _strip(ch) for ch in text)
