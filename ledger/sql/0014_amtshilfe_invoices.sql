-- Migration 14 (frozen): the items of the cost invoices to the requesting creditors of Amtshilfe requests
-- (issue 18 §3, § 5 Abs. 1 VO VwVG NRW; docs/AMTSHILFE.md "Cost invoice per period").
CREATE TABLE amtshilfe_invoice_items (
  "tenant" VARCHAR,
  "run_id" VARCHAR,
  "invoice_id" VARCHAR,
  "kassenzeichen" VARCHAR,
  "item_id" VARCHAR,
  "creditor_id" VARCHAR,
  "period_from" DATE,
  "period_to" DATE,
  "item" VARCHAR,
  "creditor_file_number" VARCHAR,
  "case_number" VARCHAR,
  "item_date" DATE,
  "amount_cents" BIGINT,
  "description" VARCHAR,
  "invoiced_on" DATE
);
