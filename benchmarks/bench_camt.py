"""camt.053 parsing speed and peak memory: our streaming parser against two plain lxml approaches.

    .venv/bin/python benchmarks/bench_camt.py [--entries 1000000] [--slice 100000] [--reps 3]

Writes a realistic DK camt.053.001.08 file (NTRF+166 codes, names and Ustrd with umlauts, every tenth
entry a Sammler batch of three TxDtls) and a slice of it, then times each contender in its own
subprocess (peak RSS of that child from ``os.wait4``, i.e. its ``getrusage`` ``ru_maxrss``; CPU seconds
of all its threads from ``time.process_time`` around the parse, like the wall seconds), three
repetitions, and prints medians, entries/s and ratios as a Markdown table for docs/BENCHMARKS.md.
CPU seconds are printed beside wall seconds because the machine is shared: on a loaded machine the
wall time says more about the neighbours than about the parser.

Contenders: ``ours`` (``parsers.camt.parse_camt``) on the big file and on the slice; ``fulltree``
(``etree.parse`` + XPath per field per entry) and ``iterwalk`` (``iterparse`` on ``Ntry`` + one Python
walk over each entry's descendants) on the slice only, because they are too slow for the big file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from child import run_child

ROOT = Path(__file__).resolve().parent.parent
NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
NAMES = ["Müller, Jürgen", "Öztürk, Ömer", "Schäfer, Anna-Lena", "Weiß, Günther", "Bäckerei Groß GmbH",
         "Krüger, Dörte", "Stadtwerke Düsseldorf GmbH", "Löwe, Björn"]
TEXTS = ["Grundsteuer 1. Quartal", "Hundesteuer Jahresbetrag", "Abfallgebühren Straße", "Gewerbesteuer Vorauszahlung"]
PER_STATEMENT = 10_000


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _detail(rng: random.Random, cents: int) -> str:
    kz = f"5.{rng.randrange(10**4):04d}.{rng.randrange(10**4):04d}.{rng.randrange(1000):03d}"
    return (
        "<TxDtls>\n          <Refs><EndToEndId>E2E" + str(rng.randrange(10**12)) + "</EndToEndId></Refs>\n"
        f'          <Amt Ccy="EUR">{_amount(cents)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>\n'
        f"          <RltdPties><Dbtr><Pty><Nm>{rng.choice(NAMES)}</Nm></Pty></Dbtr>"
        f"<DbtrAcct><Id><IBAN>DE{rng.randrange(10**20):020d}</IBAN></Id></DbtrAcct></RltdPties>\n"
        "          <RltdAgts><DbtrAgt><FinInstnId><BICFI>GENODED1BRS</BICFI></FinInstnId></DbtrAgt></RltdAgts>\n"
        f"          <RmtInf><Ustrd>Kassenzeichen {kz} {rng.choice(TEXTS)} Übermaß</Ustrd></RmtInf>\n"
        "        </TxDtls>"
    )


def _entry(rng: random.Random, i: int, cents: int) -> str:
    if i % 10 == 9:  # a Sammler: three details that add up to the entry
        a, b = cents // 3, cents // 3
        details = (f"<Btch><NbOfTxs>3</NbOfTxs></Btch>\n        {_detail(rng, a)}\n        {_detail(rng, b)}\n"
                   f"        {_detail(rng, cents - a - b)}")
        code, text = "NTRF+192+9310", "SAMMLER-GUTSCHRIFT"
    else:
        details, code, text = _detail(rng, cents), f"NTRF+166+{i % 10000:04d}", "SEPA-GUTSCHRIFT"
    return (
        f'    <Ntry>\n      <Amt Ccy="EUR">{_amount(cents)}</Amt>\n      <CdtDbtInd>CRDT</CdtDbtInd>\n'
        "      <Sts><Cd>BOOK</Cd></Sts>\n      <BookgDt><Dt>2026-01-02</Dt></BookgDt>\n"
        f"      <ValDt><Dt>2026-01-02</Dt></ValDt>\n      <AcctSvcrRef>{i:012d}</AcctSvcrRef>\n"
        "      <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn>"
        f"<Prtry><Cd>{code}</Cd><Issr>DK</Issr></Prtry></BkTxCd>\n"
        f"      <NtryDtls>\n        {details}\n      </NtryDtls>\n      <AddtlNtryInf>{text}</AddtlNtryInf>\n    </Ntry>\n"
    )


def write_dk_camt053(path: Path, n_entries: int, seed: int = 1) -> None:
    """A DK-style camt.053.001.08 with ``n_entries`` entries in statements of 10,000 that balance."""
    rng = random.Random(seed)
    balance = 100_000_00
    with open(path, "w", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}"><BkToCstmrStmt>\n'
                  "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-01-02T22:00:00</CreDtTm></GrpHdr>\n")
        for start in range(0, n_entries, PER_STATEMENT):
            count = min(PER_STATEMENT, n_entries - start)
            amounts = [rng.randrange(100, 500_000) for _ in range(count)]
            closing = balance + sum(amounts)
            out.write(f"  <Stmt><Id>S{start}</Id><ElctrncSeqNb>{start // PER_STATEMENT + 1}</ElctrncSeqNb>"
                      "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>\n")
            for code, value in (("PRCD", balance), ("CLBD", closing)):
                out.write(f'    <Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{_amount(value)}</Amt>'
                          "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-01-02</Dt></Dt></Bal>\n")
            out.write("".join(_entry(rng, start + k, c) for k, c in enumerate(amounts)))
            out.write("  </Stmt>\n")
            balance = closing
        out.write("</BkToCstmrStmt></Document>\n")


# --- contenders (run inside the worker subprocess) ---------------------------------------------

def run_ours(path: Path) -> tuple[int, int]:
    from parsers.camt import parse_camt

    result = parse_camt(path, sha256="bench")
    assert not result.has_errors, result.issues[:3]
    return int(result.statements["n_entries"].sum()), result.transactions.height


def _frame(records: list[dict[str, str | None]]) -> int:
    import polars as pl

    return pl.DataFrame(records).height


def run_fulltree(path: Path) -> tuple[int, int]:
    from lxml import etree

    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    ns = {"c": NS}
    records: list[dict[str, str | None]] = []
    entries = 0
    for ntry in tree.iterfind(".//c:Ntry", ns):
        entries += 1
        head = {f: ntry.xpath(f"string({x})", namespaces=ns) for f, x in (
            ("amount", "c:Amt"), ("cdi", "c:CdtDbtInd"), ("status", "c:Sts"), ("booking", "c:BookgDt/*"),
            ("value", "c:ValDt/*"), ("ref", "c:AcctSvcrRef"), ("code", "c:BkTxCd/c:Prtry/c:Cd"),
            ("info", "c:AddtlNtryInf"))}
        for tx in ntry.xpath("c:NtryDtls/c:TxDtls", namespaces=ns) or [None]:
            rec = dict(head)
            if tx is not None:
                for f, x in (("e2e", "c:Refs/c:EndToEndId"), ("tx_amount", "c:Amt"),
                             ("name", "c:RltdPties/c:Dbtr/c:Pty/c:Nm"), ("iban", "c:RltdPties/c:DbtrAcct/c:Id/c:IBAN"),
                             ("bic", "c:RltdAgts/c:DbtrAgt/c:FinInstnId/c:BICFI")):
                    rec[f] = tx.xpath(f"string({x})", namespaces=ns)
                rec["ustrd"] = " ".join(tx.xpath("c:RmtInf/c:Ustrd/text()", namespaces=ns))
            records.append(rec)
    return entries, _frame(records)


def run_iterwalk(path: Path) -> tuple[int, int]:
    from lxml import etree

    records: list[dict[str, str | None]] = []
    entries = 0
    for _, ntry in etree.iterparse(str(path), events=("end",), tag="{*}Ntry", resolve_entities=False, no_network=True):
        entries += 1
        head: dict[str, str | None] = {}
        details: list[dict[str, str | None]] = []
        for el in ntry.iter():
            name = el.tag[el.tag.rfind("}") + 1 :]
            if name == "TxDtls":
                details.append({})
            elif el.text is not None and el.text.strip():
                (details[-1] if details else head)[name] = el.text.strip()
        records.extend({**head, **d} for d in (details or [{}]))
        ntry.clear()
        parent = ntry.getparent()
        while ntry.getprevious() is not None:
            del parent[0]
    return entries, _frame(records)


CONTENDERS = {"ours": run_ours, "fulltree": run_fulltree, "iterwalk": run_iterwalk}


def worker(name: str, path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    start, cpu = time.perf_counter(), time.process_time()
    entries, rows = CONTENDERS[name](path)
    print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                      "entries": entries, "rows": rows}))


def measure(name: str, path: Path) -> dict[str, float]:
    """One contender in a fresh subprocess (:func:`child.run_child`): its figures and peak RSS."""
    return run_child(__file__, name, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--slice", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--worker", nargs=2, metavar=("NAME", "PATH"))
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "big.xml", Path(tmp) / "slice.xml"
        write_dk_camt053(big, args.entries)
        write_dk_camt053(small, args.slice)
        plan = [("ours", big), ("ours", small), ("fulltree", small), ("iterwalk", small)]
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _rep in range(args.reps):
            for name, path in plan:
                results.setdefault((name, path.name), []).append(measure(name, path))
                print(f"  {name} {path.name}: {results[name, path.name][-1]}", file=sys.stderr)
        sizes = {p.name: p.stat().st_size for p in (big, small)}
    load = os.getloadavg()[0]
    print(f"\n{args.entries:,} entries ({sizes['big.xml'] / 1e6:.0f} MB) and a {args.slice:,}-entry slice "
          f"({sizes['slice.xml'] / 1e6:.0f} MB); medians of {args.reps} runs; {os.cpu_count()} CPUs; "
          f"load average {load_before:.1f} before, {load:.1f} after\n")
    print("| contender | file | entries | rows | wall s | CPU s | entries/s (wall) | entries per CPU-s "
          "| peak RSS MB | wall vs ours | CPU vs ours |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ours = {k: statistics.median(r[k] for r in results["ours", "slice.xml"]) for k in ("seconds", "cpu")}
    for (name, fname), runs in results.items():
        sec = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        rss = statistics.median(r["rss_mb"] for r in runs)
        n = runs[0]["entries"]
        vs = ("–", "–") if name == "ours" else (f"{sec / ours['seconds']:.2f}×", f"{cpu / ours['cpu']:.2f}×")
        print(f"| {name} | {fname} | {n:,.0f} | {runs[0]['rows']:,.0f} | {sec:.1f} | {cpu:.1f} | "
              f"{n / sec:,.0f} | {n / cpu:,.0f} | {rss:,.0f} | {vs[0]} | {vs[1]} |")


if __name__ == "__main__":
    main()
