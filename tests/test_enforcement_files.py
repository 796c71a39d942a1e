"""The enforcement office's files (issue 17 §2): hand-off, updates and outcomes in our versioned XML format.
Our files validate against the schema; what we write reads back equal; a broken case or outcome is named
(file, element, line, reason) and rejected alone; outcomes read twice get the same ids."""

from __future__ import annotations

import doctest
import io
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from enforcement_frames import HEADER, OUTCOMES_HEADER, UPDATE_HEADER, cases, claims, outcomes, updates
from lxml import etree
from polars.testing import assert_frame_equal

import enforcement.outcomes_file as outcomes_module
from claims.vocab import BlockReason, EnforcementOutcome, EnforcementUpdateKind
from enforcement.file_format import NAMESPACE, SCHEMA_VERSION, EnforcementFileError, schema
from enforcement.handoff_file import read_handoff, read_updates, statement_expr, write_handoff, write_updates
from enforcement.outcomes_file import outcome_id, read_outcomes, write_outcomes

ROOT = Path(__file__).resolve().parent.parent
XS = "{http://www.w3.org/2001/XMLSchema}"
N = f"{{{NAMESPACE}}}"


def valid(data: bytes) -> bool:
    return bool(schema().validate(etree.parse(io.BytesIO(data))))


def handoff() -> bytes:
    return write_handoff(HEADER, cases(), claims())


def enumeration(type_name: str) -> set[str]:
    doc = etree.parse(str(ROOT / "enforcement" / "schema" / "enforcement-1.xsd"))
    return {e.get("value") for e in doc.getroot().iterfind(f"{XS}simpleType[@name='{type_name}']/{XS}restriction/"
                                                           f"{XS}enumeration")}


# --- the schema ------------------------------------------------------------------------------------------

def test_schema_is_package_data_and_its_codes_are_the_vocabularies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "*.xsd" in project["tool"]["setuptools"]["package-data"]["*"]
    assert enumeration("OutcomeCode") == {str(m) for m in EnforcementOutcome}
    assert enumeration("SuspensionReason") == {str(m) for m in BlockReason}
    root = etree.parse(str(ROOT / "enforcement" / "schema" / "enforcement-1.xsd")).getroot()
    assert root.get("targetNamespace") == NAMESPACE == "urn:stadtkasse:enforcement:1"
    assert {e.get("name") for e in root.iterfind(f"{XS}element")} == {"Handoff", "Update", "Outcomes"}


# --- hand-off --------------------------------------------------------------------------------------------

def test_handoff_validates_with_header_counts_and_control_sums() -> None:
    data = handoff()
    assert valid(data)
    root = etree.fromstring(data)
    assert root.tag == f"{N}Handoff" and root.get("schemaVersion") == SCHEMA_VERSION
    h = root.find(f"{N}Header")
    assert h is not None
    assert h.findtext(f"{N}Counts/{N}Cases") == "3" and h.findtext(f"{N}Counts/{N}Claims") == "4"
    # 100.00 + 5.00 + 96.00 + 1,234,567.89 principal; 3.00 + 61,728.00 surcharges; 6.00 + 6.00 + 12,345.69 fees
    assert h.findtext(f"{N}ControlSums/{N}Principal") == "1234768.89"
    assert h.findtext(f"{N}ControlSums/{N}Surcharges") == "61731.00"
    assert h.findtext(f"{N}ControlSums/{N}Fees") == "12357.69"
    assert h.findtext(f"{N}ControlSums/{N}Total") == "1308857.58"
    assert h.findtext(f"{N}Receiver/{N}Tenant") == "detmold"
    first = root.find(f"{N}Case")
    assert first is not None and first.findtext(f"{N}CaseTotal") == "114.00"
    assert first.findtext(f"{N}Debtor/{N}Name") == "Jürgen Müller & Söhne <GmbH>"
    assert b"M\xc3\xbcller &amp; S\xc3\xb6hne &lt;GmbH&gt;" in data
    ancillary = first.findall(f"{N}Claim")[1]
    assert ancillary.findtext(f"{N}MainKassenzeichen") == "1.2345.6789.012"
    assert ancillary.findtext(f"{N}MahnungOmitted/{N}Reason") == "ancillary"
    assert ancillary.find(f"{N}Mahnung") is None
    assert write_handoff(HEADER, cases(), claims()) == data                     # same input, same bytes


