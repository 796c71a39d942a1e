-- Migration 3 (frozen): the claims kernel. Stadtkasse's own claims (fees, Amtshilfe) get a table;
-- open_items gets origin, creditor and the debtor's address (rows of earlier exports: origin 'export',
-- creditor null = the tenant).
CREATE TABLE claims (
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
  "origin" VARCHAR,
  "creditor" VARCHAR,
  "debtor_street" VARCHAR,
  "debtor_postcode" VARCHAR,
  "debtor_city" VARCHAR,
  "debtor_country" VARCHAR,
  "debtor_birth_date" DATE,
  "created_at" TIMESTAMPTZ,
  "parent_receivable_id" VARCHAR
);
ALTER TABLE open_items ADD COLUMN "origin" VARCHAR DEFAULT 'export';
ALTER TABLE open_items ADD COLUMN "creditor" VARCHAR;
ALTER TABLE open_items ADD COLUMN "debtor_street" VARCHAR;
ALTER TABLE open_items ADD COLUMN "debtor_postcode" VARCHAR;
ALTER TABLE open_items ADD COLUMN "debtor_city" VARCHAR;
ALTER TABLE open_items ADD COLUMN "debtor_country" VARCHAR;
ALTER TABLE open_items ADD COLUMN "debtor_birth_date" DATE;
