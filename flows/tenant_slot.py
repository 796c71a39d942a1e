"""Two workers never run one tenant's jobs at once: a Prefect global concurrency limit per tenant.

A data centre runs each tenant's job as its own flow run on a process work pool (``kasse deploy``); any
worker may pick any run. Around the flow body the run holds one slot of the limit ``tenant-<id>`` (limit
1, made by ``kasse deploy`` and ``kasse serve``), so a second run of the same tenant — its dunning run
while the night is still booking, or a night repeated by hand — waits on the server for the first to end
instead of failing on the tenant's file lock (``jobs.runner.tenant_lock``, which stays as the last guard
on the machine that holds the files).

The slot is a lease the run renews while it holds it. A worker killed mid-run stops renewing: the server
takes the slot back after :data:`LEASE_SECONDS` (Prefect's minimum) and the next run of the tenant goes
on. A flow run outside a deployment (``kasse nightly`` in one process, the demo, the tests' harness) holds
no slot: the file lock alone guards it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

#: Seconds a slot outlives a run that stopped renewing it (a killed worker); Prefect allows no less than 60.
LEASE_SECONDS = 60


def slot_name(tenant: str) -> str:
    """The global concurrency limit of one tenant: ``tenant-<id>``."""
    return f"tenant-{tenant}"


@contextmanager
def tenant_slot(tenant: str, *, always: bool = False) -> Iterator[None]:
    """Hold the tenant's slot for the block when this flow run belongs to a deployment (or ``always``: a
    night shift, whose tenants' runs are its subflows); else do nothing."""
    from prefect import runtime

    if not always and runtime.deployment.id is None:
        yield
        return
    from prefect.concurrency.sync import concurrency
    from prefect.logging import get_run_logger

    log = get_run_logger()
    with concurrency(slot_name(tenant), occupy=1, lease_duration=LEASE_SECONDS, strict=True,
                     raise_on_lease_renewal_failure=False):
        log.info("%s: slot held", slot_name(tenant))        # the log says when the tenant's job ran
        try:
            yield
        finally:
            log.info("%s: slot released", slot_name(tenant))


def ensure_tenant_limits(tenants: list[str]) -> None:
    """Create (or reset to 1) the limit ``tenant-<id>`` of every tenant on the current Prefect API."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectNotFound

    async def make() -> None:
        async with get_client() as client:
            for tenant in sorted(set(tenants)):
                name = slot_name(tenant)
                try:
                    await client.read_global_concurrency_limit_by_name(name)
                except ObjectNotFound:
                    await client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
                else:
                    await client.update_global_concurrency_limit(
                        name, GlobalConcurrencyLimitUpdate(limit=1, active=True))

    asyncio.run(make())
