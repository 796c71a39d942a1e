-- Migration 0001: the ledger's tables as the first release created them (schema version 1).
-- Frozen: generated once from ledger/tables.py (create_table_sql) at commit 832d62b and never edited.
-- A later change to a table is a new migration appended to ledger/migrations.py.

CREATE TABLE runs (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "booking_date" DATE,
  "started_at" TIMESTAMPTZ,
  "committed_at" TIMESTAMPTZ,
  "mode" VARCHAR,
  "flow_run_id" VARCHAR,
  "n_files" INTEGER,
  "n_duplicate_files" INTEGER,
  "n_rejected_files" INTEGER,
  "n_transactions" INTEGER,
  "n_allocations" INTEGER,
  "n_unresolved" INTEGER,
  "summary" VARCHAR
);

CREATE TABLE files (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "source_path" VARCHAR,
  "source_file" VARCHAR,
  "source_format" VARCHAR,
  "status" VARCHAR,
  "reason" VARCHAR,
  "n_statements" INTEGER,
  "n_entries" INTEGER,
  "n_rows" INTEGER,
  "size_bytes" BIGINT,
  "kind" VARCHAR,
  "booking_date" DATE,
  "archived_as" VARCHAR
);

CREATE TABLE statements (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "account_iban" VARCHAR,
  "currency" VARCHAR,
  "statement_id" VARCHAR,
  "statement_key" VARCHAR,
  "statement_no" VARCHAR,
  "sequence_no" BIGINT,
  "page_no" BIGINT,
  "kind" VARCHAR,
  "first_booking_date" DATE,
  "last_booking_date" DATE,
  "opening_date" DATE,
  "opening_cents" BIGINT,
  "closing_date" DATE,
  "closing_cents" BIGINT,
  "entries_sum_cents" BIGINT,
  "n_entries" INTEGER,
  "n_details" INTEGER,
  "balance_ok" BOOLEAN,
  "statement_index" INTEGER,
  "source_format" VARCHAR,
  "source_file" VARCHAR,
  "source_path" VARCHAR
);

CREATE TABLE transactions (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "transaction_id" VARCHAR,
  "account_iban" VARCHAR,
  "statement_id" VARCHAR,
  "statement_key" VARCHAR,
  "entry_index" INTEGER,
  "detail_index" INTEGER,
  "booking_date" DATE,
  "value_date" DATE,
  "amount_cents" BIGINT,
  "currency" VARCHAR,
  "entry_amount_cents" BIGINT,
  "is_reversal" BOOLEAN,
  "status" VARCHAR,
  "booked" BOOLEAN,
  "counterparty_name" VARCHAR,
  "counterparty_iban" VARCHAR,
  "counterparty_bic" VARCHAR,
  "iban_valid" BOOLEAN,
  "bic_valid" BOOLEAN,
  "ultimate_party" VARCHAR,
  "remittance" VARCHAR,
  "creditor_ref" VARCHAR,
  "end_to_end_id" VARCHAR,
  "customer_ref" VARCHAR,
  "mandate_id" VARCHAR,
  "creditor_id" VARCHAR,
  "bank_ref" VARCHAR,
  "tx_code" VARCHAR,
  "swift_code" VARCHAR,
  "bank_tx_code" VARCHAR,
  "booking_text" VARCHAR,
  "primanota" VARCHAR,
  "text_key_ext" VARCHAR,
  "return_reason" VARCHAR,
  "charges_cents" BIGINT,
  "original_amount_cents" BIGINT,
  "original_currency" VARCHAR,
  "source_format" VARCHAR,
  "source_file" VARCHAR,
  "source_path" VARCHAR,
  "source_line" INTEGER,
  "source_xpath" VARCHAR,
  "raw" VARCHAR
);

CREATE TABLE open_item_imports (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "import_id" VARCHAR,
  "booking_date" DATE,
  "source_path" VARCHAR,
  "n_items" INTEGER,
  "total_cents" BIGINT,
  "imported_at" TIMESTAMPTZ
);

CREATE TABLE open_items (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "receivable_id" VARCHAR,
  "kassenzeichen" VARCHAR,
  "kz_norm" VARCHAR,
  "debtor_id" VARCHAR,
  "debtor_name" VARCHAR,
  "debtor_iban" VARCHAR,
  "claim_type" VARCHAR,
  "amount_cents" BIGINT,
  "due_date" DATE,
  "external_ref" VARCHAR,
  "mandate_id" VARCHAR,
  "mandate_date" DATE,
  "dunning_block_until" DATE,
  "law" VARCHAR,
  "source_file" VARCHAR,
  "source_path" VARCHAR,
  "source_line" INTEGER,
  "import_id" VARCHAR
);

CREATE TABLE allocations (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "transaction_id" VARCHAR,
  "bank_ref" VARCHAR,
  "receivable_id" VARCHAR,
  "kassenzeichen" VARCHAR,
  "amount_cents" BIGINT,
  "rule" VARCHAR,
  "confidence" DOUBLE,
  "decided_by" VARCHAR,
  "booking_date" DATE,
  "import_id" VARCHAR,
  "decision_id" VARCHAR
);

CREATE TABLE unresolved (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "transaction_id" VARCHAR,
  "bank_ref" VARCHAR,
  "booking_date" DATE,
  "amount_cents" BIGINT,
  "unallocated_cents" BIGINT,
  "reason" VARCHAR,
  "candidates" VARCHAR,
  "state" VARCHAR,
  "as_of" DATE
);

CREATE TABLE clerk_decisions (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "decision_id" VARCHAR,
  "transaction_id" VARCHAR,
  "action" VARCHAR,
  "allocations" VARCHAR,
  "amount_cents" BIGINT,
  "refund_iban" VARCHAR,
  "note" VARCHAR,
  "decided_by" VARCHAR,
  "decided_at" VARCHAR,
  "approved_by" VARCHAR,
  "status" VARCHAR,
  "reason" VARCHAR
);

CREATE TABLE refunds (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "decision_id" VARCHAR,
  "transaction_id" VARCHAR,
  "amount_cents" BIGINT,
  "refund_iban" VARCHAR,
  "decided_by" VARCHAR,
  "booking_date" DATE
);

CREATE TABLE day_closes (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "kind" VARCHAR,
  "account_iban" VARCHAR,
  "currency" VARCHAR,
  "booking_date" DATE,
  "corrected_date" DATE,
  "statement_nos" VARCHAR,
  "n_statements" INTEGER,
  "last_sequence_no" BIGINT,
  "opening_cents" BIGINT,
  "credits_cents" BIGINT,
  "debits_cents" BIGINT,
  "closing_cents" BIGINT,
  "book_opening_cents" BIGINT,
  "booked_cents" BIGINT,
  "book_closing_cents" BIGINT,
  "difference_cents" BIGINT,
  "n_transactions" BIGINT,
  "missing_statements" VARCHAR,
  "n_unresolved" BIGINT,
  "unresolved_cents" BIGINT,
  "status" VARCHAR,
  "note" VARCHAR,
  "closed_on" DATE
);

CREATE TABLE issues (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "source_path" VARCHAR,
  "locator" VARCHAR,
  "severity" VARCHAR,
  "code" VARCHAR,
  "message" VARCHAR,
  "raw" VARCHAR,
  "booking_date" DATE
);

CREATE TABLE audit_events (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "at" TIMESTAMPTZ,
  "event" VARCHAR,
  "subject" VARCHAR,
  "detail" VARCHAR
);
