-- What `wallet archive` keeps, second version.
--
-- * A bet's receipt says whether a rollback reversed it, so that a second rollback of an
--   archived bet that was rolled back succeeds without moving money, as it does live.
--   The archive sets it from the bet's own month and, when a later month holding the
--   rollback is archived, from that month; until then the rollback is a live row that
--   the rollback rule reads. No default: whatever writes a receipt says.
-- * Receipts no longer repeat the call's provider and transaction id: the idempotency
--   record that names a receipt holds the call's key (a hash of the two), and the
--   archive file holds the texts.
-- * Archived tombstones are keyed by the ids they refuse, not by a hash of them, so no
--   two tombstones can ever share a key.
-- * `ledger_archive_lock()`: the advisory lock an archive takes exclusively and
--   `wallet check-ledger` shared, so that neither starts while the other runs.
--
-- ledger_archives.partition and .row_count, ledger_carried.through and
-- ledger_tombstones.ledger_id are records for the operator: nothing reads them.

ALTER TABLE ledger_receipts ADD COLUMN reversed BOOLEAN;
UPDATE ledger_receipts b
SET reversed = b.kind = 'bet' AND (
        EXISTS (SELECT 1 FROM transactions r
                WHERE ledger_key(r.provider_id, r.reference_transaction_id, r.player_id)
                      = ledger_key(b.provider_id, b.transaction_id, b.player_id)
                  AND r.kind = 'rollback' AND r.reference_id = b.ledger_id)
        OR EXISTS (SELECT 1 FROM ledger_receipts r
                   WHERE r.kind = 'rollback' AND r.provider_id = b.provider_id
                     AND r.player_id = b.player_id AND r.linked_bet = b.transaction_id));
ALTER TABLE ledger_receipts
    ALTER COLUMN reversed SET NOT NULL,
    DROP COLUMN provider_id,
    DROP COLUMN transaction_id;

ALTER TABLE ledger_tombstones
    DROP COLUMN key,
    ADD PRIMARY KEY (provider_id, reference_transaction_id, player_id);

CREATE FUNCTION ledger_archive_lock() RETURNS BIGINT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT 7305680214871302402::bigint
$$;