def test_handoff_round_trip_reads_back_equal() -> None:
    got = read_handoff(handoff(), file="handoff.xml")
    assert got.header == HEADER and got.count_in == 3 and got.rejected.is_empty()
    assert_frame_equal(got.cases, cases())
    want = claims().with_columns(statement_expr().alias("statement"))
    assert_frame_equal(got.claims, want.select(got.claims.columns))


def test_statement_says_every_precondition_literally() -> None:
    got = claims().with_columns(statement_expr().alias("s"))["s"].to_list()
    assert got[0] == ("Leistungsbescheid GB-2026-1 vom 10.01.2026, fällig am 15.02.2026, Schonfrist (§ 6 Abs. 1 "
                      "VwVG NRW) abgelaufen am 22.02.2026, gemahnt am 01.11.2026 mit Frist bis 08.11.2026 (§ 6 Abs. 3, "
                      "§ 19 VwVG NRW); vollstreckbar seit 20.11.2026.")
    assert got[1].endswith("Mahnung entbehrlich (ancillary); vollstreckbar seit 20.11.2026. Nebenforderung zu "
                           "Kassenzeichen 1.2345.6789.012 (§ 6 Abs. 4 VwVG NRW).")
    assert got[1].startswith("Leistungsbescheid vom 10.01.2026,")             # no notice number: none printed


def test_a_given_statement_is_kept() -> None:
    mine = claims().with_columns(pl.lit("Vollstreckbar laut Akte 17.").alias("statement"))
    assert read_handoff(write_handoff(HEADER, cases(), mine)).claims["statement"].unique().to_list() == [
        "Vollstreckbar laut Akte 17."]


@pytest.mark.parametrize(("frame", "change", "words"), [
    ("claims", pl.col("principal_cents") - 20000, "negative amounts in principal_cents"),
    ("claims", pl.lit(None, pl.Date).alias("due_date"), "null values in required column(s) {'due_date'"),
    ("claims", pl.lit("ancillary").alias("mahnung_omitted"), "not both, not neither"),
    ("claims", pl.lit(None, pl.Date).alias("mahnung_deadline"), "not both, not neither"),
    ("cases", pl.lit("V-2026-000001").alias("case_number"), "case_number repeated"),
    ("claims", pl.lit("1.1").alias("kassenzeichen"), "a Kassenzeichen twice in one case"),
    ("claims", pl.lit("V-2026-000009").alias("case_number"), "case_number not in cases"),
])
def test_handoff_refuses_bad_frames(frame: str, change: pl.Expr, words: str) -> None:
    cs, cl = cases(), claims()
    if frame == "cases":
        cs = cs.with_columns(change)
    else:
        cl = cl.with_columns(change)
    with pytest.raises(EnforcementFileError, match=re.escape(words)):
        write_handoff(HEADER, cs, cl)


def test_handoff_refuses_missing_column_case_without_claims_and_zero_case() -> None:
    with pytest.raises(EnforcementFileError, match="missing column"):
        write_handoff(HEADER, cases().drop("debtor_city"), claims())
    with pytest.raises(EnforcementFileError, match="cases without a claim: \\['V-2026-000003'\\]"):
        write_handoff(HEADER, cases(), claims().head(3))
    zero = claims().with_columns(pl.when(pl.col("case_number") == "V-2026-000002").then(0)
                                 .otherwise(pl.col(c)).alias(c) for c in ("principal_cents", "fees_cents"))
    with pytest.raises(EnforcementFileError, match=r"nothing to enforce.*V-2026-000002"):
        write_handoff(HEADER, cases(), zero)
    with pytest.raises(EnforcementFileError, match="handoff_date"):
        write_handoff(replace(HEADER, handoff_date=None), cases(), claims())


def test_handoff_a_case_the_schema_refuses_is_named_with_element_and_reason() -> None:
    long_name = cases().with_columns(pl.when(pl.col("case_number") == "V-2026-000002").then(pl.lit("X" * 141))
                                     .otherwise(pl.col("debtor_name")).alias("debtor_name"))
    with pytest.raises(EnforcementFileError) as err:
        write_handoff(HEADER, long_name, claims(), file="batch.xml")
    e = err.value
    assert e.file == "batch.xml" and e.case_number == "V-2026-000002" and e.element == "Case[2]/Debtor/Name"
    assert "maxLength" in e.reason and e.line > 0
    country = cases().with_columns(pl.lit("Deutschland").alias("debtor_country"))
    with pytest.raises(EnforcementFileError, match="Case\\[1\\]/Debtor/Address/Country"):
        write_handoff(HEADER, country, claims())
    control = cases().with_columns(pl.lit("Müller\x07").alias("debtor_name"))
    with pytest.raises(EnforcementFileError, match="not well-formed"):
        write_handoff(HEADER, control, claims())


