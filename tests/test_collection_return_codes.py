"""The MT940 ?34 → ISO return-code table: the package's rows literally, the tenant's override, the
config check, and a direct-debit return with a ?34 number through the real nightly."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from test_collect_back import BACK, RETURN_DAY, batch_credit, collect, statement
from test_collect_job import fixed_clock, q, tenant  # noqa: F401 (fixture)

import jobs.nightly as night
from claims.config import CollectionSection, ConfigError
from collection.return_codes import default_table, iso_reason_expr, return_code_table


def test_the_package_table_literally() -> None:
    assert default_table() == {"901": "AC01", "902": "AC04", "903": "AC06", "904": "MD01", "912": "MD06",
                               "919": "MS03"}


def test_a_tenant_row_wins_and_adds() -> None:
    t = return_code_table({"912": "ms02", "913": "AM05"})
    assert t["912"] == "MS02" and t["913"] == "AM05" and t["901"] == "AC01"


def test_the_expression_maps_numbers_and_leaves_codes_and_unknown_numbers() -> None:
    got = pl.DataFrame({"r": ["912", " ac04 ", "999", None, "902"]}).select(
        iso_reason_expr("r", return_code_table()))["r"].to_list()
    assert got == ["MD06", "AC04", "999", None, "AC04"]


@pytest.mark.parametrize("bad", [{"91": "AC01"}, {"912": "AC0"}, {"abc": "AC01"}, {"912": "AC-1"}])
def test_the_config_refuses_a_malformed_row(bad: dict[str, str]) -> None:
    with pytest.raises((ConfigError, ValueError)):
        CollectionSection.model_validate({"mt940_return_codes": bad})


def test_a_direct_debit_return_with_a_34_number_is_recorded_with_its_iso_code(tmp_path: Path) -> None:
    cfg = tenant(tmp_path)
    rec = collect(cfg)
    closing = statement(cfg, BACK, 2, 99650, [batch_credit(24900, rec["pmtinf_id"][0])])
    night.run_night(cfg, BACK)
    e2e = rec.filter(pl.col("receivable_id") == "R1")["end_to_end_id"][0]
    # 901 = AC01: the mandate is blocked (a block_mandate code), as for a camt return naming AC01
    statement(cfg, RETURN_DAY, 3, closing, [
        (-9900, "109", f"?00SEPA-DD SOLL RUECKBEL. CORE?20EREF+{e2e}?21SVWZ+RUECKLASTSCHRIFT?32SCHULDNER R1?34901"),
    ])
    night.run_night(cfg, RETURN_DAY)
    assert q(cfg, "SELECT receivable_id, reason_code FROM collection_returns").rows() == [("R1", "AC01")]
