"""Amtshilfe deliveries with the variety of real ones (issue 18 §5: tests, demo, benchmark).

:func:`delivery` makes ``n`` inbound messages of several requesting creditors as :class:`~amtshilfe.model.Requests`
frames, and says for each what the checks (:func:`amtshilfe.checks.check`) should answer
(:attr:`Delivery.planned`) — so a test can hold the checks and the generator against each other. Seeded:
one :class:`random.Random` per message, seeded by the seed and the message's number, so the same arguments
give the same frames, and a bigger delivery starts with the smaller one's messages.

**What a delivery has** (shares of the messages; the rest are plain requests that are accepted):

* creditors: the Beitragsservice and the WDR (requests dated after the NRW cut-off 31 Dec 2023 are
  returned, ``source_closed``; run-off requests dated before it are taken), IHK, HWK, other
  municipalities and a Kreis; one to four notices per request (Rundfunk: Festsetzungsbescheide per
  quarter with a Säumniszuschlag that fits the 1 %/8 € rule; chambers and municipalities: a Beitrags- or
  Gebührenbescheid with costs);
* debtors in the district (:data:`DISTRICT`) and, on a few, outside it (``not_competent``);
* a formal field missing: the requesting authority, a notice's authority, the enforceability statement
  (or a statement dated after the request), the debtor's street (one each, a few per cent);
* amounts that add up to nothing; a Rundfunk Säumniszuschlag that does not fit the rule (flagged);
* the same request twice in one delivery (``repeated``) and the same file number again with other content
  (``duplicate``, flagged);
* changes (Änderung, Aussetzung, Rücknahme) of requests earlier in the delivery (``applied``) and of
  file numbers nobody sent (``unknown_case``).

:func:`repeat_of` makes a second delivery that sends part of the first again (``repeated`` against what the
ledger holds after the first). :func:`requests_xml` and :func:`requests_csv` write a delivery in our XML
and the bulk CSV (both encodings, both line endings); :func:`with_bad_records` breaks a written file the
way a reader must reject — a date that does not exist, a negative amount, a broken row — and names the
messages broken.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

import polars as pl

from amtshilfe.checks import ErsuchenRow
from amtshilfe.csv_format import write_requests_csv
from amtshilfe.model import Body, Header, Requests, requests
from amtshilfe.xml_format import write_requests
from claims.config import AmtshilfeSection
from claims.vocab import ErsuchenCheck, ErsuchenMessage, ErsuchenOutcome
from synth.addresses import STREETS
from synth.names import COMPANY_FORMS, COMPANY_STEMS, FIRST_NAMES, LAST_NAMES

#: The delivery day of the demo and the benchmark (a Monday).
AS_OF = date(2026, 12, 7)
#: Our district (Lippstadt) and towns outside it.
DISTRICT = (("59555", "Lippstadt"), ("59557", "Lippstadt"), ("59558", "Lippstadt"))
ELSEWHERE = (("59494", "Soest"), ("33602", "Bielefeld"), ("44135", "Dortmund"), ("59302", "Oelde"))
#: ``[amtshilfe]`` for the district above (the NRW cut-off, the 1 %/8 € rule: the defaults).
SETTINGS = AmtshilfeSection(district_postcodes=tuple(p for p, _ in DISTRICT))
#: Our enforcement office, the receiver of every delivery.
OFFICE = Body("Stadt Lippstadt, Vollstreckungsstelle", "VS-LIPPSTADT", "Ostwall 1", "59555", "Lippstadt")


@dataclass(frozen=True)
class Creditor:
    id: str
    name: str
    street: str
    postcode: str
    city: str
    iban: str
    rundfunk: bool = False
    prefix: str = "AZ"


#: The requesting creditors (ids as ``[amtshilfe] rundfunk_creditor_ids`` knows the Rundfunk ones).
CREDITORS = (
    Creditor("BEITRAGSSERVICE", "ARD ZDF Deutschlandradio Beitragsservice", "Freimersdorfer Weg 6", "50829", "Köln",
             "DE02120300000000202051", rundfunk=True, prefix="BS"),
    Creditor("WDR", "Westdeutscher Rundfunk Köln", "Appellhofplatz 1", "50667", "Köln",
             "DE02370501980001802057", rundfunk=True, prefix="WDR"),
    Creditor("IHK-ARNSBERG", "IHK Arnsberg, Hellweg-Sauerland", "Königstraße 18-20", "59821", "Arnsberg",
             "DE12416500010000012345", prefix="IHK"),
    Creditor("HWK-DORTMUND", "Handwerkskammer Dortmund", "Ardeystraße 93", "44139", "Dortmund",
             "DE44440501990001234567", prefix="HWK"),
    Creditor("STADT-SOEST", "Stadt Soest, Stadtkasse", "Am Vreithof 8", "59494", "Soest",
             "DE75414500750000000101", prefix="SO"),
    Creditor("GEMEINDE-ANROECHTE", "Gemeinde Anröchte, Gemeindekasse", "Hauptstraße 74", "59609", "Anröchte",
             "DE61416500010000200200", prefix="AN"),
    Creditor("KREIS-SOEST", "Kreis Soest, Kreiskasse", "Hoher Weg 1-3", "59494", "Soest",
             "DE27414500750000000707", prefix="KS"),
)
#: Weights of the creditors for a plain request (Rundfunk run-off cases are rarer now).
CREDITOR_WEIGHTS = (3, 3, 14, 12, 30, 16, 22)

#: What a message is made to be, with its weight; ``accepted`` fills the rest.
Plan = Literal["accepted", "runoff", "no_authority", "no_notice", "not_enforceable", "enforceable_late",
               "no_debtor", "not_competent", "duplicate", "repeated", "source_closed", "nothing_open",
               "surcharge_doubt", "aenderung", "aussetzung", "ruecknahme", "unknown_case"]
PLANS: tuple[tuple[Plan, int], ...] = (
    ("accepted", 600), ("runoff", 60), ("no_authority", 10), ("no_notice", 15), ("not_enforceable", 10),
    ("enforceable_late", 5), ("no_debtor", 15), ("not_competent", 40), ("duplicate", 10), ("repeated", 10),
    ("source_closed", 60), ("nothing_open", 5), ("surcharge_doubt", 20), ("aenderung", 40), ("aussetzung", 30),
    ("ruecknahme", 30), ("unknown_case", 10))
#: What the checks answer for each plan (outcome, check).
EXPECTED: dict[Plan, tuple[ErsuchenOutcome, ErsuchenCheck | None]] = {
    "accepted": (ErsuchenOutcome.ACCEPTED, None), "runoff": (ErsuchenOutcome.ACCEPTED, None),
    "no_authority": (ErsuchenOutcome.RETURNED, ErsuchenCheck.NO_AUTHORITY),
    "no_notice": (ErsuchenOutcome.RETURNED, ErsuchenCheck.NO_NOTICE),
    "not_enforceable": (ErsuchenOutcome.RETURNED, ErsuchenCheck.NOT_ENFORCEABLE),
    "enforceable_late": (ErsuchenOutcome.RETURNED, ErsuchenCheck.NOT_ENFORCEABLE),
    "no_debtor": (ErsuchenOutcome.RETURNED, ErsuchenCheck.NO_DEBTOR),
    "not_competent": (ErsuchenOutcome.RETURNED, ErsuchenCheck.NOT_COMPETENT),
    "duplicate": (ErsuchenOutcome.FLAGGED, ErsuchenCheck.DUPLICATE),
    "repeated": (ErsuchenOutcome.REPEATED, None),
    "source_closed": (ErsuchenOutcome.RETURNED, ErsuchenCheck.SOURCE_CLOSED),
    "nothing_open": (ErsuchenOutcome.RETURNED, ErsuchenCheck.NOTHING_OPEN),
    "surcharge_doubt": (ErsuchenOutcome.FLAGGED, ErsuchenCheck.SURCHARGE_DOUBT),
    "aenderung": (ErsuchenOutcome.APPLIED, None), "aussetzung": (ErsuchenOutcome.APPLIED, None),
    "ruecknahme": (ErsuchenOutcome.APPLIED, None),
    "unknown_case": (ErsuchenOutcome.RETURNED, ErsuchenCheck.UNKNOWN_CASE),
}
#: The plans a CSV cannot carry (changes go as XML; the CSV holds one request per creditor + file number).
XML_ONLY: frozenset[Plan] = frozenset({"duplicate", "repeated", "aenderung", "aussetzung", "ruecknahme",
                                       "unknown_case"})
STATEMENT = "Die Forderungen sind unanfechtbar und vollstreckbar, die Mahnung ist erfolgt."
QUARTER_CENTS = 5508                     # the Rundfunkbeitrag of a quarter (18,36 € a month)


@dataclass(frozen=True)
class Delivery:
    """A delivery: its header, the frames, and ``planned`` (``message_id``, ``plan``, ``outcome``,
    ``check``: what the checks should answer for each message, in message order)."""

    header: Header
    data: Requests
    planned: pl.DataFrame


def _surcharge(principal: int, s: AmtshilfeSection = SETTINGS) -> int:
    return max(round(principal * s.surcharge_rate_percent / 100), s.surcharge_min)


def _debtor(rng: random.Random, *, inside: bool) -> dict[str, Any]:
    postcode, city = rng.choice(DISTRICT if inside else ELSEWHERE)
    street = f"{rng.choice(STREETS)} {rng.randint(1, 120)}{rng.choice(('', '', '', 'a'))}"
    if rng.random() < 0.85:
        return {"debtor_name": rng.choice(LAST_NAMES), "debtor_given_name": rng.choice(FIRST_NAMES),
                "debtor_birth_date": (AS_OF - timedelta(days=rng.randint(18 * 365, 85 * 365)))
                if rng.random() < 0.8 else None,
                "debtor_street": street, "debtor_postcode": postcode, "debtor_city": city, "debtor_country": "DE"}
    return {"debtor_name": f"{rng.choice(COMPANY_STEMS)} {rng.choice(COMPANY_FORMS)}", "debtor_given_name": None,
            "debtor_birth_date": None, "debtor_street": street, "debtor_postcode": postcode, "debtor_city": city,
            "debtor_country": "DE"}


def _notices(rng: random.Random, mid: str, c: Creditor, request_date: date, *, fitting: bool) -> list[dict[str, Any]]:
    """One to four notices, each before the request; a Rundfunk one per quarter (its surcharge fitting the
    rule or not), others a Bescheid with costs."""
    out = []
    for pos in range(1, rng.choice((1, 1, 1, 2, 2, 3, 4)) + 1):
        notice_date = request_date - timedelta(days=rng.randint(40, 700))
        if c.rundfunk:
            quarters = rng.randint(1, 4)
            principal = QUARTER_CENTS * quarters
            surcharge = _surcharge(principal) if fitting else _surcharge(principal) + rng.choice((-300, 250, 700))
            start = date(notice_date.year - 1, 1 + 3 * rng.randint(0, 3), 1)
            end = date(start.year + (start.month + 3 * quarters - 1) // 12, (start.month + 3 * quarters - 1) % 12 + 1, 1)
            row = {"notice_authority": c.name, "period_from": start, "period_to": end - timedelta(days=1),
                   "principal_cents": principal, "surcharge_cents": surcharge, "costs_cents": 0}
        else:
            principal = rng.choice((rng.randint(1_500, 30_000), rng.randint(30_000, 600_000)))
            row = {"notice_authority": c.name, "period_from": None, "period_to": None,
                   "principal_cents": principal, "surcharge_cents": rng.choice((0, principal // 100 * rng.randint(1, 6))),
                   "costs_cents": rng.choice((0, 500, 1_000, 2_300))}
        out.append({"message_id": mid, "position": pos, "notice_date": notice_date,
                    "notice_file_number": f"{c.prefix}-B-{notice_date.year}-{rng.randint(1, 999_999):06d}", **row})
    return out


def _request(rng: random.Random, i: int, plan: Plan) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One Ersuchen made to fail (or pass) the way ``plan`` says."""
    rundfunk = plan in ("runoff", "source_closed", "surcharge_doubt")
    if rundfunk:
        c = rng.choice([c for c in CREDITORS if c.rundfunk])
    elif plan == "nothing_open":         # a Rundfunk one dated now would be source_closed first
        c = rng.choice([c for c in CREDITORS if not c.rundfunk])
    else:
        c = rng.choices(CREDITORS, CREDITOR_WEIGHTS)[0]
    if plan == "accepted" and c.rundfunk:
        plan = "runoff"
    if plan in ("runoff", "surcharge_doubt"):
        request_date = SETTINGS.rundfunk_cutoff - timedelta(days=rng.randint(0, 700))
    else:
        request_date = AS_OF - timedelta(days=rng.randint(1, 30))
    mid = f"M{i:07d}"
    req = {"message_id": mid, "creditor_id": c.id, "creditor_name": c.name,
           "creditor_file_number": f"{c.prefix}/{request_date.year}/{i:07d}", "creditor_street": c.street,
           "creditor_postcode": c.postcode, "creditor_city": c.city, "creditor_iban": c.iban,
           "payment_reference": f"{rng.randint(100_000_000, 999_999_999)}" if c.rundfunk else f"{c.prefix}-{i}",
           "request_date": request_date, **_debtor(rng, inside=plan != "not_competent"),
           "enforceable_statement": STATEMENT,
           "enforceable_date": request_date - timedelta(days=rng.randint(0, 30))}
    notices = _notices(rng, mid, c, request_date, fitting=plan != "surcharge_doubt")
    if plan == "no_authority":
        req.update(creditor_id=None, creditor_name=None)
    elif plan == "no_notice":
        notices[-1]["notice_authority"] = None
    elif plan == "not_enforceable":
        req.update(enforceable_statement=None, enforceable_date=None)
    elif plan == "enforceable_late":
        req["enforceable_date"] = request_date + timedelta(days=rng.randint(1, 20))
    elif plan == "no_debtor":
        req["debtor_street"] = None
    elif plan == "nothing_open":
        for n in notices:
            n.update(principal_cents=0, surcharge_cents=0, costs_cents=0)
    return req, notices


