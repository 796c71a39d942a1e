"""Enforcement hand-off (Vollstreckung, issue 17), the pure part: which claims are enforceable, the cases,
limitation (Zahlungsverjährung), the enforcement office's file format, valuation and key figures. Frames
in, frames (and file bytes) out; no store, no Prefect.

Import the functions from their modules; this package re-exports nothing.
"""
