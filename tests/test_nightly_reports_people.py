"""Issue 19 §3 through a real night: the day close lists the night's rejected files and open-items export,
a locked day run again with the statement it lacked says it is settled, and the key figures file is written."""

from __future__ import annotations

import stat
from pathlib import Path

from nightly_files import Entry, kz, write_mt940, write_open_items
from test_nightly_plain import D1, tenant

from jobs import nightly as night
from outputs.atomic import OUTPUT_MODE


def test_a_night_lists_rejected_files_and_open_items_and_a_reprint_is_settled(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    write_open_items(cfg.inbox / "export_1116.csv", [("R0", kz(0), 15000), ("R1", kz(1), 300)])
    write_mt940(cfg.inbox / "spk_1.sta", day=D1, seq=1, opening=100000, entries=[Entry(15000, f"KZ {kz(0)}")])
    write_mt940(cfg.inbox / "spk_3.sta", day=D1, seq=3, opening=115700, entries=[Entry(300, f"KZ {kz(1)}")])
    (cfg.inbox / "kaputt.sta").write_bytes(b"this is not a bank statement\n")
    report = night.run_night(cfg, D1)
    folder = Path(report["reports"]["day_close_html"]).parent
    html = (folder / "day_close.html").read_text(encoding="utf-8")
    assert "kaputt.sta" in html and "abgewiesen" in html and "export_1116.csv" in html
    assert "1 Datei abgewiesen" in html and "nicht abgestimmt" in html     # statement 2 is missing
    assert (folder / "key_figures.xlsx").is_file() and (folder / "key_figures.csv").is_file()
    assert {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir() if p.is_file()} == {OUTPUT_MODE}

    # statement 2 arrives late; the locked day is run again: its correction brings the difference to 0,00 €
    write_mt940(cfg.inbox / "spk_2.sta", day=D1, seq=2, opening=115000, entries=[Entry(700, "Spende")])
    night.run_night(cfg, D1)
    html = (folder / "day_close.html").read_text(encoding="utf-8")
    assert "nicht abgestimmt" not in html
    assert "Alle Konten abgestimmt: 1 Konto nach Korrektur, Differenz jetzt 0,00 €" in html
    assert "in Ordnung nach Korrektur" in html
