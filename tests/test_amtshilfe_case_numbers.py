"""Our case numbers of foreign creditors' requests are valid Kassenzeichen of the tenant's scheme
(amtshilfe/case_numbers.py; docs/AMTSHILFE.md "In the ledger")."""

from __future__ import annotations

import pytest

from amtshilfe.case_numbers import CaseNumberError, assign, candidate, hash_digits, key_of
from claims.kassenzeichen import well_formed
from jobs.nightly.amtshilfe import case_number


@pytest.mark.parametrize(("digits", "scheme", "prefix"), [(12, "mod11", "8"), (12, "mod10", "77"),
                                                          (10, "none", "9"), (14, "mod11", "8123")])
def test_a_case_number_is_a_well_formed_kassenzeichen_in_the_prefix_range(digits: int, scheme: str,
                                                                         prefix: str) -> None:
    numbers = assign([key_of("stadt", "IHK-BI", f"A-{i}") for i in range(200)], prefix=prefix, digits=digits,
                     scheme=scheme)
    assert all(well_formed(n, digits, scheme) and n.startswith(prefix) for n in numbers)
    assert len(set(numbers)) == 200


def test_the_same_request_gets_the_same_number_whatever_the_spelling_of_its_key() -> None:
    a = case_number("stadt", "ihk-bi ", " A-1")
    assert a == case_number("stadt", "IHK-BI", "A-1")
    assert a != case_number("stadt", "IHK-BI", "A-2") != case_number("land", "IHK-BI", "A-1")
    assert a == "836738993080"   # a literal: a changed hash would renumber every open case


def test_a_number_in_use_or_given_earlier_is_skipped_for_the_next_attempt() -> None:
    k = key_of("stadt", "IHK-BI", "A-1")
    first = assign([k], prefix="8", digits=12, scheme="mod11")[0]
    # the export holds it: the next attempt
    moved = assign([k], prefix="8", digits=12, scheme="mod11", taken=[first])[0]
    assert moved != first and well_formed(moved) and moved.startswith("8")
    assert moved == next(n for i in range(1, 50) if (n := candidate(k, i, prefix="8", digits=12, scheme="mod11"))
                         and n != first)
    # the same key twice in one night: one number; two keys never share one
    k2 = key_of("stadt", "IHK-BI", "A-2")
    assert assign([k, k2, k], prefix="8", digits=12, scheme="mod11") == [first, assign([k2], prefix="8", digits=12,
                                                                                     scheme="mod11")[0], first]


def test_a_mod11_body_giving_10_is_never_a_case_number() -> None:
    # among 300 keys, the first attempt of some gives a body mod 11 never issues: they take the next
    keys = [key_of("stadt", "X", str(i)) for i in range(300)]
    skipped = [k for k in keys if candidate(k, 0, prefix="8", digits=12, scheme="mod11") is None]
    assert skipped
    assert all(well_formed(n) for n in assign(skipped, prefix="8", digits=12, scheme="mod11"))


def test_a_prefix_leaving_too_few_digits_or_not_digits_is_refused() -> None:
    assert hash_digits(12, "mod11", "8") == 10
    with pytest.raises(CaseNumberError, match="at least 6"):
        hash_digits(8, "mod11", "99")
    with pytest.raises(CaseNumberError, match="expected digits"):
        hash_digits(12, "mod11", "A")


def test_a_full_range_is_refused_not_looped_forever() -> None:
    k = key_of("stadt", "X", "1")
    taken = {n for i in range(1000) if (n := candidate(k, i, prefix="8", digits=12, scheme="mod11"))}
    with pytest.raises(CaseNumberError, match="no free case number"):
        assign([k], prefix="8", digits=12, scheme="mod11", taken=taken)
