-- Migration 4 (frozen): learned matching rules (ledger/rule_journal.py, matching/learned.py). A row per
-- change of a rule's state; an allocation a learned rule made carries its rule_id.
CREATE TABLE match_rules (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "rule_id" VARCHAR,
  "kind" VARCHAR,
  "key" VARCHAR,
  "target" VARCHAR,
  "evidence_count" BIGINT,
  "evidence_users" VARCHAR,
  "proposed_by" VARCHAR,
  "proposed_at" VARCHAR,
  "approved_by" VARCHAR,
  "approved_at" VARCHAR,
  "valid_until" DATE,
  "revoked_by" VARCHAR,
  "revoked_at" VARCHAR,
  "reason" VARCHAR,
  "state" VARCHAR,
  "as_of" DATE
);
ALTER TABLE allocations ADD COLUMN "rule_id" VARCHAR;
