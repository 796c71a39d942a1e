"""SEPA collections and payouts (issue 16), the pure part: mandates, what is collected when, the pain
files, what comes back. Frames in, frames (and XML bytes) out; no store, no Prefect.

Import the functions from their modules; this package re-exports nothing.
"""
