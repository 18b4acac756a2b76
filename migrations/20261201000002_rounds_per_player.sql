-- A round is (provider, round_id, player_id): several players may play one round id (a
-- live table), each in a round of their own, and no check of one player reads another
-- player's rows.
ALTER TABLE rounds DROP CONSTRAINT rounds_pkey;
ALTER TABLE rounds ADD PRIMARY KEY (provider_id, round_id, player_id);

-- A round's ledger rows are read per player.
DROP INDEX transactions_round_idx;
CREATE INDEX transactions_round_idx ON transactions (provider_id, round_id, player_id)
    WHERE round_id IS NOT NULL;

-- Wins and rollbacks by the provider id of the bet they settle or reverse: a bet is
-- settled by any win linked to it, whatever round that win names, and rollbacks of ids
-- never seen are tombstones.
DROP INDEX transactions_rollback_ref_idx;
CREATE INDEX transactions_reference_idx
    ON transactions (provider_id, reference_transaction_id, player_id)
    WHERE kind IN ('win', 'rollback') AND reference_transaction_id IS NOT NULL;
