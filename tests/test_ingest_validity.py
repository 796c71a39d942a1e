"""IBAN/BIC validity columns: the vectorised mod-97 agrees with schwifty; absent or pre-SEPA -> null."""

from __future__ import annotations

import polars as pl
from schwifty import IBAN

from parsers.validity import add_validity, iban_lengths

VALID = [
    "DE89370400440532013000",
    "DE02120300000000202051",
    "GB29NWBK60161331926819",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "CH9300762011623852957",
    "BE68539007547034",
    "AT611904300234573201",
    "NO9386011117947",
    "MT84MALT011000012345MTLCAST001S",
    "LC55HEMM000100010012001200023015",
]


def judge(values: list[str | None], bics: list[str | None] | None = None) -> list[tuple[bool | None, bool | None]]:
    df = pl.DataFrame(
        {"counterparty_iban": values, "counterparty_bic": bics or [None] * len(values)},
        schema={"counterparty_iban": pl.String(), "counterparty_bic": pl.String()},
    )
    return add_validity(df).select("iban_valid", "bic_valid").rows()


def test_valid_ibans_of_many_countries() -> None:
    assert [v for v, _ in judge(VALID)] == [True] * len(VALID)


def test_spaces_and_lower_case_are_tolerated() -> None:
    assert judge(["de89 3704 0044 0532 0130 00"]) == [(True, None)]


def test_wrong_check_digits_length_or_country() -> None:
    got = [v for v, _ in judge([
        "DE89370400440532013001",  # one digit off: mod 97 fails
        "DE8937040044053201300",  # one digit short for Germany
        "XX89370400440532013000",  # no such country
        "DE89-3704-0044-0532-0130-0X",  # letters where digits belong, after the hyphens are removed
    ])]
    assert got == [False, False, False, False]


def test_absent_and_old_account_numbers_are_null() -> None:
    # ?31 in a German :86: before SEPA held the account number (digits), which is not an IBAN at all
    assert judge([None, "", "0532013000", "1234 5678"]) == [(None, None)] * 4
    # camt Othr/Id account ids and placeholders are no IBANs either
    assert judge(["ACHCONTROLOUTUSD01", "NOTPROVIDED"]) == [(None, None)] * 2


def test_bics_checked_by_schwifty_on_unique_values() -> None:
    got = judge([None] * 6, ["COBADEFFXXX", "COBADEFF", "cobadeff xxx", "COBADE", None, "37040044"])
    # the last is a Bankleitzahl from a pre-SEPA ?30: not a BIC at all, so null
    assert [b for _, b in got] == [True, True, True, False, None, None]


def test_country_lengths_come_from_schwifty() -> None:
    lengths = iban_lengths()
    assert lengths["DE"] == 22 and lengths["NO"] == 15 and len(lengths) > 60


def test_the_value_is_kept() -> None:
    df = pl.DataFrame({"counterparty_iban": ["de89 3704"], "counterparty_bic": ["x"]})
    assert add_validity(df)["counterparty_iban"].to_list() == ["de89 3704"]


def test_agrees_with_schwifty_on_every_single_digit_change() -> None:
    values = sorted({
        base[:pos] + digit + base[pos + 1 :]
        for base in VALID
        for pos in range(2, len(base))
        if base[pos].isdigit()
        for digit in "0123456789"
    })
    mine = [v for v, _ in judge(values)]
    theirs = [IBAN(v, allow_invalid=True).is_valid for v in values]
    assert sum(mine) == len(VALID)  # mod 97 catches every single-digit change: only the originals pass
    for value, m, t in zip(values, mine, theirs, strict=True):
        # schwifty also checks national check digits (BE, FR, NO, ...): it may say False where mod 97 holds
        assert m == t or (m and not t and value[:2] not in {"DE", "GB", "CH"}), value
