"""Reports of the nightly run: day close (Tagesabschluss), Klärungsliste, key figures, the finance system's
booking and claims files — plain functions.

Compute (frames in, frames out) and write (files, atomically with a manifest) are separate steps::

    dc = day_close(statements, transactions, unresolved, booking_date=day, previous=earlier_closes)
    kl = klaerungsliste(unresolved, transactions, as_of=day)
    kf = key_figures(transactions, allocations, unresolved, as_of=day)
    paths = write_reports(out_dir, tenant=t, booking_date=day, day_close=dc, klaerungsliste=kl,
                          key_figures=kf, run_id=run_id)
    hkr = write_hkr(out_dir / "hkr", tenant=t, posting_date=day,
                    bookings=hkr_bookings(allocations, transactions, open_items, tenant=t, posting_date=day))

No Prefect, no DuckDB here. docs/REPORTS.md explains every report and column.
"""

from outputs.atomic import PlannedFile, verify, write_all
from outputs.day_close import DAY_CLOSE_SCHEMA, account_key, check_totals, day_close, late_days
from outputs.hkr_export import (
    HKR_BOOKING_SCHEMA,
    HKR_CLAIM_SCHEMA,
    hkr_bookings,
    hkr_claims,
    plan_hkr,
    write_hkr,
)
from outputs.key_figures import (
    AGE_STRUCTURE_SCHEMA,
    BY_REASON_SCHEMA,
    BY_RULE_SCHEMA,
    PER_DAY_ACCOUNT_SCHEMA,
    SUMMARY_SCHEMA,
    key_figures,
)
from outputs.klaerungsliste import KLAERUNG_SCHEMA, klaerungsliste
from outputs.report import ReportPaths, plan_reports, publish_reports, write_reports

__all__ = [
    "AGE_STRUCTURE_SCHEMA",
    "BY_REASON_SCHEMA",
    "BY_RULE_SCHEMA",
    "DAY_CLOSE_SCHEMA",
    "HKR_BOOKING_SCHEMA",
    "HKR_CLAIM_SCHEMA",
    "KLAERUNG_SCHEMA",
    "PER_DAY_ACCOUNT_SCHEMA",
    "SUMMARY_SCHEMA",
    "PlannedFile",
    "ReportPaths",
    "account_key",
    "check_totals",
    "day_close",
    "hkr_bookings",
    "hkr_claims",
    "key_figures",
    "klaerungsliste",
    "late_days",
    "plan_hkr",
    "plan_reports",
    "publish_reports",
    "verify",
    "write_all",
    "write_hkr",
    "write_reports",
]