def test_reading_a_handoff_with_one_bad_case_rejects_it_and_reads_the_rest() -> None:
    data = handoff().replace(b"<DueDate>2026-04-01</DueDate>", b"<DueDate>01.04.2026</DueDate>")
    got = read_handoff(data, file="in.xml")
    assert got.count_in == 3 == got.cases.height + got.rejected.height
    assert got.cases["case_number"].to_list() == ["V-2026-000001", "V-2026-000003"]
    bad = got.rejected.row(0, named=True)
    assert bad["file"] == "in.xml" and bad["case_number"] == "V-2026-000002"
    assert bad["element"] == "Case[2]/Claim/DueDate" and "01.04.2026" in bad["reason"]
    assert bad["line"] == data[:data.index(b"01.04.2026")].count(b"\n") + 1
    total = handoff().replace(b"<CaseTotal>114.00</CaseTotal>", b"<CaseTotal>115.00</CaseTotal>")
    got = read_handoff(total)
    assert got.rejected["case_number"].to_list() == ["V-2026-000001"]
    assert "CaseTotal 115.00 is not the sum of the claims 114.00" in got.rejected["reason"][0]


def test_reading_refuses_a_cut_file_a_wrong_header_and_another_message() -> None:
    data = handoff()
    cut = data[:data.rindex(b"  <Case>")] + b"</Handoff>\n"
    with pytest.raises(EnforcementFileError, match="header counts 3 Cases elements, the file holds 2"):
        read_handoff(cut, file="cut.xml")
    with pytest.raises(EnforcementFileError, match="Header/Created") as err:
        read_handoff(data.replace(b"<Created>2026-12-07T09:30:00", b"<Created>gestern"), file="h.xml")
    assert err.value.file == "h.xml" and err.value.line == 5         # declaration, root, Header, MessageId
    with pytest.raises(EnforcementFileError, match=re.escape("control sum 1234768.90 differs")):
        read_handoff(data.replace(b"<Principal>1234768.89</Principal>", b"<Principal>1234768.90</Principal>"))
    with pytest.raises(EnforcementFileError, match="expected a Update message"):
        read_updates(data)
    with pytest.raises(EnforcementFileError, match="not well-formed XML") as err:
        read_handoff(data[:200], file="short.xml")
    assert err.value.file == "short.xml"


# --- updates ---------------------------------------------------------------------------------------------

def test_updates_validate_and_read_back_equal() -> None:
    ups, ucl = updates()
    data = write_updates(UPDATE_HEADER, ups, ucl)
    assert valid(data)
    root = etree.fromstring(data)
    settled = root.findall(f"{N}CaseUpdate")[1]
    assert settled.findtext(f"{N}Settled/{N}StopAllMeasures") == "true"
    assert root.findtext(f"{N}Header/{N}ControlSums/{N}Paid") == "152.00"
    assert root.findtext(f"{N}Header/{N}ControlSums/{N}Open") == "59.00"
    suspended = root.findall(f"{N}CaseUpdate")[2]
    assert suspended.findtext(f"{N}Suspended/{N}Reason") == "ADV"
    assert suspended.findtext(f"{N}Suspended/{N}Until") == "2027-02-28"
    assert root.findall(f"{N}CaseUpdate")[3].find(f"{N}Resumed") is not None
    got = read_updates(data)
    assert got.header == UPDATE_HEADER and got.rejected.is_empty() and got.count_in == 4
    assert_frame_equal(got.updates, ups.select(got.updates.columns))
    assert_frame_equal(got.update_claims, ucl)
    assert set(got.updates["kind"]) == {str(k) for k in EnforcementUpdateKind}


