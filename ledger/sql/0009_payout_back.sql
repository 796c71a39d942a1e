-- Migration 9 (frozen): the nightly side of SEPA payouts (issue 16 §4): the bank booked a payout, a payout
-- came back (its refund waits for a new IBAN), and the IBANs blocked for payouts after a return.
CREATE TABLE payout_bookings (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "end_to_end_id" VARCHAR,
  "pmtinf_id" VARCHAR,
  "transaction_id" VARCHAR,
  "booking_date" DATE,
  "amount_cents" BIGINT
);
CREATE TABLE payout_returns (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "end_to_end_id" VARCHAR,
  "source" VARCHAR,
  "source_id" VARCHAR,
  "debtor_id" VARCHAR,
  "payee_iban" VARCHAR,
  "reason_code" VARCHAR,
  "return_date" DATE,
  "amount_cents" BIGINT,
  "transaction_id" VARCHAR
);
CREATE TABLE payee_blocks (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "iban" VARCHAR,
  "since" DATE,
  "reason" VARCHAR,
  "end_to_end_id" VARCHAR
);
