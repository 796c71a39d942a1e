-- Migration 5 (frozen): what the weekly dunning run reads of a claim beyond the base: the notice date
-- (Bekanntgabe of the Leistungsbescheid) and the export's block reason. Rows of earlier exports: null.
ALTER TABLE open_items ADD COLUMN "notice_date" DATE;
ALTER TABLE open_items ADD COLUMN "block_reason" VARCHAR;
ALTER TABLE claims ADD COLUMN "notice_date" DATE;
ALTER TABLE claims ADD COLUMN "block_reason" VARCHAR;