def delivery(n: int, seed: int = 7, *, plans: tuple[tuple[Plan, int], ...] = PLANS) -> Delivery:
    """``n`` messages (module docstring). Changes, duplicates and repeats name an earlier plain request of
    this delivery that is accepted; the first messages are plain requests so there is one to name."""
    weights = [w for _, w in plans]
    reqs: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    by_message: dict[str, list[dict[str, Any]]] = {}      # a request's notices, to copy without a scan
    changes: list[dict[str, Any]] = []
    planned: list[tuple[str, str]] = []
    taken: list[int] = []                # indices into reqs of accepted requests not named by a change yet
    for i in range(n):
        rng = random.Random(f"amtshilfe:{seed}:{i}")
        plan: Plan = rng.choices([p for p, _ in plans], weights)[0]
        if plan in ("duplicate", "repeated", "aenderung", "aussetzung", "ruecknahme") and not taken:
            plan = "accepted"
        mid = f"M{i:07d}"
        if plan in ("duplicate", "repeated"):
            base = reqs[taken[rng.randrange(len(taken))]]
            twin = {**base, "message_id": mid}
            own = [{**x, "message_id": mid} for x in by_message[base["message_id"]]]
            if plan == "duplicate":
                own[0] = {**own[0], "costs_cents": own[0]["costs_cents"] + 1_000}
            reqs.append(twin)
            notices.extend(own)
        elif plan in ("aenderung", "aussetzung", "ruecknahme", "unknown_case"):
            if plan == "unknown_case":
                c = rng.choice(CREDITORS)
                ref = {"creditor_id": c.id, "creditor_file_number": f"{c.prefix}/1999/{i:07d}"}
                message = rng.choice((ErsuchenMessage.AUSSETZUNG, ErsuchenMessage.RUECKNAHME))
            else:
                k = taken.pop(rng.randrange(len(taken)))
                ref = {"creditor_id": reqs[k]["creditor_id"], "creditor_file_number": reqs[k]["creditor_file_number"]}
                message = ErsuchenMessage(plan)
            row: dict[str, Any] = {"message_id": mid, "message": str(message), **ref, "message_date": AS_OF,
                                   "note": None}
            if message == ErsuchenMessage.AENDERUNG:
                base = reqs[k]
                row.update({f: base[f] for f in ("debtor_name", "debtor_given_name", "debtor_birth_date",
                                                 "debtor_postcode", "debtor_city", "debtor_country")})
                row.update(debtor_street=f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
                           note="Neue Anschrift laut Melderegister")
                notices.extend({**x, "message_id": mid} for x in by_message[base["message_id"]])
            elif message == ErsuchenMessage.AUSSETZUNG:
                row["suspended_until"] = rng.choice((None, AS_OF + timedelta(days=rng.randint(30, 180))))
                row["note"] = "Ratenzahlung vereinbart"
            else:
                row["note"] = rng.choice(("Forderung beglichen", "Bescheid aufgehoben", None))
            changes.append(row)
        else:
            req, own = _request(rng, i, plan)
            if plan == "accepted" and req["creditor_id"] in ("BEITRAGSSERVICE", "WDR"):
                plan = "runoff"
            if plan in ("accepted", "runoff"):
                taken.append(len(reqs))
            reqs.append(req)
            notices.extend(own)
            by_message[mid] = own
        planned.append((mid, plan))
    data = requests(pl.DataFrame(reqs, infer_schema_length=None) if reqs else None,
                    pl.DataFrame(notices, infer_schema_length=None) if notices else None,
                    pl.DataFrame(changes, infer_schema_length=None) if changes else None)
    header = Header(f"DELIVERY-{seed}-{n}", datetime(2026, 12, 7, 6, 0), Body("Sammellieferung Amtshilfe"), OFFICE)
    return Delivery(header, data, _planned(planned))


