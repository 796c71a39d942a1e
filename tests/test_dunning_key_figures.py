"""Dunning key figures (dunning/key_figures.py) and their writer (outputs/dunning_figures.py): every figure
on one small literal period, the quartile placement at its boundaries, the files and the HTML section."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from dunning.key_figures import GPA_COMPARISON, Benchmark, dunning_key_figures, placement
from outputs.dunning_figures import dunning_figures_files, render_section, write_dunning_figures

D = date
AS_OF, SINCE = D(2026, 6, 30), D(2026, 1, 1)          # 181 days


def _claims() -> pl.DataFrame:
    rows = [("R1", "GRUNDSTEUER", 10_000, D(2026, 2, 15)), ("R2", "ABFALL", 5_000, D(2026, 2, 15)),
            ("R3", "HUNDESTEUER", 2_000, D(2026, 3, 1)), ("R4", "GEWERBESTEUER", 50_000, D(2026, 4, 1)),
            ("R5", "MAHNGEBUEHR", 600, D(2026, 3, 10)), ("R6", "GRUNDSTEUER", 8_000, D(2025, 11, 15)),
            ("R7", "ABFALL", 4_000, D(2026, 5, 15))]
    return pl.DataFrame(rows, schema=["receivable_id", "claim_type", "amount_cents", "due_date"], orient="row")


def _notices() -> tuple[pl.DataFrame, pl.DataFrame]:
    notices = pl.DataFrame([
        ("N1", "D1", "mahnung", D(2026, 3, 2), 15_000), ("N2", "D2", "zahlungserinnerung", D(2026, 2, 20), 2_000),
        ("N3", "D2", "mahnung", D(2026, 3, 12), 2_000), ("N4", "D3", "mahnung", D(2026, 1, 10), 8_000),
        ("N5", "D1", "vollstreckungsankuendigung", D(2026, 3, 20), 5_000),
        ("N6", "D4", "mahnung", D(2026, 6, 20), 50_000), ("N0", "D3", "mahnung", D(2025, 12, 20), 8_000),
    ], schema=["notice_id", "debtor_id", "level", "notice_date", "total_cents"], orient="row")
    items = pl.DataFrame([("N1", "R1", 10_000), ("N1", "R2", 5_000), ("N2", "R3", 2_000), ("N3", "R3", 2_000),
                          ("N4", "R6", 8_000), ("N5", "R2", 5_000), ("N6", "R4", 50_000), ("N0", "R6", 8_000)],
                         schema=["notice_id", "receivable_id", "open_cents"], orient="row")
    return notices, items


def _allocations() -> pl.DataFrame:
    return pl.DataFrame([("R1", 500, D(2026, 2, 20)), ("R1", 4_000, D(2026, 3, 5)), ("R1", 6_000, D(2026, 3, 10)),
                         ("R2", 5_000, D(2026, 3, 25)), ("R3", 1_000, D(2026, 3, 20)), ("R6", 8_000, D(2026, 2, 20))],
                        schema=["receivable_id", "amount_cents", "booking_date"], orient="row")


HANDOFFS = pl.DataFrame({"receivable_id": ["R6"], "handed_off_on": [D(2026, 2, 1)]})


def _figures(**kw: object) -> dict[str, pl.DataFrame]:
    notices, items = _notices()
    args: dict[str, object] = {"as_of": AS_OF, "since": SINCE, "inhabitants": 20_000} | kw
    return dunning_key_figures(notices, items, _claims(), _allocations(), HANDOFFS, **args)  # type: ignore[arg-type]


def _fig(frame: pl.DataFrame, name: str) -> dict[str, Any]:
    return frame.filter(pl.col("figure") == name).row(0, named=True)


def test_mahnungen_je_10000_einwohner() -> None:
    got = _fig(_figures()["figures"], "mahnungen_je_10000_einwohner")
    # N1, N3, N4, N5, N6 (not the Zahlungserinnerung N2, not N0 before the period)
    assert (got["numerator"], got["denominator"], got["value"]) == (5, 20_000, 2.5)
    assert got["compared_value"] == pytest.approx(2.5 * 365 / 181)
    assert (got["quartile"], got["position"]) == (1, "bis zum 1. Quartil, unter dem Minimum")
    assert (got["bench_min"], got["bench_median"], got["bench_n"], got["bench_year"]) == (733, 1649, 75, 2016)
    assert "Warendorf" in got["bench_source"]


def test_without_inhabitants_the_figure_is_empty() -> None:
    got = _fig(_figures(inhabitants=None)["figures"], "mahnungen_je_10000_einwohner")
    assert (got["value"], got["quartile"], got["position"]) == (None, None, "kein Wert")


def test_mahnquote_by_count_and_sum() -> None:
    figs = _figures()["figures"]
    # due in the period, main claims: R1 R2 R3 R4 R7 (R5 ancillary, R6 due before); dunned: R1 R2 R3 R4
    count, total = _fig(figs, "mahnquote_anzahl"), _fig(figs, "mahnquote_summe")
    assert (count["numerator"], count["denominator"], count["value"]) == (4, 5, 80.0)
    assert (total["numerator"], total["denominator"]) == (67_000, 71_000)
    assert total["value"] == pytest.approx(67_000 * 100 / 71_000)
    assert (count["quartile"], count["position"]) == (None, "kein Vergleichswert veröffentlicht")


def test_erfolgsquote_after_eight_weeks() -> None:
    figs = _figures()["figures"]
    # dunned 8 weeks before 30 Jun: R6 (handed off before paid), R1, R2 (settled), R3 (half paid)
    count, amount = _fig(figs, "erfolgsquote_anzahl"), _fig(figs, "erfolgsquote_summe")
    assert (count["numerator"], count["denominator"], count["value"]) == (2, 4, 50.0)
    assert (amount["numerator"], amount["denominator"], amount["value"]) == (15_000, 25_000, 60.0)
    assert (count["quartile"], count["position"]) == (2, "zwischen 1. Quartil und Median")
    assert (count["bench_q1"], count["bench_median"], count["bench_q3"], count["bench_min"]) == (44.4, 55.4, 63.8, None)


def test_erfolgsquote_per_cohort_as_the_weeks_go_by() -> None:
    c = _figures()["cohorts"]
    rows = {(r["cohort_week"], r["weeks"]): r for r in c.iter_rows(named=True)}
    assert sorted({w for w, _ in rows}) == [D(2026, 1, 5), D(2026, 3, 2), D(2026, 3, 9), D(2026, 6, 15)]
    march = [rows[(D(2026, 3, 2), w)] for w in (2, 4, 8)]
    assert [(r["n_dunned"], r["n_settled"], r["settled_cents"]) for r in march] == [(2, 1, 10_000), (2, 2, 15_000),
                                                                                      (2, 2, 15_000)]
    assert [r["count_rate_pct"] for r in march] == [50.0, 100.0, 100.0]
    assert march[0]["amount_rate_pct"] == pytest.approx(10_000 * 100 / 15_000)
    assert rows[(D(2026, 1, 5), 8)]["n_settled"] == 0                 # paid after the hand-off: enforcement's
    assert rows[(D(2026, 3, 9), 8)]["count_rate_pct"] == 0.0
    june = rows[(D(2026, 6, 15), 2)]                                   # dunned 20 Jun: 2 weeks not over yet
    assert (june["observable"], june["count_rate_pct"], june["n_dunned"]) == (False, None, 1)


def test_paid_before_the_notice_does_not_count_and_hand_off_after_settling_does_not_hurt() -> None:
    notices = pl.DataFrame({"notice_id": ["N"], "debtor_id": ["D"], "level": ["mahnung"],
                            "notice_date": [D(2026, 3, 2)], "total_cents": [1_000]})
    items = pl.DataFrame({"notice_id": ["N"], "receivable_id": ["R"], "open_cents": [1_000]})
    claims = pl.DataFrame({"receivable_id": ["R"], "claim_type": ["ABFALL"], "amount_cents": [1_000],
                           "due_date": [D(2026, 2, 15)]})
    early = pl.DataFrame({"receivable_id": ["R"], "amount_cents": [1_000], "booking_date": [D(2026, 3, 1)]})
    got = dunning_key_figures(notices, items, claims, early, None, as_of=AS_OF)["figures"]
    assert _fig(got, "erfolgsquote_anzahl")["numerator"] == 0
    paid = pl.DataFrame({"receivable_id": ["R"], "amount_cents": [1_000], "booking_date": [D(2026, 3, 2)]})
    late_handoff = pl.DataFrame({"receivable_id": ["R"], "handed_off_on": [D(2026, 3, 3)]})
    got = dunning_key_figures(notices, items, claims, paid, late_handoff, as_of=AS_OF)["figures"]
    assert _fig(got, "erfolgsquote_anzahl")["value"] == 100.0
    same_day = pl.DataFrame({"receivable_id": ["R"], "handed_off_on": [D(2026, 3, 2)]})
    got = dunning_key_figures(notices, items, claims, paid, same_day, as_of=AS_OF)["figures"]
    assert _fig(got, "erfolgsquote_anzahl")["value"] == 0.0


def test_age_structure_and_claim_types() -> None:
    figs = _figures()
    age = figs["age_structure"]
    # R1 15 days, R2 15, R3 11 (first Mahnung 12 Mar), R6 56 (first Mahnung in the period: 10 Jan), R4 80
    assert age.select("age_band", "n_claims", "open_cents").rows() == [
        ("bis 30", 3, 17_000), ("31–90", 2, 58_000), ("91–180", 0, 0), ("181–365", 0, 0), ("über 365", 0, 0)]
    assert age["share_pct"].to_list() == [60.0, 40.0, 0.0, 0.0, 0.0]
    types = figs["claim_types"]
    assert types.select("claim_type", "n_claims", "open_cents").rows() == [
        ("GRUNDSTEUER", 2, 18_000), ("ABFALL", 1, 5_000), ("GEWERBESTEUER", 1, 50_000), ("HUNDESTEUER", 1, 2_000)]
    assert types["share_pct"].to_list() == [40.0, 20.0, 20.0, 20.0]
    assert types["amount_share_pct"][2] == pytest.approx(50_000 * 100 / 75_000)


@pytest.mark.parametrize(("days", "band"), [(0, "bis 30"), (30, "bis 30"), (31, "31–90"), (90, "31–90"),
                                            (91, "91–180"), (180, "91–180"), (181, "181–365"), (365, "181–365"),
                                            (366, "über 365")])
def test_age_band_boundaries(days: int, band: str) -> None:
    notice = D(2026, 6, 1)
    notices = pl.DataFrame({"notice_id": ["N"], "level": ["mahnung"], "notice_date": [notice]})
    items = pl.DataFrame({"notice_id": ["N"], "receivable_id": ["R"], "open_cents": [100]})
    claims = pl.DataFrame({"receivable_id": ["R"], "claim_type": ["ABFALL"], "amount_cents": [100],
                           "due_date": [notice - timedelta(days=days)]})
    age = dunning_key_figures(notices, items, claims, as_of=AS_OF)["age_structure"]
    assert age.filter(pl.col("n_claims") == 1)["age_band"].to_list() == [band]


def test_nothing_dunned_gives_empty_rates_not_errors() -> None:
    got = dunning_key_figures(None, None, _claims(), as_of=AS_OF, since=SINCE, inhabitants=1000)
    figs = got["figures"]
    assert _fig(figs, "mahnungen_je_10000_einwohner")["value"] == 0.0
    assert _fig(figs, "mahnquote_anzahl")["value"] == 0.0
    assert _fig(figs, "erfolgsquote_anzahl")["value"] is None
    assert got["cohorts"].height == 0 and got["age_structure"]["n_claims"].sum() == 0


FULL = Benchmark("x", "x", 2016, "s", n=9, minimum=10, q1=20, median=30, q3=40, maximum=50)
QUARTILES_ONLY = Benchmark("y", "y", 2016, "s", n=9, q1=20, median=30, q3=40)


@pytest.mark.parametrize(("value", "quartile", "words"), [
    (9.99, 1, "bis zum 1. Quartil, unter dem Minimum"),
    (10, 1, "bis zum 1. Quartil"),
    (20, 1, "bis zum 1. Quartil"),
    (20.01, 2, "zwischen 1. Quartil und Median"),
    (30, 2, "am Median"),
    (30.01, 3, "zwischen Median und 3. Quartil"),
    (40, 3, "zwischen Median und 3. Quartil"),
    (40.01, 4, "über dem 3. Quartil"),
    (50, 4, "über dem 3. Quartil"),
    (50.01, 4, "über dem 3. Quartil, über dem Maximum"),
])
def test_placement_at_the_boundaries(value: float, quartile: int, words: str) -> None:
    assert placement(value, FULL) == (quartile, words)


def test_placement_without_min_max_or_value() -> None:
    assert placement(5, QUARTILES_ONLY) == (1, "bis zum 1. Quartil")
    assert placement(500, QUARTILES_ONLY) == (4, "über dem 3. Quartil")
    assert placement(None, QUARTILES_ONLY) == (None, "kein Wert")
    assert placement(5, None) == (None, "kein Vergleichswert veröffentlicht")


def test_comparison_values_are_those_of_domain_md() -> None:
    by = {b.figure: b for b in GPA_COMPARISON}
    m = by["mahnungen_je_10000_einwohner"]
    assert (m.minimum, m.q1, m.median, m.q3, m.maximum, m.mean, m.n) == (733, 1259, 1649, 1916, 2542, 1596, 75)
    e = by["erfolgsquote_anzahl"]
    assert (e.minimum, e.q1, e.median, e.q3, e.maximum, e.n) == (None, 44.4, 55.4, 63.8, None, 80)
    assert all(b.minimum is None or b.minimum <= b.q1 for b in GPA_COMPARISON)
    assert all(b.q1 <= b.median <= b.q3 for b in GPA_COMPARISON)


# --- the writer -----------------------------------------------------------------------------------------

def test_files_and_html(tmp_path: Path) -> None:
    figs = _figures()
    files = {f.name: f for f in dunning_figures_files(figs)}
    assert sorted(files) == ["mahnkennzahlen.csv", "mahnkennzahlen_altersstruktur.csv",
                             "mahnkennzahlen_forderungsarten.csv", "mahnkennzahlen_kohorten.csv",
                             "mahnkennzahlen_vergleich.csv"]
    text = files["mahnkennzahlen.csv"].data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Kennzahl;Wert;Einheit")
    assert "Erfolgsquote Mahnungen (Anzahl, nach 8 Wochen);50,0;%" in text
    assert "zwischen 1. Quartil und Median" in text
    assert files["mahnkennzahlen_kohorten.csv"].rows == figs["cohorts"].height
    html = render_section(figs)
    assert html.startswith("<section") and "Mahnungen je 10.000 Einwohner" in html
    assert "1.649" in html and "gpaNRW, Prüfbericht Stadt Warendorf" in html
    assert "2,5 (Jahreswert 5,0)" in html                 # the placement is the year's figure
    assert "<td>GRUNDSTEUER</td>" in html and "180,00 €" in html
    paths = write_dunning_figures(tmp_path / "out", figs, {"tenant": "musterstadt"})
    assert (tmp_path / "out" / "mahnkennzahlen.html").read_text(encoding="utf-8").count("<section") == 1
    assert "manifest.json" in paths


def test_html_escapes_claim_types() -> None:
    figs = _figures()
    figs["claim_types"] = figs["claim_types"].with_columns(pl.lit("<b>X</b>").alias("claim_type"))
    html = render_section(figs)
    assert "<b>X</b>" not in html and "&lt;b&gt;X&lt;/b&gt;" in html
