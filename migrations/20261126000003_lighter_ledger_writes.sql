-- Every money call inserts one ledger row; each index and each foreign-key check on it
-- is paid on every call.
--
-- The session index and the reference index served one query only (a win correlated
-- by session), which now walks the player's newest rows through the player index.
DROP INDEX transactions_session_idx;
DROP INDEX transactions_reference_idx;

-- The foreign keys from ledger rows and rounds to players run a lookup of the player
-- for each insert, inside the transaction that has just locked that very player row
-- (rows are written only after the player was read and locked; players are never
-- deleted).
ALTER TABLE transactions DROP CONSTRAINT transactions_player_id_fkey;
ALTER TABLE rounds DROP CONSTRAINT rounds_player_id_fkey;