def _planned(rows: list[tuple[str, str]]) -> pl.DataFrame:
    outcome = {p: str(o) for p, (o, _) in EXPECTED.items()}
    check = {p: (str(c) if c else None) for p, (_, c) in EXPECTED.items()}
    return pl.DataFrame(rows, schema={"message_id": pl.String, "plan": pl.String}, orient="row").with_columns(
        pl.col("plan").replace_strict(outcome, return_dtype=pl.String).alias("outcome"),
        pl.col("plan").replace_strict(check, default=None, return_dtype=pl.String).alias("check"))


#: The request's fields a change does not restate (taken from the request it names).
_KEPT = ("creditor_name", "payment_reference", "request_date", "enforceable_statement", "enforceable_since")


def check_rows(data: Requests) -> pl.DataFrame:
    """``data`` flattened into :class:`amtshilfe.checks.ErsuchenRow` (one row per notice; a message without
    notices one row): what the importer hands :func:`amtshilfe.checks.check`. Kept here for the tests and
    the benchmark until the import's own adapter is on main (it must agree with this one)."""
    debtor = pl.concat_str([pl.col("debtor_given_name"), pl.col("debtor_name")], separator=" ", ignore_nulls=True)
    reqs = data.requests.with_columns(
        pl.lit(str(ErsuchenMessage.ERSUCHEN)).alias("message"), debtor.alias("debtor_name"),
        (pl.col("enforceable_statement").str.strip_chars().str.len_chars().fill_null(0) > 0)
        .alias("enforceable_statement"), pl.col("enforceable_date").alias("enforceable_since"))
    # an Änderung carries the whole changed request: what it does not restate is the request's own
    held = reqs.select("creditor_id", "creditor_file_number", *[pl.col(c).alias(f"_{c}") for c in _KEPT])
    chg = (data.changes.with_columns(debtor.alias("debtor_name"))
           .join(held, on=["creditor_id", "creditor_file_number"], how="left", maintain_order="left")
           .with_columns(*[pl.col(f"_{c}").alias(c) for c in _KEPT]).drop([f"_{c}" for c in _KEPT]))
    notice_cols = [c for c in data.notices.columns if c not in ("message_id", "position")]
    both = pl.concat([reqs.drop("debtor_given_name"), chg.drop("debtor_given_name")], how="diagonal_relaxed")
    rows = both.join(data.notices.drop("position"), on="message_id", how="left", maintain_order="left")
    return rows.select([c for c in ErsuchenRow.column_names() if c in rows.columns or c in notice_cols])


