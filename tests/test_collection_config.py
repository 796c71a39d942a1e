"""``[collection]``: the Gläubiger-ID is checked, the account defaults to the first account, the return
actions table is laid over DOMAIN.md §3.4's defaults."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from claims.config import CollectionSection, tenant_config
from claims.errors import ConfigError
from claims.vocab import ReturnAction


def _cfg(**collection: object) -> object:
    return tenant_config({"collection": collection, "accounts": [{"iban": "DE63 3705 0198 1900 0012 34"}]},
                         base=Path("/srv"))


def test_a_valid_glaeubiger_id_is_kept_compact() -> None:
    # the Bundesbank's example id; spaces are allowed in the file
    assert _cfg(creditor_id="DE98 ZZZ 0999 9999 999").collection.creditor_id == "DE98ZZZ09999999999"
    # the business code is not part of the check digits: another code, same check digits
    assert _cfg(creditor_id="DE98ABC09999999999").collection.creditor_id == "DE98ABC09999999999"


@pytest.mark.parametrize("bad", ["DE99ZZZ09999999999", "DE98ZZZ0999999999", "XX", "DE02120300000000202051"])
def test_an_invalid_glaeubiger_id_is_refused(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"\[collection\] creditor_id"):
        _cfg(creditor_id=bad)


def test_the_account_defaults_to_the_first_account_and_is_checked() -> None:
    assert _cfg().collection_account == "DE63370501981900001234"
    assert _cfg(account="DE02 1203 0000 0000 2020 51").collection_account == "DE02120300000000202051"
    with pytest.raises(ConfigError, match=r"\[collection\] account"):
        _cfg(account="DE03120300000000202051")


def test_defaults() -> None:
    s = CollectionSection()
    assert (s.lead_days, s.cutoff, s.first_sequence, s.pain008_version, s.mandate_expiry_months) == \
        (1, time(12, 0), "RCUR", "001.001.08", 36)
    assert s.creditor_id is None and s.return_fee_charge is False
    blocking = {c for c, a in s.return_actions.items() if a == ReturnAction.BLOCK_MANDATE}
    retry = {c for c, a in s.return_actions.items() if a == ReturnAction.RETRY_ONCE}
    assert blocking == {"AC01", "AC04", "AC06", "AG01", "MD01", "SL01"}
    assert retry == {"AM04", "MS02", "MS03"}


def test_return_actions_are_laid_over_the_defaults() -> None:
    s = _cfg(return_actions={"ms03": "none", "MD06": "retry_once"}, cutoff="15:30",
             first_sequence="FRST", return_fee_fixed="3,50").collection
    assert s.return_actions["MS03"] == ReturnAction.NONE
    assert s.return_actions["MD06"] == ReturnAction.RETRY_ONCE
    assert s.return_actions["AC04"] == ReturnAction.BLOCK_MANDATE
    assert (s.cutoff, s.first_sequence, s.return_fee_fixed) == (time(15, 30), "FRST", 350)
    with pytest.raises(ConfigError, match=r"return_actions"):
        _cfg(return_actions={"AC04": "shout"})
    with pytest.raises(ConfigError, match=r"first_sequence"):
        _cfg(first_sequence="OOFF")
