"""The dunning key figures as files: CSV for German Excel and a small HTML section (issue 15 §4).

Takes the frames of :func:`dunning.key_figures.dunning_key_figures` and writes, with a manifest, like the
day-close report (:func:`outputs.atomic.write_all`)::

    mahnkennzahlen.csv                    one row per figure: value, basis, comparison values, quartile
    mahnkennzahlen_kohorten.csv           Erfolgsquote per notice-week cohort after 2, 4, 8 weeks
    mahnkennzahlen_altersstruktur.csv     days overdue at the first Mahnung
    mahnkennzahlen_forderungsarten.csv    the dunned claims by claim type
    mahnkennzahlen_vergleich.csv          the gpaNRW comparison values used, with their source and year
    mahnkennzahlen.html                   the section below as a page of its own

:func:`render_section` gives the ``<section>`` a report page can embed (Jinja2, autoescaped: claim
types come from the finance system's export).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from dunning.key_figures import comparison_table
from outputs.atomic import PlannedFile, write_all
from outputs.excel_csv import Col, excel_csv_bytes
from outputs.fmt import de_date, eur

FIGURE_COLS = (
    Col("label", "Kennzahl"), Col("value", "Wert", "float"), Col("unit", "Einheit"),
    Col("numerator", "Zähler (Anzahl bzw. Cent)", "int"), Col("denominator", "Nenner (Anzahl bzw. Cent)", "int"),
    Col("period_from", "Zeitraum von", "date"), Col("period_to", "Zeitraum bis", "date"),
    Col("compared_value", "Verglichener Wert (Jahr)", "float"), Col("bench_min", "Minimum", "float"),
    Col("bench_q1", "1. Quartil", "float"), Col("bench_median", "Median", "float"),
    Col("bench_q3", "3. Quartil", "float"), Col("bench_max", "Maximum", "float"),
    Col("bench_mean", "Mittelwert", "float"), Col("bench_n", "Anzahl Werte", "int"),
    Col("quartile", "Quartil", "int"), Col("position", "Lage"), Col("bench_source", "Quelle"),
    Col("bench_year", "Vergleichsjahr", "int"),
)
COHORT_COLS = (
    Col("cohort_week", "Mahnwoche ab", "date"), Col("weeks", "nach Wochen", "int"),
    Col("observable", "abgeschlossen", "bool"), Col("n_dunned", "gemahnte Forderungen", "int"),
    Col("dunned_cents", "gemahnter Betrag", "cents"), Col("n_settled", "erledigt ohne Vollstreckung", "int"),
    Col("settled_cents", "erledigter Betrag", "cents"), Col("count_rate_pct", "Erfolgsquote Anzahl (%)", "float"),
    Col("amount_rate_pct", "Erfolgsquote Betrag (%)", "float"),
)
AGE_COLS = (Col("age_band", "Tage überfällig bei Mahnung"), Col("n_claims", "Anzahl", "int"),
            Col("open_cents", "offener Betrag", "cents"), Col("share_pct", "Anteil (%)", "float"))
TYPE_COLS = (Col("claim_type", "Forderungsart"), Col("n_claims", "Anzahl", "int"),
             Col("open_cents", "offener Betrag", "cents"), Col("share_pct", "Anteil Anzahl (%)", "float"),
             Col("amount_share_pct", "Anteil Betrag (%)", "float"))
BENCH_COLS = (Col("label", "Kennzahl"), Col("year", "Jahr", "int"), Col("min", "Minimum", "float"),
              Col("q1", "1. Quartil", "float"), Col("median", "Median", "float"), Col("q3", "3. Quartil", "float"),
              Col("max", "Maximum", "float"), Col("mean", "Mittelwert", "float"), Col("n", "Anzahl Werte", "int"),
              Col("source", "Quelle"))

_SECTION = """\
<section class="mahnkennzahlen">
<h2>Kennzahlen Mahnwesen (gpaNRW-Vergleich)</h2>
<p class="small">Zeitraum: {{ period }}. Vergleichswerte: Kennzahlenvergleich der gpaNRW; die Lage im
Quartil bezieht sich auf den Jahreswert.</p>
<table>
<tr><th>Kennzahl</th><th>Wert</th><th>Basis</th><th>Min.</th><th>1. Quartil</th><th>Median</th><th>3. Quartil</th><th>Max.</th><th>Lage</th></tr>
{% for f in figures %}<tr><td>{{ f.label }}</td><td class="num">{{ f.value_txt }}</td><td class="num">{{ f.basis_txt }}</td>
<td class="num">{{ f.min_txt }}</td><td class="num">{{ f.q1_txt }}</td><td class="num">{{ f.median_txt }}</td>
<td class="num">{{ f.q3_txt }}</td><td class="num">{{ f.max_txt }}</td><td>{{ f.position }}</td></tr>
{% endfor %}</table>
<h3>Erfolgsquote je Mahnwoche</h3>
<table>
<tr><th>Mahnwoche ab</th><th>gemahnt</th>{% for w in weeks %}<th>nach {{ w }} Wochen</th>{% endfor %}</tr>
{% for c in cohorts %}<tr><td>{{ c.week_txt }}</td><td class="num">{{ c.n_dunned }}</td>{% for r in c.rates %}<td class="num">{{ r }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h3>Altersstruktur der gemahnten Forderungen</h3>
<table><tr><th>Tage überfällig</th><th>Anzahl</th><th>offener Betrag</th><th>Anteil</th></tr>
{% for a in age %}<tr><td>{{ a.age_band }}</td><td class="num">{{ a.n_claims }}</td><td class="num">{{ a.open_txt }}</td><td class="num">{{ a.share_txt }}</td></tr>
{% endfor %}</table>
<h3>Forderungsarten der gemahnten Forderungen</h3>
<table><tr><th>Forderungsart</th><th>Anzahl</th><th>offener Betrag</th><th>Anteil</th></tr>
{% for t in types %}<tr><td>{{ t.claim_type }}</td><td class="num">{{ t.n_claims }}</td><td class="num">{{ t.open_txt }}</td><td class="num">{{ t.share_txt }}</td></tr>
{% endfor %}</table>
<p class="small">Quellen der Vergleichswerte: {% for s in sources %}{{ s }}{% if not loop.last %}; {% endif %}{% endfor %}.</p>
</section>
"""


def _num(v: float | int | None, digits: int = 1) -> str:
    """``1649.0`` → ``'1.649,0'``; ``None`` → ``'–'``."""
    if v is None:
        return "–"
    return f"{v:,.{digits}f}".replace(",", "_").replace(".", ",").replace("_", ".")


def _section_model(figs: Mapping[str, pl.DataFrame]) -> dict[str, Any]:
    figures = []
    for f in figs["figures"].iter_rows(named=True):
        pct = f["unit"] == "%"
        digits = 1 if pct else 0
        money = f["figure"].endswith("_summe")          # the sums are cents: shown as euros
        basis = ("–" if f["numerator"] is None or f["denominator"] is None
                 else f"{eur(f['numerator'])} / {eur(f['denominator'])}" if money
                 else f"{_num(f['numerator'], 0)} / {_num(f['denominator'], 0)}")
        figures.append(f | {
            "value_txt": _num(f["value"], 1) + (" %" if pct and f["value"] is not None else "") + (
                f" (Jahreswert {_num(f['compared_value'], 1)})"
                if f["compared_value"] is not None and f["compared_value"] != f["value"] else ""),
            "basis_txt": basis, "min_txt": _num(f["bench_min"], digits), "q1_txt": _num(f["bench_q1"], digits),
            "median_txt": _num(f["bench_median"], digits), "q3_txt": _num(f["bench_q3"], digits),
            "max_txt": _num(f["bench_max"], digits)})
    cohorts = figs["cohorts"]
    weeks = sorted(set(cohorts["weeks"].to_list()))
    rows = []
    for (week,), group in cohorts.group_by(["cohort_week"], maintain_order=True):
        by = {r["weeks"]: r for r in group.iter_rows(named=True)}
        rows.append({"week_txt": de_date(week), "n_dunned": group["n_dunned"][0],
                     "rates": [_num(by[w]["count_rate_pct"]) + " %" if w in by and by[w]["count_rate_pct"] is not None
                               else "–" for w in weeks]})
    age = [a | {"open_txt": eur(a["open_cents"]), "share_txt": _num(a["share_pct"]) + " %"}
           for a in figs["age_structure"].iter_rows(named=True)]
    types = [t | {"open_txt": eur(t["open_cents"]), "share_txt": _num(t["share_pct"]) + " %"}
             for t in figs["claim_types"].iter_rows(named=True)]
    first = figs["figures"].row(0, named=True) if figs["figures"].height else {"period_from": None, "period_to": None}
    sources = [f"{b['label']}: {b['source']} (Werte {b['year']}, n = {b['n']})" for b in comparison_table().iter_rows(named=True)]
    return {"figures": figures, "weeks": weeks, "cohorts": rows, "age": age, "types": types, "sources": sources,
            "period": f"{de_date(first['period_from'])} bis {de_date(first['period_to'])}"}


def render_section(figs: Mapping[str, pl.DataFrame]) -> str:
    """The key figures as an HTML ``<section>`` (autoescaped) for a report page."""
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.from_string(_SECTION).render(**_section_model(figs))


def _page(section: str) -> bytes:
    return ("<!DOCTYPE html>\n<html lang=\"de\"><head><meta charset=\"utf-8\"><title>Kennzahlen Mahnwesen</title>"
            "<style>body{font-family:sans-serif;font-size:12px} table{border-collapse:collapse;margin-bottom:1em}"
            "td,th{border:1px solid #999;padding:2px 6px} .num{text-align:right} .small{font-size:10px}</style>"
            "</head><body>\n" + section + "</body></html>\n").encode("utf-8")


def dunning_figures_files(figs: Mapping[str, pl.DataFrame]) -> list[PlannedFile]:
    """The CSV files of the key figures (names in the module docstring), rendered in memory."""
    def csv(name: str, df: pl.DataFrame, cols: tuple[Col, ...]) -> PlannedFile:
        money = {c.source: int(df[c.source].sum() or 0) for c in cols if c.kind == "cents"}
        return PlannedFile(name, excel_csv_bytes(df, cols), df.height, money)

    return [csv("mahnkennzahlen.csv", figs["figures"], FIGURE_COLS),
            csv("mahnkennzahlen_kohorten.csv", figs["cohorts"], COHORT_COLS),
            csv("mahnkennzahlen_altersstruktur.csv", figs["age_structure"], AGE_COLS),
            csv("mahnkennzahlen_forderungsarten.csv", figs["claim_types"], TYPE_COLS),
            csv("mahnkennzahlen_vergleich.csv", comparison_table(), BENCH_COLS)]


def write_dunning_figures(out_dir: Path, figs: Mapping[str, pl.DataFrame],
                          meta: Mapping[str, Any]) -> dict[str, Path]:
    """Write the CSV files and ``mahnkennzahlen.html`` into ``out_dir`` with a manifest (atomically)."""
    files = [*dunning_figures_files(figs), PlannedFile("mahnkennzahlen.html", _page(render_section(figs)))]
    return write_all(out_dir, files, meta)


__all__ = ["dunning_figures_files", "render_section", "write_dunning_figures"]