def for_csv(d: Delivery) -> Delivery:
    """The part of ``d`` a CSV can carry: its requests but the duplicates and repeats, no changes."""
    keep = d.planned.filter(~pl.col("plan").is_in(list(XML_ONLY)))
    ids = keep["message_id"].implode()
    data = requests(d.data.requests.filter(pl.col("message_id").is_in(ids)),
                    d.data.notices.filter(pl.col("message_id").is_in(ids)))
    return replace(d, data=data, planned=keep)


def repeat_of(d: Delivery, share: float = 0.2, seed: int = 7) -> Delivery:
    """A second delivery that sends ``share`` of ``d``'s requests again, unchanged (each ``repeated`` against
    the ledger once ``d`` is imported; a request of ``d`` that was returned comes back as new)."""
    pick = d.data.requests.filter(
        pl.col("message_id").hash(seed) % 1000 < int(share * 1000)).with_columns(
        ("R" + pl.col("message_id")).alias("message_id"))
    old = d.data.requests.filter(pl.col("message_id").hash(seed) % 1000 < int(share * 1000))["message_id"]
    notices = d.data.notices.filter(pl.col("message_id").is_in(old.implode())).with_columns(
        ("R" + pl.col("message_id")).alias("message_id"))
    planned = d.planned.filter(pl.col("message_id").is_in(old.implode())).with_columns(
        ("R" + pl.col("message_id")).alias("message_id"))
    header = replace(d.header, message_id=f"{d.header.message_id}-R")
    return Delivery(header, requests(pick, notices), planned)


