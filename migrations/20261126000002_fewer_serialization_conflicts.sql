-- Serialization conflicts between different players come from SIREAD locks on pages
-- that concurrent SERIALIZABLE money movements both read and write. Two sources here:
--
-- 1. Balance updates that leave their heap page insert index entries into pages other
--    players' transactions have read. Room on every page keeps updates HOT.
ALTER TABLE balances SET (fillfactor = 50);

-- 2. The foreign key from a win or rollback to the bet it references: its check reads
--    the newest page of the ledger's primary key inside the transaction, the page every
--    concurrent movement inserts into. The ledger sets the reference only from the row
--    it has just read under the player's lock, and rows are never deleted.
ALTER TABLE transactions DROP CONSTRAINT transactions_reference_id_fkey;
