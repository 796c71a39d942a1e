-- Migration 8 (frozen): SEPA payouts (issue 16 §4): the payout record (one row per credit transfer in a
-- booked pain.001 file) and the set-offs (Aufrechnung) made before paying out.
CREATE TABLE payouts (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "message_id" VARCHAR,
  "pmtinf_id" VARCHAR,
  "end_to_end_id" VARCHAR,
  "source" VARCHAR,
  "source_id" VARCHAR,
  "transaction_id" VARCHAR,
  "debtor_id" VARCHAR,
  "payee_name" VARCHAR,
  "payee_iban" VARCHAR,
  "payee_bic" VARCHAR,
  "amount_cents" BIGINT,
  "execution_date" DATE,
  "remittance" VARCHAR,
  "file_name" VARCHAR,
  "file_sha256" VARCHAR,
  "prepared_by" VARCHAR,
  "released_by" VARCHAR
);
CREATE TABLE setoffs (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "source" VARCHAR,
  "source_id" VARCHAR,
  "transaction_id" VARCHAR,
  "debtor_id" VARCHAR,
  "receivable_id" VARCHAR,
  "kassenzeichen" VARCHAR,
  "claim_type" VARCHAR,
  "amount_cents" BIGINT,
  "set_off_on" DATE,
  "letter_id" VARCHAR
);