def test_updates_sum_the_claims_that_share_a_kassenzeichen() -> None:
    """A Mahngebühr and a Säumniszuschlag booked under one fee Kassenzeichen went out as one hand-off claim:
    an update names that Kassenzeichen once, with the sums."""
    ups, ucl = updates()
    first = ucl.row(0, named=True)
    twin = {**first, "paid_cents": 100, "open_principal_cents": 0, "open_surcharges_cents": 250, "open_fees_cents": 0}
    data = write_updates(UPDATE_HEADER, ups, pl.concat([ucl, pl.DataFrame([twin], schema=ucl.schema)]))
    got = read_updates(data).update_claims
    assert got.height == ucl.height
    row = got.filter((pl.col("update_id") == first["update_id"]) & (pl.col("kassenzeichen") == first["kassenzeichen"]))
    assert row["paid_cents"].item() == first["paid_cents"] + 100
    assert row["open_surcharges_cents"].item() == first["open_surcharges_cents"] + 250


def test_updates_refusals() -> None:
    ups, ucl = updates()
    with pytest.raises(EnforcementFileError, match="unknown kind"):
        write_updates(UPDATE_HEADER, ups.with_columns(pl.lit("recalled").alias("kind")), ucl)
    with pytest.raises(EnforcementFileError, match="unknown suspension reason"):
        write_updates(UPDATE_HEADER, ups.with_columns(pl.lit("KRANK").alias("suspension_reason")), ucl)
    with pytest.raises(EnforcementFileError, match="a suspension or resumption carries no claims"):
        write_updates(UPDATE_HEADER, ups, ucl.with_columns(pl.lit("UPD-3").alias("update_id")))
    # a partial payment without its claims: the schema names the update
    with pytest.raises(EnforcementFileError, match="CaseUpdate\\[1\\]/PartialPayment") as err:
        write_updates(UPDATE_HEADER, ups, ucl.filter(pl.col("update_id") != "UPD-1"))
    assert err.value.case_number == "V-2026-000001"
    with pytest.raises(EnforcementFileError, match="CaseUpdate\\[3\\]/Suspended"):
        write_updates(UPDATE_HEADER, ups.with_columns(pl.lit(None, pl.String).alias("suspension_reason")), ucl)


# --- outcomes --------------------------------------------------------------------------------------------

def outcomes_file() -> bytes:
    return write_outcomes(OUTCOMES_HEADER, *outcomes())


def test_outcomes_validate_and_read_back_equal() -> None:
    data = outcomes_file()
    assert valid(data)
    got = read_outcomes(data, file="ergebnisse.xml", tenant="musterstadt")
    out, fees = outcomes()
    assert got.header == OUTCOMES_HEADER and got.rejected.is_empty() and got.count_in == 4
    assert_frame_equal(got.outcomes.select(out.columns), out)
    assert_frame_equal(got.fees.select(fees.columns), fees)
    assert got.outcomes["outcome_id"].to_list() == [
        "VS-DT|2026/0815|V-2026-000001|1", "VS-DT|2026/0816|V-2026-000002|1", "VS-DT|2026/0817|V-2026-000003|1",
        "VS-DT|2026/0815|V-2026-000001|2"]
    assert got.outcomes["fees_cents"].to_list() == [2850, 5000, 0, 0]
    assert got.fees["outcome_id"].to_list() == ["VS-DT|2026/0815|V-2026-000001|1"] * 2 + [
        "VS-DT|2026/0816|V-2026-000002|1"]
    assert set(got.outcomes["file"]) == {"ergebnisse.xml"} and set(got.outcomes["message_id"]) == {"E-2026-0042"}


def test_outcomes_read_twice_give_the_same_ids_and_digests(tmp_path: Path) -> None:
    data = outcomes_file()
    (tmp_path / "again.xml").write_bytes(data)
    first, second = read_outcomes(data), read_outcomes(tmp_path / "again.xml")
    assert second.outcomes["file"][0] == "again.xml"
    assert first.outcomes["outcome_id"].to_list() == second.outcomes["outcome_id"].to_list()
    assert first.outcomes["digest"].to_list() == second.outcomes["digest"].to_list()
    assert first.outcomes["outcome_id"].n_unique() == 4 and first.outcomes["digest"].n_unique() == 4
    # resent in a new file with a changed amount: the same id, another digest (the ledger sees the conflict)
    out, fees = outcomes()
    changed = read_outcomes(write_outcomes(replace(OUTCOMES_HEADER, message_id="E-2026-0043"),
                                           out.with_columns(pl.col("collected_cents") + 1), fees))
    assert changed.outcomes["outcome_id"].to_list() == first.outcomes["outcome_id"].to_list()
    assert not set(changed.outcomes["digest"]) & set(first.outcomes["digest"])


