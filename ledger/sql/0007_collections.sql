-- Migration 7 (frozen): the collection record of the SEPA collection job (jobs/collect/) and the returns
-- matched to it (booked by the nightly).
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
