-- Initial schema of the wallet: players and their category balances, game sessions,
-- rounds, the append-only ledger, and the idempotency record of every money call.
-- Amounts are integers of the currency's smallest unit.

CREATE TABLE players (
    player_id   TEXT PRIMARY KEY,
    currency    TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per (player, category). A category never goes negative.
CREATE TABLE balances (
    player_id   TEXT NOT NULL REFERENCES players (player_id),
    category    TEXT NOT NULL,
    amount      BIGINT NOT NULL DEFAULT 0 CHECK (amount >= 0),
    PRIMARY KEY (player_id, category)
);

CREATE TABLE sessions (
    session_id  UUID PRIMARY KEY,
    player_id   TEXT NOT NULL REFERENCES players (player_id),
    provider_id TEXT NOT NULL,
    game_id     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_player_idx ON sessions (player_id);

CREATE TABLE rounds (
    provider_id TEXT NOT NULL,
    round_id    TEXT NOT NULL,
    player_id   TEXT NOT NULL REFERENCES players (player_id),
    game_id     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    closed_at   TIMESTAMPTZ,
    PRIMARY KEY (provider_id, round_id)
);
CREATE INDEX rounds_open_idx ON rounds (opened_at) WHERE status = 'open';

-- The ledger. Rows are only ever inserted. `amount` is unsigned; its sign follows from
-- `kind` (bet and withdrawal debit, the others credit). `split` maps category to the
-- unsigned part of `amount` taken from or given to it; `balance_after` is the player's
-- balance by category once this row applied.
CREATE TABLE transactions (
    id                       UUID PRIMARY KEY,
    provider_id              TEXT NOT NULL,
    transaction_id           TEXT NOT NULL,
    player_id                TEXT NOT NULL REFERENCES players (player_id),
    kind                     TEXT NOT NULL
        CHECK (kind IN ('bet', 'win', 'rollback', 'deposit', 'withdrawal')),
    win_kind                 TEXT CHECK (win_kind IN ('win', 'promo', 'jackpot')),
    amount                   BIGINT NOT NULL CHECK (amount >= 0),
    currency                 TEXT NOT NULL,
    split                    JSONB NOT NULL,
    balance_after            JSONB NOT NULL,
    round_id                 TEXT,
    game_id                  TEXT,
    session_id               UUID,
    reference_id             UUID REFERENCES transactions (id),
    reference_transaction_id TEXT,
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (provider_id, transaction_id)
);
CREATE INDEX transactions_player_idx ON transactions (player_id, id DESC);
CREATE INDEX transactions_round_idx ON transactions (provider_id, round_id)
    WHERE round_id IS NOT NULL;
CREATE INDEX transactions_reference_idx ON transactions (reference_id)
    WHERE reference_id IS NOT NULL;
-- Rollbacks by the provider id they reverse: tombstones for bets never seen.
CREATE INDEX transactions_rollback_ref_idx ON transactions (provider_id, reference_transaction_id)
    WHERE kind = 'rollback';
CREATE INDEX transactions_session_idx ON transactions (session_id, id DESC)
    WHERE session_id IS NOT NULL AND kind = 'bet';

-- The outcome of every money call that must be replayed: successes and business
-- rejections. Written in the same database transaction as the movement it records.
CREATE TABLE idempotency_keys (
    provider_id   TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    fingerprint   BYTEA NOT NULL,
    status_code   SMALLINT NOT NULL,
    response      JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, transaction_id)
);
