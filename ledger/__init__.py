"""The ledger: one append-only DuckDB file per treasury, and the plain steps of the nightly run."""
