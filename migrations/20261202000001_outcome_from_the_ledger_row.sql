-- A call's idempotency record shrinks to what the ledger row does not already say, and
-- the ledger's lookups by (provider, round or referenced id, player) go through 16-byte
-- keys instead of three texts.
--
-- Before: one row per call keyed by the text pair (provider_id, transaction_id), with
-- the whole outcome as JSONB and a 32-byte fingerprint; an applied call's outcome
-- repeated its ledger row (the wallet transaction id, the balance after it, the
-- currency, the linked bet), and the ledger kept a second unique index on the same
-- text pair.
--
-- After: one row per call keyed by `call_key(provider_id, transaction_id)`, holding the
-- first 16 bytes of the call's fingerprint and either the id of its ledger row (applied:
-- the receipt is rendered from that row) or its refusal (refused: nothing else records
-- it). This key is the only thing that makes a (provider, transaction_id) unique; it
-- does not depend on the ledger's layout, so the ledger can later be split by time
-- while every call stays known forever.

-- The key of a provider's transaction id: the first 16 bytes of a SHA-256 (a provider
-- cannot make two of its ids share a key). PostgreSQL text holds no NUL byte, so the
-- separator makes the pair unambiguous; the database's encoding does not change it.
-- STABLE, as convert_to is: a SQL function is inlined into the calling query only when
-- it claims no more than its body, so the key costs a few expressions, not a call.
CREATE FUNCTION call_key(provider_id TEXT, transaction_id TEXT) RETURNS UUID
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
    SELECT encode(substring(sha256(convert_to(provider_id, 'UTF8') || '\x00'::bytea
                                   || convert_to(transaction_id, 'UTF8')) FROM 1 FOR 16),
                  'hex')::uuid
$$;

-- The index key of a ledger lookup by (provider, id, player): an MD5, IMMUTABLE so that
-- an index can be built on it. Queries compare the texts as well, so two triples
-- sharing a key cost one more row read, never a wrong row; the lengths keep the
-- triples apart.
CREATE FUNCTION ledger_key(provider_id TEXT, id TEXT, player_id TEXT) RETURNS UUID
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT md5(length(provider_id)::text || ':' || provider_id || ':'
               || length(id)::text || ':' || id || ':' || player_id)::uuid
$$;

ALTER TABLE idempotency_keys RENAME TO idempotency_keys_before;
ALTER INDEX idempotency_keys_pkey RENAME TO idempotency_keys_before_pkey;

CREATE TABLE idempotency_keys (
    key         UUID PRIMARY KEY,
    fingerprint BYTEA NOT NULL,
    -- The applied call's ledger row (no foreign key: the ledger row is written by the
    -- same statement, and ledger rows are never deleted while their key is live).
    ledger_id   UUID,
    -- The refused call's `{"reason", "balance", "currency"}`, amounts in minor units.
    refusal     JSONB,
    CONSTRAINT idempotency_keys_one_outcome CHECK ((ledger_id IS NULL) <> (refusal IS NULL))
);

INSERT INTO idempotency_keys (key, fingerprint, ledger_id, refusal)
SELECT call_key(b.provider_id, b.transaction_id), substring(b.fingerprint FROM 1 FOR 16),
       (b.outcome #>> '{applied,wallet_transaction_id}')::uuid,
       b.outcome -> 'refused'
FROM idempotency_keys_before b;

-- An applied record is dropped only where its ledger row renders the same receipt;
-- anything else stops the upgrade with the first offending key, changing nothing.
DO $$
DECLARE
    bad RECORD;
BEGIN
    SELECT b.provider_id, b.transaction_id INTO bad
    FROM idempotency_keys_before b
    LEFT JOIN transactions t ON t.id = (b.outcome #>> '{applied,wallet_transaction_id}')::uuid
    WHERE b.outcome ? 'applied'
      AND (t.id IS NULL
           OR t.provider_id <> b.provider_id
           OR t.transaction_id <> b.transaction_id
           OR t.currency <> b.outcome #>> '{applied,currency}'
           OR t.balance_after <> b.outcome #> '{applied,balance}'
           OR (CASE WHEN t.reference_id IS NOT NULL THEN t.reference_transaction_id END)
              IS DISTINCT FROM b.outcome #>> '{applied,linked_bet}')
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'the applied record of (%, %) does not match its ledger row',
            bad.provider_id, bad.transaction_id;
    END IF;

    SELECT t.provider_id, t.transaction_id INTO bad
    FROM transactions t
    LEFT JOIN idempotency_keys k ON k.key = call_key(t.provider_id, t.transaction_id)
    WHERE k.ledger_id IS DISTINCT FROM t.id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'the ledger row of (%, %) has no applied record',
            bad.provider_id, bad.transaction_id;
    END IF;
END
$$;

DROP TABLE idempotency_keys_before;

-- The key now says which call a (provider, transaction_id) is; the ledger's own unique
-- index on the pair served nothing else.
ALTER TABLE transactions DROP CONSTRAINT transactions_provider_id_transaction_id_key;

-- The round and reference lookups by key: 16 bytes an entry instead of the three texts.
DROP INDEX transactions_round_idx;
CREATE INDEX transactions_round_idx ON transactions (ledger_key(provider_id, round_id, player_id))
    WHERE round_id IS NOT NULL;
DROP INDEX transactions_reference_idx;
CREATE INDEX transactions_reference_idx
    ON transactions (ledger_key(provider_id, reference_transaction_id, player_id))
    WHERE kind IN ('win', 'rollback') AND reference_transaction_id IS NOT NULL;
-- The planner ignores the statistics of a partial index's expression; without these it
-- guesses 0.5 % of the table per key and combines the key index with the player index.
CREATE STATISTICS transactions_round_key ON (ledger_key(provider_id, round_id, player_id))
    FROM transactions;
CREATE STATISTICS transactions_reference_key
    ON (ledger_key(provider_id, reference_transaction_id, player_id)) FROM transactions;
ANALYZE transactions;