def requests_xml(d: Delivery) -> bytes:
    """``d`` in our XML (validated by the writer)."""
    return write_requests(d.header, d.data, file=f"{d.header.message_id}.xml")


def requests_csv(d: Delivery, *, encoding: Literal["utf-8-sig", "utf-8", "cp1252"] = "utf-8-sig",
                 line_terminator: Literal["\r\n", "\n"] = "\r\n") -> bytes:
    """``d``'s requests (:func:`for_csv`) as the bulk CSV."""
    return write_requests_csv(for_csv(d).data, encoding=encoding, line_terminator=line_terminator)


#: How a record is broken: a date that does not exist, a negative amount, a row cut short (CSV) or an
#: element dropped (XML).
Breakage = Literal["bad_date", "negative_amount", "broken_row"]
BREAKAGES: tuple[Breakage, ...] = ("bad_date", "negative_amount", "broken_row")


def with_bad_records(data: bytes, kind: Literal["xml", "csv"], every: int = 50) -> tuple[bytes, pl.DataFrame]:
    """``data`` (as :func:`requests_xml` / :func:`requests_csv` wrote it) with every ``every``-th request
    broken, cycling through :data:`BREAKAGES`; and which (``message_id``, ``breakage``). Counts and the
    control sum of an XML file are left as they were: a reader rejects the broken message only."""
    return (_bad_xml(data, every) if kind == "xml" else _bad_csv(data, every))


