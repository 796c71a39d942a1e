"""The regex that tells a file has an invalid ``:86:`` subfield marker agrees with the piece-wise rule."""

from __future__ import annotations

import itertools

import polars as pl

from parsers.mt940_details import _BAD_MARKER, VALID_SUBFIELDS


def test_bad_marker_regex_matches_the_valid_subfield_list() -> None:
    alphabet = "0123456789A?x "
    texts = ["?", *[f"?{a}" for a in alphabet], *[f"?{a}{b}" for a, b in itertools.product(alphabet, repeat=2)],
             "166?00A?10B?2", "166?00A?20B?61C", "?00a?96b"]
    verdicts = pl.Series(texts).str.contains(_BAD_MARKER).to_list()
    expected = [any(piece[:2] not in VALID_SUBFIELDS for piece in t.split("?")[1:]) for t in texts]
    assert verdicts == expected
    assert sum(expected) > 100 and not all(expected)
