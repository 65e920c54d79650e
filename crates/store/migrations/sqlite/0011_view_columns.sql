-- The columns a saved view's ticket table shows: a JSON array of column ids
-- (`number`, `subject`, …, `field.<key>`) in their order; NULL shows the default columns.
ALTER TABLE views ADD COLUMN columns TEXT;
