"""``generate``: the synthetic municipality Musterstadt — open items, bank statements and ground truth.

Files written into ``out_dir`` (all deterministic for a seed: same seed, same bytes)::

    open_items.csv                    DESIGN.md §3 columns, ';', UTF-8 with BOM, decimal comma
    statements/sparkasse/*.sta        MT940, one statement per booking day, ISO-8859-1, CRLF
    statements/volksbank/*.xml        camt.053.001.08, one statement per booking day, UTF-8
    truth.parquet                     one row per booking: case, decidable, expected allocation
    kasse.toml                        tenant config: [tenant], [reference], [[accounts]]
    instalment_plans.csv              instalment agreements (synth.dunning_data), for dunning.instalments
    authorities.csv                   a directory of competent enforcement authorities ([amtshilfe]
                                      authorities_file; amtshilfe.directory), for requests going out
    README.md                         what this is
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl

from synth import camt_render, mt940_render
from synth.accounts import TREASURY_ACCOUNTS
from synth.bookings import StatementHeader, business_days, conform_bookings
from synth.cases import Payment, assign_banks_and_days, make_payments
from synth.claims import make_items
from synth.collection_data import next_instalments
from synth.debtors import make_debtors
from synth.dunning_data import add_dunning_fields, instalment_plans, plans_csv
from synth.generated import ROUND_TWO_TRUTH_SCHEMA, TRUTH_SCHEMA, GeneratedSet
from synth.round_two import make_round_two, place
from synth.writing import open_items_csv, readme_text, tenant_toml

#: The sample directory of competent enforcement authorities (``amtshilfe.directory``; real authorities'
#: public addresses, exchange addresses made up): the postcode (or municipality key) → who enforces there.
AUTHORITIES_SAMPLE = """postcode;ags;authority_id;authority_name;authority_street;authority_postcode;authority_city;exchange
33602;;VS-BI;Stadt Bielefeld, Vollstreckung;Niederwall 23;33602;Bielefeld;xta:vs-bielefeld
33604;;VS-BI;Stadt Bielefeld, Vollstreckung;Niederwall 23;33602;Bielefeld;xta:vs-bielefeld
48143;05515000;VS-MS;Stadt Münster, Stadtkasse Vollstreckung;Klemensstraße 10;48143;Münster;xta:vs-muenster
50667;05315000;VS-K;Stadt Köln, Kasse und Steueramt Vollstreckung;Willy-Brandt-Platz 2;50679;Köln;xta:vs-koeln
33330;05754008;VS-GT;Stadt Gütersloh, Stadtkasse;Berliner Straße 70;33330;Gütersloh;xta:vs-guetersloh
"""

BANKS = ("sparkasse", "volksbank")


def statement_number(day: dt.date) -> int:
    """Running statement number: the day's position among the year's booking days (no gaps)."""
    first = dt.date(day.year, 1, 1)
    return sum(1 for k in range((day - first).days + 1) if (first + dt.timedelta(days=k)).weekday() < 5)


def _kz_split(p: Payment) -> bool:
    """Whether the quoted reference is cut across two MT940 ``?2x`` subfields (27 characters each)."""
    if p.bank != "sparkasse" or not p.quoted or not p.svwz:
        return False
    seg = f"SVWZ+{p.svwz}"  # each keyword starts a new subfield: only the SVWZ segment's own cuts matter
    pos = seg.find(p.quoted)
    if pos < 0:
        return False
    return pos // 27 != (pos + len(p.quoted) - 1) // 27


def _bookings(payments: list[Payment], bank: str, day: dt.date, rng: random.Random) -> tuple[pl.DataFrame, list[Payment]]:
    """The day's payments of one bank in booking order, as a booking frame with refs and entry numbers."""
    todays = [p for p in payments if p.bank == bank and p.booking_date == day]
    rng.shuffle(todays)
    singles = [p for p in todays if not p.batch and p.case != "fee"] + [p for p in todays if p.case == "fee"]
    batch = [p for p in todays if p.batch]
    ordered = singles[: len(singles) // 2] + batch + singles[len(singles) // 2:]
    rows = []
    batch_entry = None
    for seq, p in enumerate(ordered, start=1):
        ref = f"{day:%y%m%d}{seq:06d}" if bank == "sparkasse" else f"{day:%Y%m%d}{seq:06d}"
        if p.batch:
            if batch_entry is None:
                batch_entry = seq
            entry_no, entry_ref = batch_entry, f"{day:%Y%m%d}S{batch_entry:05d}"
        else:
            entry_no, entry_ref = seq, ref
        row = {k: getattr(p, k) for k in ("amount_cents", "swift_code", "gvc", "booking_text", "domain", "family",
                                          "subfamily", "eref", "mref", "cred", "svwz", "abwa", "cp_name", "cp_iban",
                                          "cp_bic", "return_code", "return_reason", "cdtr_ref")}
        row.update(entry_no=entry_no, booking_date=day, value_date=day, bank_ref=ref, entry_ref=entry_ref,
                   primanota=f"{9200 + seq % 700}")
        if p.batch:
            row.update(gvc="192", booking_text="SEPA-LASTSCHRIFT SAMMLER")
        rows.append(row)
    frame = conform_bookings(pl.DataFrame(rows, infer_schema_length=None)) if rows else conform_bookings(
        pl.DataFrame({"entry_no": []}))
    return frame, ordered


def generate(out_dir: Path, *, seed: int = 1, n_items: int = 3000, days: int = 5,
             start: dt.date = dt.date(2026, 11, 16), tenant: str = "musterstadt", mix: float = 0.0,
             progress: Callable[[str, int, int], None] | None = None) -> GeneratedSet:
    """Write the synthetic municipality into ``out_dir`` (replacing what the generator wrote there before).

    ``n_items`` open items of about ``n_items // 3`` debtors; about ``n_items // 2`` payments over ``days``
    booking days from ``start`` on two treasury accounts: Sparkasse (MT940, ISO-8859-1) and Volksbank
    (camt.053.001.08). Every case of docs/SYNTH.md appears at least three times (with the defaults).

    ``mix`` > 0 adds the round-two kinds of :mod:`synth.round_two` (issue 14) as that share of all
    payments, with debtors and open items of their own appended to the export, and a truth column
    ``expected_hold``. They draw from a generator of their own: the base payments are the same as with
    ``mix=0`` (which gives the same bytes as before the round-two kinds existed).

    ``progress(what, done, total)`` is called after each step (for a terminal; it changes no value).

    >>> # s = generate(Path("data_samples"), seed=1); s.truth_frame().group_by("case").len()
    """
    if not 0 <= mix < 1:
        raise ValueError(f"mix is a share of the payments, 0 <= mix < 1: {mix}")
    tell = progress or (lambda what, done, total: None)
    steps = 3 + len(BANKS) * days
    rng = random.Random(seed)
    booking_days = business_days(start, days)
    debtors = make_debtors(rng, max(20, n_items // 3))
    items = make_items(rng, debtors, n_items, start, booking_days[-1])
    n_base = max(40, n_items // 2)
    payments = make_payments(rng, items, booking_days, n_base)
    if mix:
        rng2 = random.Random(f"round-two:{seed}")
        more_debtors, more_items, more = make_round_two(rng2, debtors, items, n_base, mix, start, booking_days[-1])
        debtors, items = debtors + more_debtors, items + more_items
        for p in more:
            place(rng2, p, booking_days, BANKS)
        payments += more
    assign_banks_and_days(rng, payments, booking_days, BANKS)
    tell(f"{len(items)} open items, {len(payments)} payments made", 1, steps)

    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / "statements").exists():
        shutil.rmtree(out_dir / "statements")
    open_items = out_dir / "open_items.csv"
    touched = {rid for p in payments for rid, _ in p.expected}
    next_instalments(items, touched, seed, start, booking_days[-1])   # own generators, like the dunning fields
    add_dunning_fields(items, seed)            # own generators: no other value of the set changes
    open_items.write_bytes(open_items_csv(items, tenant, seed=seed, as_of=start))
    (out_dir / "instalment_plans.csv").write_bytes(plans_csv(instalment_plans(items, seed, start)))
    tell(open_items.name, 2, steps)

    files: list[Path] = []
    truth_rows: list[dict[str, object]] = []
    for bank in BANKS:
        account = TREASURY_ACCOUNTS[bank]
        folder = out_dir / "statements" / bank
        folder.mkdir(parents=True)
        balance = rng.randrange(500_000_00, 5_000_000_00)
        for day in booking_days:
            frame, ordered = _bookings(payments, bank, day, rng)
            number = statement_number(day)
            if bank == "sparkasse":
                header = StatementHeader(account, number, day, balance, "STARTUMSE")
                path = folder / f"MT940_{account.iban}_{day:%Y%m%d}.sta"
                path.write_bytes(mt940_render.render_statement(header, frame).encode("iso-8859-1"))
            else:
                header = StatementHeader(account, number, day, balance, f"{account.iban}-{day:%Y%m%d}-{number:05d}")
                path = folder / f"{day:%Y-%m-%d}_C53_{account.iban}_camt.053.001.08.xml"
                path.write_bytes(camt_render.render_camt053(header, frame, "08").encode("utf-8"))
            balance += int(frame.get_column("amount_cents").sum() or 0)
            files.append(path)
            tell(path.name, 2 + len(files), steps)
            rel = path.relative_to(out_dir).as_posix()
            for p, ref, entry_ref in zip(ordered, frame.get_column("bank_ref"), frame.get_column("entry_ref"),
                                         strict=True):
                truth_rows.append({
                    "bank": bank, "statement_file": rel, "bank_ref": ref, "entry_ref": entry_ref,
                    "booking_date": day, "amount_cents": p.amount_cents, "case": p.case, "decidable": p.decidable,
                    "expected": [{"receivable_id": r, "amount_cents": c} for r, c in p.expected],
                    "kz_quoted": p.kz_quoted or None, "quoted": p.quoted or None, "kz_split": _kz_split(p),
                    "payer_name": p.cp_name, "note": p.note,
                } | ({"expected_hold": p.hold or None} if mix else {}))
    truth = out_dir / "truth.parquet"
    pl.DataFrame(truth_rows, schema=ROUND_TWO_TRUTH_SCHEMA if mix else TRUTH_SCHEMA).write_parquet(
        truth, statistics=False)
    config = out_dir / "kasse.toml"
    config.write_text(tenant_toml(tenant), encoding="utf-8")
    (out_dir / "authorities.csv").write_text(AUTHORITIES_SAMPLE, encoding="utf-8")
    readme = out_dir / "README.md"
    readme.write_text(readme_text(seed, n_items, days, start, tenant, len(truth_rows), mix=mix), encoding="utf-8")
    tell(truth.name, steps, steps)
    return GeneratedSet(out_dir, open_items, tuple(files), truth, config, readme, len(items), len(truth_rows))

