-- Migration 15 (frozen): changes to claims of our own books after they were booked (issue 18 §3: an
-- Änderung, Rücknahme or Rückgabe of a foreign creditor's request), and the claim each Amtshilfe notice is
-- booked as. The claims table stays append-only; the latest change of a claim (created_at, seq) wins
-- (docs/AMTSHILFE.md "Changes to a request").
CREATE TABLE claim_changes (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "change_id" VARCHAR,
  "seq" BIGINT,
  "receivable_id" VARCHAR,
  "change" VARCHAR,
  "amount_cents" BIGINT,
  "before_cents" BIGINT,
  "allocated_cents" BIGINT,
  "effective_on" DATE,
  "reason" VARCHAR,
  "source_id" VARCHAR,
  "created_at" TIMESTAMPTZ
);
ALTER TABLE amtshilfe_notices ADD COLUMN "receivable_id" VARCHAR;