def _bad_xml(data: bytes, every: int) -> tuple[bytes, pl.DataFrame]:
    text = data.decode("utf-8")
    parts = re.split(r"(?=<Ersuchen>)", text)
    broken: list[tuple[str, str]] = []
    for k in range(1, len(parts), every):
        p = parts[k]
        mid = re.search(r"<MessageId>([^<]+)</MessageId>", p)
        assert mid is not None
        how = BREAKAGES[len(broken) % len(BREAKAGES)]
        if how == "bad_date":
            p = re.sub(r"<RequestDate>\d{4}-\d{2}-\d{2}</RequestDate>", "<RequestDate>2026-02-30</RequestDate>", p, count=1)
        elif how == "negative_amount":
            p = re.sub(r"<Principal>", "<Principal>-", p, count=1)
        else:
            p = re.sub(r"<FileNumber>[^<]*</FileNumber>", "", p, count=1)
        parts[k] = p
        broken.append((mid.group(1), how))
    return "".join(parts).encode("utf-8"), pl.DataFrame(broken, schema=["message_id", "breakage"], orient="row")


def _bad_csv(data: bytes, every: int) -> tuple[bytes, pl.DataFrame]:
    bom = data.startswith(b"\xef\xbb\xbf")
    crlf = b"\r\n" in data
    try:
        enc = "utf-8-sig" if bom else "utf-8"
        text = data.decode(enc)
    except UnicodeDecodeError:
        enc, text = "cp1252", data.decode("cp1252")
    eol = "\r\n" if crlf else "\n"
    lines = text.split(eol)
    head = lines[0].split(";")
    at = {h: head.index(h) for h in ("Nachrichten-ID", "Ersuchensdatum", "Hauptforderung")}
    broken: list[tuple[str, str]] = []
    for k in range(1, len(lines), every):
        if not lines[k]:
            continue
        f = lines[k].split(";")
        if len(f) != len(head):          # a quoted field with a ";" — leave that row alone
            continue
        how = BREAKAGES[len(broken) % len(BREAKAGES)]
        if how == "bad_date":
            f[at["Ersuchensdatum"]] = "30.02.2026"
        elif how == "negative_amount":
            f[at["Hauptforderung"]] = "-" + f[at["Hauptforderung"]]
        else:
            f = f[: len(f) // 2]
        lines[k] = ";".join(f)
        broken.append((f[at["Nachrichten-ID"]], how))
    out = eol.join(lines).encode(enc)
    return out, pl.DataFrame(broken, schema=["message_id", "breakage"], orient="row")


__all__ = ["AS_OF", "CREDITORS", "DISTRICT", "EXPECTED", "OFFICE", "PLANS", "SETTINGS", "Delivery", "delivery",
           "for_csv", "repeat_of", "requests_csv", "requests_xml", "with_bad_records"]
