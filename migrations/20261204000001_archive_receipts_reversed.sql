-- What `wallet archive` keeps, second version: a bet's receipt says whether a rollback
-- reversed it, so that a second rollback of an archived bet that was rolled back
-- succeeds without moving money, as it does live. The archive sets it from the bet's
-- own month and, when a later month holding the rollback is archived, from that month;
-- until then the rollback is a live row that the rollback rule reads.
--
-- Only added: replicas of the version before this one keep running during a rolling
-- deploy, and they read every column of the first version (the receipts' call ids, the
-- tombstones' key), which the archive keeps writing.

ALTER TABLE ledger_receipts ADD COLUMN reversed BOOLEAN NOT NULL DEFAULT false;
-- The receipts the first version wrote: a bet is reversed when a live rollback, or an
-- archived one of the same provider, player and bet id, references it.
UPDATE ledger_receipts b
SET reversed = true
WHERE b.kind = 'bet'
  AND (EXISTS (SELECT 1 FROM transactions r
               WHERE ledger_key(r.provider_id, r.reference_transaction_id, r.player_id)
                     = ledger_key(b.provider_id, b.transaction_id, b.player_id)
                 AND r.kind = 'rollback' AND r.reference_id = b.ledger_id)
       OR EXISTS (SELECT 1 FROM ledger_receipts r
                  WHERE r.kind = 'rollback' AND r.provider_id = b.provider_id
                    AND r.player_id = b.player_id AND r.linked_bet = b.transaction_id));
-- No default from here on: whatever writes a receipt says.
ALTER TABLE ledger_receipts ALTER COLUMN reversed DROP DEFAULT;
