"""Night shifts (``flows/night_shift.py``): several tenants' nights in one flow run, each a subflow run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_nightly_plain import D1, counts, deliver_day1

from flows.night_shift import TENANT_TAG, balance, inbox_bytes
from ledger.config import TenantConfig, load_tenant_config


@pytest.mark.parametrize(("sizes", "shifts", "groups"), [
    ({"a": 10, "b": 10, "c": 10, "d": 10}, 2, [["a", "c"], ["b", "d"]]),
    ({"big": 100, "s1": 30, "s2": 30, "s3": 30}, 2, [["big"], ["s1", "s2", "s3"]]),
    ({"a": 5, "b": 1}, 4, [["a"], ["b"]]),                 # no empty shift
    ({"a": 0, "b": 0, "c": 0}, 2, [["a", "c"], ["b"]]),    # nothing measured: still spread
    ({"a": 3}, 0, [["a"]]),
])
def test_balance_puts_the_largest_first_into_the_lightest_shift(
        sizes: dict[str, int], shifts: int, groups: list[list[str]]) -> None:
    assert balance(sizes, shifts) == groups


def _tenant(root: Path, tenant: str, inbox: bool = True) -> TenantConfig:
    root.mkdir(parents=True)
    (root / "kasse.toml").write_text(f'[tenant]\nid = "{tenant}"\n', encoding="utf-8")
    cfg = load_tenant_config(root / "kasse.toml")
    if inbox:
        cfg.inbox.mkdir(parents=True)
    return cfg


def test_inbox_bytes_counts_files_and_not_links(tmp_path: Path) -> None:
    cfg = _tenant(tmp_path / "a", "a")
    (cfg.inbox / "x.sta").write_bytes(b"1234")
    (cfg.inbox / "sub").mkdir()
    (cfg.inbox / "sub" / "y.csv").write_bytes(b"12")
    (tmp_path / "outside").write_bytes(b"9" * 1000)
    (cfg.inbox / "link").symlink_to(tmp_path / "outside")
    assert inbox_bytes(str(cfg.source)) == 6
    assert inbox_bytes(str(tmp_path / "missing.toml")) == 0


@pytest.mark.usefixtures("prefect_harness")
def test_a_shift_runs_each_tenant_as_its_own_subflow_and_a_failing_one_stops_no_other(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    from flows.night_shift import night_shift
    from flows.tenant_slot import ensure_tenant_limits

    ensure_tenant_limits(["ost", "nord"])                        # as kasse deploy makes them
    broken = _tenant(tmp_path / "ost", "ost", inbox=False)       # a night refuses a tenant without an inbox
    good = _tenant(tmp_path / "nord", "nord")
    deliver_day1(good)
    state = night_shift([str(broken.source), str(good.source)], booking_date=D1.isoformat(), return_state=True)
    assert state.is_completed()
    assert state.result() == {"ost": "FAILED", "nord": "COMPLETED"}
    assert counts(good)["transactions"] == 4 and counts(good)["runs"] == 1

    async def subflows() -> list[tuple[str, str]]:
        async with get_client() as client:
            subs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[state.state_details.flow_run_id])))
            return sorted((next(t for t in s.tags if t.startswith(TENANT_TAG)), s.state.type.value) for s in subs)

    # ost was tried twice (once more at the end of the shift), nord once; each run a subflow with its tag
    assert asyncio.run(subflows()) == [("tenant:nord", "COMPLETED"), ("tenant:ost", "FAILED"),
                                       ("tenant:ost", "FAILED")]


@pytest.mark.usefixtures("prefect_harness")
def test_a_tenant_whose_slot_cannot_be_had_fails_alone(tmp_path: Path) -> None:
    from flows.night_shift import night_shift

    good = _tenant(tmp_path / "sued", "sued")                    # no limit tenant-sued on the server
    deliver_day1(good)
    other = _tenant(tmp_path / "west", "west")
    from flows.tenant_slot import ensure_tenant_limits

    ensure_tenant_limits(["west"])
    deliver_day1(other)
    state = night_shift([str(good.source), str(other.source)], booking_date=D1.isoformat(), return_state=True)
    assert state.result() == {"sued": "FAILED", "west": "COMPLETED"}
    assert counts(good)["runs"] == 0 and counts(other)["runs"] == 1