def test_an_outcomes_file_with_one_bad_outcome_rejects_it_and_reads_the_rest() -> None:
    data = outcomes_file().replace(b"<Code>moved</Code>", b"<Code>verzogen</Code>")
    got = read_outcomes(data, file="ergebnisse.xml")
    assert got.count_in == 4 == got.outcomes.height + got.rejected.height
    assert got.outcomes["case_number"].to_list() == ["V-2026-000001", "V-2026-000002", "V-2026-000001"]
    bad = got.rejected.row(0, named=True)
    assert bad["file"] == "ergebnisse.xml" and bad["case_number"] == "V-2026-000003"
    assert bad["element"] == "Outcome[3]/Code" and "'verzogen' is not an element of the set" in bad["reason"]
    assert bad["line"] == data[:data.index(b"verzogen")].count(b"\n") + 1


@pytest.mark.parametrize(("change", "element", "words"), [
    (pl.when(pl.col("outcome") == "paid").then(0).otherwise(pl.col("collected_cents")).alias("collected_cents"),
     "Collected", "outcome paid with nothing collected"),
    (pl.lit(None, pl.Int64).alias("instalment_cents"), "Instalments", "outcome instalments without the agreement"),
])
def test_outcome_rules_the_schema_cannot_say(change: pl.Expr, element: str, words: str) -> None:
    out, fees = outcomes()
    got = read_outcomes(write_outcomes(OUTCOMES_HEADER, out.with_columns(change), fees))
    assert got.rejected.height == 1 and got.outcomes.height == 3
    row = got.rejected.row(0, named=True)
    assert row["element"] == element and words in row["reason"] and row["item_id"].startswith("VS-DT|")


def test_an_outcome_repeated_in_one_file_is_rejected_once() -> None:
    data = outcomes_file()
    root = etree.fromstring(data)
    root.append(etree.fromstring(etree.tostring(root.findall(f"{N}Outcome")[0])))
    root.find(f"{N}Header/{N}Counts/{N}Outcomes").text = "5"                    # type: ignore[union-attr]
    got = read_outcomes(etree.tostring(root))
    assert got.count_in == 5 and got.outcomes.height == 4 and got.rejected.height == 1
    assert "outcome id VS-DT|2026/0815|V-2026-000001|1 repeated in this file" in got.rejected["reason"][0]


def test_outcomes_whole_file_refusals() -> None:
    data = outcomes_file()
    with pytest.raises(EnforcementFileError, match="addressed to tenant 'musterstadt', not 'detmold'"):
        read_outcomes(data, tenant="detmold")
    with pytest.raises(EnforcementFileError, match="header counts 3 Outcomes elements, the file holds 4"):
        read_outcomes(data.replace(b"<Outcomes>4</Outcomes>", b"<Outcomes>3</Outcomes>"))
    with pytest.raises(EnforcementFileError, match="Header/ControlSums/Collected"):
        read_outcomes(data.replace(b"<Collected>109.00</Collected>", b"<Collected>108.00</Collected>"))
    with pytest.raises(EnforcementFileError, match="header counts 2 Fee elements"):
        read_outcomes(data.replace(b"<Fees>3</Fees>", b"<Fees>2</Fees>"))
    with pytest.raises(EnforcementFileError, match="Header/OfficeId"):
        read_outcomes(data.replace(b"<OfficeId>VS-DT</OfficeId>", b"<OfficeId>VS DT</OfficeId>"))
    with pytest.raises(EnforcementFileError, match="unknown outcome code"):
        out, fees = outcomes()
        write_outcomes(OUTCOMES_HEADER, out.with_columns(pl.lit("fruchtlos").alias("outcome")), fees)


def test_outcome_id_parts_cannot_hold_the_separator() -> None:
    out, fees = outcomes()
    with pytest.raises(EnforcementFileError, match="Outcome\\[1\\]/OfficeReference"):
        write_outcomes(OUTCOMES_HEADER, out.with_columns(pl.lit("A|B").alias("office_reference")),
                       fees.with_columns(pl.lit("A|B").alias("office_reference")))
    assert outcome_id("VS", "R", "C", 3) == "VS|R|C|3"
    assert doctest.testmod(outcomes_module).failed == 0
