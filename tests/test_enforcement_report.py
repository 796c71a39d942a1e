"""The enforcement reports from a literal small ledger (migration-10 rows inserted directly): the key figures,
the limitation warning list and the Forderungsbewertung equal the values computed by hand below; the files
open as a spreadsheet program would read them; ``kasse enforcement-report``; the published snapshot.

The ledger, as of Thursday 31 December 2026, figures of the calendar year 2026 (365 days: year = period),
``staff_fte`` 2, ``annual_costs`` 10,000 €, ``limitation_warning_days`` 400:

==========  ======  =========  ===========  ======================================  ==============================
claim       debtor  due        open now     enforcement                             limitation (end of …)
==========  ======  =========  ===========  ======================================  ==============================
X           D-X     2024-10-01  150,00 €    case C0, handed 2025-11-01, no outcome   2029
A           D-A     2026-02-15  500,00 €    case C1, handed 2026-05-01, no outcome   2031
AZ (SZ, A)  D-A     2026-04-01   25,00 €    C1 (ancillary), partly_paid 10 € 12-01   2031
B           D-B     2026-03-01  (paid)      case C2, 06-01, paid 300 € 08-01, fee 40  —
C           D-C     2026-04-01  200,00 €    case C3, 06-01, uncollectible 09-15      2031 (measure 2026)
D           D-D     2026-07-01   70,00 €    case C4, 10-01, partly_paid 50 € 11-15   2031
E           D-E     2026-05-15  100,00 €    —                                        2031
W1          D-W1    2021-06-01   60,00 €    — (Stundung of the debtor 2021-07-01…2022-01-31)  2027: warning, 365 days
W2          D-W2    2020-02-15   80,00 €    — (Mahnung 2021-03-01)                    2026: warning, 0 days
H           D-H     2019-03-01   40,00 €    —                                        2024: expired
==========  ======  =========  ===========  ======================================  ==============================
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from claims.config import TenantConfig, load_tenant_config
from enforcement.reports import report
from flows.cli import main
from jobs.enforcement_report import publish_state, report_dir, write_reports
from ledger.block_journal import approve_block, set_block
from ledger.db import connect
from ledger.enforcement_report import all_blocks, booked_outcomes, read_report_inputs
from ledger.publish_enforcement import read_enforcement_published

T = "stadt"
AS_OF = date(2026, 12, 31)
SINCE = date(2026, 1, 1)


def tenant(tmp_path: Path, tid: str = T) -> TenantConfig:
    folder = tmp_path / tid
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kasse.toml").write_text(
        f'[tenant]\nid = "{tid}"\nname = "Stadtkasse Musterstadt"\n[enforcement]\nstaff_fte = 2\n'
        'annual_costs = 10000\nlimitation_warning_days = 400\n', encoding="utf-8")
    return load_tenant_config(folder / "kasse.toml")


def _export(con, tid: str, import_id: str, at: datetime, rows: list[tuple[str, str, int, date]]) -> None:
    con.execute("INSERT INTO open_item_imports (tenant, run_id, import_id, booking_date, imported_at) "
                "VALUES (?, 'n', ?, ?, ?)", [tid, import_id, at.date(), at])
    for rid, debtor, cents, due in rows:
        con.execute("INSERT INTO open_items (tenant, run_id, import_id, receivable_id, kassenzeichen, debtor_id, "
                    "debtor_name, claim_type, amount_cents, due_date) VALUES (?, 'n', ?, ?, ?, ?, ?, ?, ?, ?)",
                    [tid, import_id, rid, f"KZ-{rid}", debtor, f"Name {debtor}",
                     "GEWERBESTEUER" if rid == "B" else "GRUNDSTEUER", cents, due])


def _case(con, tid: str, case: str, debtor: str, on: date, claims: list[tuple[str, int, bool]]) -> None:
    con.execute("INSERT INTO enforcement_cases (tenant, run_id, case_number, debtor_id, new, opened_on, "
                "handed_off_on, office_id, debtor_name) VALUES (?, 'h', ?, ?, true, ?, ?, 'VS', ?)",
                [tid, case, debtor, on, on, f"Name {debtor}"])
    for rid, cents, ancillary in claims:
        con.execute("INSERT INTO enforcement_case_claims (tenant, run_id, case_number, receivable_id, debtor_id, "
                    "handed_off_on, handed_cents, ancillary) VALUES (?, 'h', ?, ?, ?, ?, ?, ?)",
                    [tid, case, rid, debtor, on, cents, ancillary])


def _outcome(con, tid: str, oid: str, case: str, rid: str | None, code: str, on: date, collected: int,
             fees: int | None, state: str = "booked") -> None:
    con.execute("INSERT INTO enforcement_outcomes (tenant, run_id, outcome_id, case_number, sequence, receivable_id, "
                "outcome, outcome_date, collected_cents, fees_cents, state) VALUES (?, 'o', ?, ?, 1, ?, ?, ?, ?, ?, ?)",
                [tid, oid, case, rid, code, on, collected, fees, state])


def build_ledger(cfg: TenantConfig) -> None:
    con = connect(cfg.ledger)
    try:
        t = cfg.tenant
        # B was in June's export and is gone from December's (paid)
        _export(con, t, "I0", datetime(2026, 6, 15, tzinfo=UTC), [("B", "D-B", 30000, date(2026, 3, 1))])
        _export(con, t, "I1", datetime(2026, 12, 30, tzinfo=UTC), [
            ("X", "D-X", 15000, date(2024, 10, 1)), ("A", "D-A", 50000, date(2026, 2, 15)),
            ("C", "D-C", 20000, date(2026, 4, 1)), ("D", "D-D", 7000, date(2026, 7, 1)),
            ("E", "D-E", 10000, date(2026, 5, 15)), ("W1", "D-W1", 6000, date(2021, 6, 1)),
            ("W2", "D-W2", 8000, date(2020, 2, 15)), ("H", "D-H", 4000, date(2019, 3, 1))])
        con.execute("INSERT INTO claims (tenant, run_id, receivable_id, kassenzeichen, debtor_id, debtor_name, "
                    "claim_type, amount_cents, due_date, origin, created_at, parent_receivable_id) VALUES "
                    "(?, 'd', 'AZ', 'KZ-AZ', 'D-A', 'Name D-A', 'SAEUMNISZUSCHLAG', 2500, DATE '2026-04-01', 'fee', "
                    "TIMESTAMPTZ '2026-04-20 00:00:00+00', 'A')", [t])
        con.execute("INSERT INTO dunning_notices (tenant, run_id, notice_id, debtor_id, level, notice_date, deadline) "
                    "VALUES (?, 'm', 'N1', 'D-W2', 'mahnung', DATE '2021-03-01', DATE '2021-03-15')", [t])
        con.execute("INSERT INTO dunning_notice_items (tenant, run_id, notice_id, receivable_id, level, notice_date) "
                    "VALUES (?, 'm', 'N1', 'W2', 'mahnung', DATE '2021-03-01')", [t])
        _case(con, t, "C0", "D-X", date(2025, 11, 1), [("X", 15000, False)])
        _case(con, t, "C1", "D-A", date(2026, 5, 1), [("A", 50000, False), ("AZ", 2500, True)])
        _case(con, t, "C2", "D-B", date(2026, 6, 1), [("B", 30000, False)])
        _case(con, t, "C3", "D-C", date(2026, 6, 1), [("C", 20000, False)])
        _case(con, t, "C4", "D-D", date(2026, 10, 1), [("D", 12000, False)])
        _outcome(con, t, "o1", "C2", None, "paid", date(2026, 8, 1), 30000, 4000)
        _outcome(con, t, "o2", "C3", "C", "uncollectible", date(2026, 9, 15), 0, None)   # fee only as an item
        con.execute("INSERT INTO enforcement_outcome_fees (tenant, run_id, outcome_id, case_number, kind, amount_cents) "
                    "VALUES (?, 'o', 'o2', 'C3', 'pfaendung', 1000), (?, 'o', 'o2', 'C3', 'auslagen', 500)", [t, t])
        _outcome(con, t, "o3", "C4", None, "partly_paid", date(2026, 11, 15), 5000, 1000)
        _outcome(con, t, "o4", "C1", "AZ", "partly_paid", date(2026, 12, 1), 1000, 0)
        _outcome(con, t, "o5", "C0", None, "paid", date(2026, 12, 2), 15000, 900, state="held")  # not booked
        con.execute("INSERT INTO enforcement_updates (tenant, run_id, update_id, case_number, kind, effective_date) "
                    "VALUES (?, 'n', 'u1', 'C4', 'partial_payment', DATE '2026-11-20')", [t])
    finally:
        con.close()
    block = set_block(cfg.state_dir, cfg.tenant, debtor_id="D-W1", reason="STUNDUNG", until=date(2022, 1, 31),
                      note="Stundung bis Januar", user="anna", role="clerk", start=date(2021, 7, 1))
    approve_block(cfg.state_dir, cfg.tenant, block.block_id, user="sven", role="supervisor")


@pytest.fixture
def cfg(tmp_path: Path) -> TenantConfig:
    c = tenant(tmp_path)
    build_ledger(c)
    return c


def _inputs(cfg: TenantConfig):
    con = connect(cfg.ledger)
    try:
        return read_report_inputs(con, cfg.tenant, cfg.state_dir)
    finally:
        con.close()


def test_the_reader_books_only_booked_outcomes_and_splits_the_money(cfg: TenantConfig) -> None:
    con = connect(cfg.ledger)
    try:
        out = booked_outcomes(con, cfg.tenant)
    finally:
        con.close()
    rows = {r["case_number"]: r for r in out.iter_rows(named=True)}
    assert sorted(rows) == ["C1", "C2", "C3", "C4"]                       # C0's outcome is held
    assert (rows["C1"]["collected_cents"], rows["C1"]["ancillary_collected_cents"]) == (0, 1000)  # on AZ
    assert (rows["C2"]["collected_cents"], rows["C2"]["fee_cents"]) == (30000, 4000)
    assert rows["C3"]["fee_cents"] == 1500                                  # the sum of its fee items
    blocks = all_blocks(cfg.state_dir, cfg.tenant)
    assert blocks.rows() == [(None, "D-W1", "STUNDUNG", date(2021, 7, 1), date(2022, 1, 31))]


def test_key_figures_equal_the_hand_computed_values(cfg: TenantConfig) -> None:
    rep = _inputs(cfg).report(as_of=AS_OF, since=SINCE, settings=cfg.enforcement)
    got = {r["figure"]: r for r in rep.figures.iter_rows(named=True)}
    value = {k: v["value"] for k, v in got.items()}
    assert value["neue_vollstreckungsforderungen"] == 4.0                   # A, B, C, D (AZ is ancillary)
    assert value["neue_je_vollzeit_stelle"] == 2.0
    assert value["bestehende_vollstreckungsforderungen"] == 1.0             # X
    assert value["bestehende_je_vollzeit_stelle"] == 0.5
    assert (got["vollstreckungsquote"]["numerator"], got["vollstreckungsquote"]["denominator"]) == (4, 5)
    assert value["vollstreckungsquote"] == pytest.approx(80.0)              # due in 2026: A B C D E
    assert value["erfolgsquote_anzahl"] == pytest.approx(50.0)              # B paid, C uncollectible
    assert value["erfolgsquote_summe"] == pytest.approx(60.0)               # 300 / (300 + 200)
    assert value["erledigungsquote"] == pytest.approx(40.0)                 # 2 / (1 + 4)
    assert value["durchschnittliche_dauer"] == pytest.approx(83.5)          # (61 + 106) / 2
    assert (got["rueckstand"]["numerator"], got["rueckstand"]["denominator"]) == (2, 3)   # X, A of X, A, D
    assert value["realisierte_nebenforderungen"] == pytest.approx(10.0)     # 10 € on AZ
    assert value["realisierte_nebenforderungen_je_vollzeit_stelle"] == pytest.approx(5.0)
    assert value["anteil_nebenforderungen"] == pytest.approx(2500 * 100 / 112000)
    assert got["deckungsgrad"]["numerator"] == 6500                         # 40 + 15 + 10 € fees, the held 9 € not
    assert value["deckungsgrad"] == pytest.approx(0.65)                     # of 10,000 €
    assert value["aufwendungen_je_abgewickelte"] == pytest.approx(5000.0)   # 10,000 € / 2
    # Aufwendungen 5,000 € lies above every value of the Oelde comparison group
    oelde = got["aufwendungen_je_abgewickelte"]
    assert oelde["bench_max"] == 128.72 and oelde["quartile"] == 4


def test_the_warning_list_is_soonest_first_and_the_valuation_books_by_method(cfg: TenantConfig) -> None:
    rep = _inputs(cfg).report(as_of=AS_OF, since=SINCE, settings=cfg.enforcement)
    w = rep.warnings
    assert w["receivable_id"].to_list() == ["W2", "W1"]
    assert w["expires_on"].to_list() == [date(2026, 12, 31), date(2027, 12, 31)]
    assert w["days_left"].to_list() == [0, 365]
    assert w["last_interruption_kind"].to_list() == ["mahnung", "stundung"]
    assert w["last_interruption"].to_list() == [date(2021, 3, 1), date(2021, 7, 1)]
    first = w.row(0, named=True)
    assert (first["kassenzeichen"], first["debtor_name"], first["open_cents"]) == ("KZ-W2", "Name D-W2", 8000)
    assert rep.n_expired == 1                                               # H
    limits = {r["receivable_id"]: r for r in rep.limits.iter_rows(named=True)}
    assert limits["C"]["last_interruption_kind"] == "enforcement"           # the fruitless attempt of 15 Sep
    assert limits["X"]["expires_on"] == date(2029, 12, 31)

    post = {r["method"]: r for r in rep.valuation.postings.iter_rows(named=True)}
    assert (post["individual"]["n_claims"], post["individual"]["allowance_cents"]) == (1, 20000)        # C
    assert (post["time_barred"]["n_claims"], post["time_barred"]["allowance_cents"]) == (1, 4000)       # H
    # flat: A, AZ, D, E under a year (0 %), X 2–3 years (25 %: 37,50 €), W1 and W2 over 5 years (100 %)
    assert post["flat"]["n_claims"] == 7
    assert post["flat"]["open_cents"] == 50000 + 2500 + 7000 + 10000 + 15000 + 6000 + 8000
    assert post["flat"]["allowance_cents"] == 3750 + 6000 + 8000
    standing = dict(zip(rep.valuation.items["receivable_id"], rep.valuation.items["standing"], strict=True))
    assert standing == {"A": "in_enforcement", "AZ": "in_enforcement", "C": "uncollectible", "D": "in_enforcement",
                        "E": "open", "H": "open", "W1": "open", "W2": "open", "X": "in_enforcement"}


def test_no_enforcement_yet_gives_empty_figures_not_an_error() -> None:
    rep = report(case_claims=None, outcomes=None, claims=None, open_claims=None, mahnungen=None, blocks=None,
                 as_of=AS_OF)
    assert rep.warnings.height == 0 and rep.valuation.items.height == 0
    assert rep.figures.filter(pl.col("figure") == "neue_vollstreckungsforderungen")["value"].to_list() == [0.0]


def _sheet(path: Path, name: str) -> list[tuple]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in wb[name].iter_rows(values_only=True)]
    finally:
        wb.close()


def test_the_command_writes_files_that_open_with_german_labels(cfg: TenantConfig, capsys) -> None:
    assert main(["enforcement-report", "--config", str(cfg.source), "--date", "2026-12-31", "--since", "2026-01-01",
                 "--publish"]) == 0
    folder = report_dir(cfg, AS_OF)
    assert str(folder) in capsys.readouterr().out
    names = {p.name for p in folder.iterdir()}
    assert {"vollstreckungskennzahlen.xlsx", "vollstreckungskennzahlen.parquet", "verjaehrung_warnliste.xlsx",
            "verjaehrung_warnliste.csv", "forderungsbewertung.xlsx", "forderungsbewertung.pdf",
            "manifest.json"} <= names

    figs = _sheet(folder / "vollstreckungskennzahlen.xlsx", "Kennzahlen")
    assert figs[0][:3] == ("Kennzahl", "Wert", "Einheit") and "Lage im Vergleich" in figs[0]
    by_label = {r[0]: r for r in figs[1:]}
    assert by_label["Erfolgsquote Vollstreckung (Betrag)"][1] == 60.0
    aufw = by_label["Aufwendungen je abgewickelte Vollstreckungsforderung"]
    assert aufw[figs[0].index("Zähler (EUR)")] == 10000.0 and aufw[figs[0].index("Nenner (Anzahl)")] == 2
    assert "über dem 3. Quartil" in str(aufw[figs[0].index("Lage im Vergleich")]) or aufw[
        figs[0].index("Quartil")] == 4
    assert _sheet(folder / "vollstreckungskennzahlen.xlsx", "Vergleichswerte gpaNRW")[0][0] == "Kennzahl"

    warn = _sheet(folder / "verjaehrung_warnliste.xlsx", "Warnliste")
    assert warn[0][:2] == ("Kassenzeichen", "Sollstellungs-ID") and "Tage bis Verjährung" in warn[0]
    assert [r[1] for r in warn[1:]] == ["W2", "W1"]
    assert warn[1][warn[0].index("offener Betrag")] == 80.0
    assert warn[1][warn[0].index("Art der Unterbrechung")] == "Schriftliche Zahlungsaufforderung (Mahnung)"
    csv_text = (folder / "verjaehrung_warnliste.csv").read_bytes().decode("utf-8-sig")
    assert csv_text.splitlines()[1].startswith("KZ-W2;W2;D-W2;Name D-W2;GRUNDSTEUER;80,00;2020-02-15")

    post = _sheet(folder / "forderungsbewertung.xlsx", "Buchungen")
    assert post[0][1] == "Bewertung"
    amounts = {r[1]: r[4] for r in post[1:]}
    assert amounts["Einzelwertberichtigung (uneinbringlich)"] == 200.0
    assert amounts["Verjährt: Abschreibung (§ 47 AO)"] == 40.0
    assert amounts["Pauschalwertberichtigung (nach Altersklasse)"] == 177.5
    assert len(_sheet(folder / "forderungsbewertung.xlsx", "Einzelposten")) == 1 + 9
    assert (folder / "forderungsbewertung.pdf").read_bytes().startswith(b"%PDF")
    with zipfile.ZipFile(io.BytesIO((folder / "forderungsbewertung.xlsx").read_bytes())) as z:
        assert "Forderungsbewertung" in z.read("docProps/core.xml").decode()

    frames, meta = read_enforcement_published(cfg.state_dir, cfg.tenant)
    assert meta["on"] == "2026-12-31"
    cases = {r["case_number"]: r for r in frames["cases"].iter_rows(named=True)}
    assert cases["C2"]["state"] == "closed" and cases["C2"]["closed_by"] == "paid"
    assert (cases["C4"]["state"], cases["C4"]["open_cents"], cases["C4"]["handed_cents"]) == ("open", 7000, 12000)
    assert (cases["C4"]["last_update_on"], cases["C4"]["last_update_kind"]) == (date(2026, 11, 20), "partial_payment")
    assert (cases["C4"]["last_outcome"], cases["C1"]["open_cents"], cases["C1"]["n_claims"]) == ("partly_paid", 52500, 2)
    assert cases["C0"]["last_outcome"] is None                              # its outcome is held
    assert frames["warnings"]["receivable_id"].to_list() == ["W2", "W1"]


def test_a_second_run_gives_the_same_files(cfg: TenantConfig) -> None:
    first = {n: p.read_bytes() for n, p in write_reports(cfg, AS_OF, SINCE).items()}
    again = {n: p.read_bytes() for n, p in write_reports(cfg, AS_OF, SINCE).items()}
    assert first == again


def test_the_nightly_publisher_needs_no_cases(tmp_path: Path) -> None:
    empty = tenant(tmp_path, "leer")
    connect(empty.ledger).close()
    publish_state(empty, on=AS_OF)
    frames, meta = read_enforcement_published(empty.state_dir, "leer")
    assert meta["tenant"] == "leer" and frames["cases"].height == 0 and frames["warnings"].height == 0


def test_the_xlsx_columns_are_wide_enough_to_read_and_print_landscape(cfg: TenantConfig) -> None:
    paths = write_reports(cfg, AS_OF, SINCE)
    wb = openpyxl.load_workbook(paths["verjaehrung_warnliste.xlsx"])
    try:
        ws = wb["Warnliste"]
        # "Kassenzeichen" is 18 characters wide (polars takes pixels: once it got 18 pixels, a sliver)
        assert ws.column_dimensions["A"].width >= 17
        assert ws.column_dimensions["I"].width >= 40                        # the interruption in words
        assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToHeight == 0                               # as many pages down as needed
        assert ws.print_title_rows == "$1:$1"                                # the head on every page
    finally:
        wb.close()


def test_an_empty_ledger_still_gives_every_file(tmp_path: Path) -> None:
    empty = tenant(tmp_path, "leer")
    connect(empty.ledger).close()
    paths = write_reports(empty, AS_OF)
    assert len(_sheet(paths["verjaehrung_warnliste.xlsx"], "Warnliste")) == 2      # head + "keine Einträge"
    assert len(_sheet(paths["forderungsbewertung.xlsx"], "Buchungen")) == 4        # head + the three methods
    assert paths["forderungsbewertung.pdf"].read_bytes().startswith(b"%PDF")
