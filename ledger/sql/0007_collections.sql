-- Migration 7 (frozen): the SEPA collection job (jobs/collect/): the collection record, the returns matched
-- to it (booked by the nightly), the mandate register as events and the Mandatsänderungen seen.
CREATE TABLE collections (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "message_id" VARCHAR,
  "pmtinf_id" VARCHAR,
  "end_to_end_id" VARCHAR,
  "receivable_id" VARCHAR,
  "kassenzeichen" VARCHAR,
  "debtor_id" VARCHAR,
  "mandate_id" VARCHAR,
  "debtor_iban" VARCHAR,
  "sequence_type" VARCHAR,
  "collection_date" DATE,
  "due_date" DATE,
  "amount_cents" BIGINT,
  "file_name" VARCHAR,
  "file_sha256" VARCHAR,
  "prepared_by" VARCHAR,
  "released_by" VARCHAR
);
CREATE TABLE collection_returns (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "end_to_end_id" VARCHAR,
  "receivable_id" VARCHAR,
  "mandate_id" VARCHAR,
  "reason_code" VARCHAR,
  "return_date" DATE,
  "amount_cents" BIGINT,
  "transaction_id" VARCHAR
);
CREATE TABLE mandates (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "mandate_id" VARCHAR,
  "mandate_date" DATE,
  "debtor_id" VARCHAR,
  "debtor_name" VARCHAR,
  "debtor_iban" VARCHAR,
  "debtor_bic" VARCHAR,
  "recurring" BOOLEAN,
  "problem" VARCHAR,
  "original_iban" VARCHAR,
  "amended_on" DATE
);
CREATE TABLE mandate_amendments (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "mandate_id" VARCHAR,
  "field" VARCHAR,
  "old_value" VARCHAR,
  "new_value" VARCHAR,
  "seen_on" DATE
);
