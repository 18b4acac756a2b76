-- Every ledger row carries its player's sequence number (1, 2, 3, ... in commit order),
-- and the player row the number of the last one. The order of a player's movements is
-- then explicit, so `wallet check-ledger` can replay each player's balance row by row,
-- and a gap shows a row that went missing.
ALTER TABLE players ADD COLUMN ledger_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE transactions ADD COLUMN seq BIGINT;

UPDATE transactions t SET seq = n.seq
FROM (SELECT id, row_number() OVER (PARTITION BY player_id ORDER BY id) AS seq
      FROM transactions) n
WHERE t.id = n.id;

UPDATE players p SET ledger_seq = m.seq
FROM (SELECT player_id, max(seq) AS seq FROM transactions GROUP BY player_id) m
WHERE p.player_id = m.player_id;

ALTER TABLE transactions ALTER COLUMN seq SET NOT NULL;
ALTER TABLE transactions ADD CONSTRAINT transactions_seq_positive CHECK (seq >= 1);

-- Every money movement now updates its player row too: room on each page keeps those
-- updates HOT (no index entries), as for balances.
ALTER TABLE players SET (fillfactor = 50);
