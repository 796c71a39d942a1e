"""A night shift: several tenants' nights in ONE flow-run process, each tenant still its own flow run.

A process worker starts a fresh Python for every flow run: about 2 CPU seconds of interpreter, Prefect and
our imports before any work (docs/BENCHMARKS.md "Data centre"), as much as a small tenant's whole night.
For a data centre with hundreds of small municipalities that doubles the night. ``kasse night --pool P
--shifts K`` therefore puts the tenants into K shifts (balanced by the bytes waiting in their inboxes) and
starts one run of the pool's shift deployment per shift; the workers run the shifts in parallel, and each
shift runs its tenants one after the other as **subflow runs** of the nightly flow — one flow run per
tenant in the UI, with its own state, logs, artifacts and retries, but no process start of its own.

What stays as with one process per tenant:

* **A failing tenant stops no other**: each subflow returns its state; the shift goes on with the next
  tenant and ends ``Completed`` with every tenant's state in its result and in the subflows. A failed
  tenant is tried once more at the end of the shift (instead of the nightly's own retry after a wait,
  which would hold up the tenants behind it).
* **Two workers never run one tenant at once**: the shift holds the tenant's slot ``tenant-<id>``
  (``flows.tenant_slot``) around each subflow, and the tenant's file lock stays the last guard.
* **A killed worker** kills the shift's process: the tenant running then is left as it was (its booking is
  one transaction), the tenants after it were not started. ``kasse night`` names them; running the night
  again is safe (booking is idempotent per delivery).

What a shift gives up: a tenant that eats the shift's memory or crashes the interpreter takes the rest of
its shift with it. Big tenants belong in runs of their own (``--shifts 0``, the default).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

for _name, _value in (("DO_NOT_TRACK", "1"), ("PREFECT_SERVER_ANALYTICS_ENABLED", "false")):
    os.environ.setdefault(_name, _value)

from prefect import flow, tags  # noqa: E402  (the environment above must be set first)

from claims.errors import KasseError  # noqa: E402
from ledger.config import load_tenant_config  # noqa: E402

#: The tag each tenant's subflow run carries, so that ``kasse night`` can name its state.
TENANT_TAG = "tenant:"


@flow(name="stadtkasse-night-shift", log_prints=True)
def night_shift(configs: list[str], booking_date: str | None = None) -> dict[str, str]:
    """The nights of the tenants ``configs`` (config paths) one after the other in this process, each a
    subflow run of ``stadtkasse-nightly`` under the tenant's slot; returns tenant -> final state name."""
    from flows.nightly import nightly
    from flows.tenant_slot import tenant_slot

    once = nightly.with_options(retries=0)     # a failed tenant is tried again at the shift's end, not after a wait
    states: dict[str, str] = {}
    todo = list(configs)
    for attempt in (1, 2):
        failed = []
        for config in todo:
            tenant = _tenant(config)
            try:
                with tenant_slot(tenant, always=True), tags(f"{TENANT_TAG}{tenant}"):
                    state: Any = once(config=config, booking_date=booking_date, slot=False, return_state=True)
                states[tenant], done = state.type.value, state.is_completed()
            except Exception as exc:          # no slot (an unknown tenant, the server away): this tenant only
                states[tenant], done = "FAILED", False
                print(f"{tenant}: not run: {type(exc).__name__}: {exc}")
            print(f"{tenant}: {states[tenant]} (attempt {attempt})")
            if not done:
                failed.append(config)
        todo = failed
    return states


def _tenant(config: str) -> str:
    """The tenant id of a config; the path itself when the config cannot be read (its run fails and says why)."""
    try:
        return load_tenant_config(Path(config)).tenant
    except (OSError, KasseError):
        return config


def balance(sizes: dict[str, int], shifts: int) -> list[list[str]]:
    """The tenants in ``shifts`` groups of about equal work (``sizes``: tenant -> bytes waiting): the largest
    first, each to the group with the least so far (greedy LPT); empty groups dropped."""
    groups: list[list[str]] = [[] for _ in range(max(1, shifts))]
    load = [0] * len(groups)
    for tenant in sorted(sizes, key=lambda t: (-sizes[t], t)):
        i = min(range(len(groups)), key=lambda k: (load[k], k))
        groups[i].append(tenant)
        load[i] += max(sizes[tenant], 1)
    return [g for g in groups if g]


def inbox_bytes(config: str) -> int:
    """What waits in a tenant's inbox (bytes, links not followed), the shift's measure of its night; 0 when
    the config or the folder cannot be read from here."""
    try:
        inbox = load_tenant_config(Path(config)).inbox
        return sum(p.stat(follow_symlinks=False).st_size for p in inbox.rglob("*")
                   if p.is_file() and not p.is_symlink())
    except (OSError, KasseError):        # a measure only: never stop the night for it
        return 0


__all__ = ["TENANT_TAG", "balance", "inbox_bytes", "night_shift"]
