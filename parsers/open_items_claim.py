"""The open-items export's rows as claims: the debtor's optional address, bad IBANs, the final filter.

* ``debtor_street``, ``debtor_postcode``, ``debtor_city``, ``debtor_country``, ``debtor_birth_date``
  are optional columns; a bad value (a German postcode that is not 5 digits, a country that is not an
  ISO 3166 alpha-2 code, a birth date that is not a date or lies in the future) is dropped with a
  warning naming line and value — the item is kept (:class:`claims.frames.DebtorAddress`).
* An invalid ``debtor_iban`` is dropped the same way (``open_items.invalid_iban``, warning): the item
  can still be paid by Kassenzeichen.
* The rows handed on are *filtered* with :class:`claims.frames.OpenItemRow`: a row breaking one of its
  rules (which the hand-written checks of :mod:`parsers.open_items` should have caught first) is left
  out with an error naming line and rule (``open_items.invalid_row``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from parsers.issues import ERROR, WARNING, Issue
from parsers.open_items_values import parsed_date

if TYPE_CHECKING:
    from claims.frames import DebtorAddress, OpenItemRow


def _schemas() -> tuple[type[DebtorAddress], type[OpenItemRow]]:
    """The row schemas, imported when first used: dataframely loads SQLAlchemy (about 0.2 s), and
    ``kasse match`` loads the export in a thread beside the bank files, so the import runs beside them."""
    from claims.frames import DebtorAddress, OpenItemRow

    return DebtorAddress, OpenItemRow

ADDRESS_TEXT = ("debtor_street", "debtor_postcode", "debtor_city", "debtor_country")
#: the optional address columns of the export
ADDRESS = (*ADDRESS_TEXT, "debtor_birth_date")

#: rule of :class:`DebtorAddress` -> (column whose value it drops, what was expected)
_RULES = {
    "postcode_german": ("debtor_postcode", "expected 5 digits for an address in Germany"),
    "country_known": ("debtor_country", "expected an ISO 3166 alpha-2 country code such as DE, AT, NL"),
    "birth_date_past": ("debtor_birth_date", "expected a date not in the future"),
}


def _text(values: pl.Series, *, upper: bool = False) -> pl.Series:
    """Stripped text, blank as null (a column the export does not have is taken as it is)."""
    if values.null_count() == values.len():
        return values.cast(pl.String)
    v = values.cast(pl.String).str.strip_chars()
    if upper:
        v = v.str.to_uppercase()
    return v.to_frame("v").select(pl.when(pl.col("v") != "").then(pl.col("v"))).to_series().rename(values.name)


def address_columns(raw: dict[str, pl.Series]) -> dict[str, pl.Series]:
    """The address columns, normalised (blank = null; country upper-cased), and the birth date parsed."""
    out = {c: _text(raw[c], upper=c == "debtor_country") for c in ADDRESS_TEXT}
    birth = raw["debtor_birth_date"]
    out["birth_date_text"] = birth.cast(pl.String).rename("birth_date_text")
    out["debtor_birth_date"] = parsed_date(birth) if birth.null_count() < birth.len() else \
        pl.repeat(None, birth.len(), dtype=pl.Date, eager=True).alias("debtor_birth_date")
    return out


def checked_address(lines: pl.Series, address: dict[str, pl.Series],
                    p: str) -> tuple[dict[str, pl.Series], list[Issue]]:
    """The ``address`` columns (of :func:`address_columns`) of the rows at ``lines`` with every bad
    value dropped, and a warning for each."""
    good = pl.DataFrame([lines.alias("source_line"), *(col.alias(c) for c, col in address.items())])
    cols = {c: address[c] for c in ADDRESS}
    given = good.select(pl.any_horizontal(pl.col("debtor_postcode", "debtor_country", "birth_date_text")
                                          .is_not_null())).to_series()
    if not given.any():
        return cols, []
    frame = good.filter(given).select("source_line", "debtor_postcode", "debtor_country", "debtor_birth_date",
                                      "birth_date_text")
    _, failure = _schemas()[0].filter(frame)
    if not len(failure):
        return cols, []
    details = failure.details()
    issues: list[Issue] = []
    for rule, (column, why) in _RULES.items():
        shown = "birth_date_text" if column == "debtor_birth_date" else column
        hits = details.filter(pl.col(rule) == "invalid").select("source_line", shown)
        issues.extend(Issue(p, f"line {line}", WARNING, f"open_items.bad_{column.removeprefix('debtor_')}",
                            f"{column}: {why}, got '{value}'; the value is dropped, the item kept", raw=str(value))
                      for line, value in hits.iter_rows())
        bad = lines.is_in(hits["source_line"].implode())
        cols[column] = cols[column].set(bad, None) if bad.any() else cols[column]
    issues.sort(key=lambda i: int(i.locator.removeprefix("line ")))
    return cols, issues


def dropped_ibans(good: pl.DataFrame, p: str) -> tuple[pl.Series, list[Issue]]:
    """``debtor_iban`` of the ``good`` rows with invalid ones dropped, and a warning for each."""
    bad = good["_bad_iban"]
    if not bad.any():
        return good["debtor_iban"], []
    hits = good.filter(bad).select("source_line", "debtor_iban")
    issues = [Issue(p, f"line {line}", WARNING, "open_items.invalid_iban",
                    f"debtor_iban: '{iban}' is not a valid IBAN; the IBAN is dropped, the item kept", raw=iban)
              for line, iban in hits.iter_rows()]
    return good["debtor_iban"].set(bad, None), issues


def filtered(out: pl.DataFrame, p: str) -> tuple[pl.DataFrame, list[Issue]]:
    """The rows of ``out`` that keep every rule of :class:`OpenItemRow`, and an error per failed row."""
    kept, failure = _schemas()[1].filter(out)
    if not len(failure):
        return out, []
    details = failure.details()
    rules = [c for c in details.columns if c not in out.columns]
    issues = [
        Issue(p, f"line {row['source_line']}", ERROR, "open_items.invalid_row",
              "row breaks " + ", ".join(r for r in rules if row[r] == "invalid") + "; the row is not imported",
              raw=row["receivable_id"] or "")
        for row in details.iter_rows(named=True)
    ]
    return kept.select(out.columns), issues
