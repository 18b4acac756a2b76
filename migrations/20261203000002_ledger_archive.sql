-- What stays in the database when a month of the ledger is archived (`wallet archive`):
-- the month's partition goes (its rows are in the archive file), and these small tables
-- keep every invariant that named one of its rows.

-- One row per archived month: where its file is and what it must hash to.
CREATE TABLE ledger_archives (
    -- The first day of the archived UTC month.
    month       DATE PRIMARY KEY,
    partition   TEXT NOT NULL,
    row_count   BIGINT NOT NULL,
    file        TEXT NOT NULL,
    bytes       BIGINT NOT NULL,
    -- SHA-256 of the file, lower-case hex.
    sha256      TEXT NOT NULL,
    archived_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Each player's ledger as far as it is archived: the last archived row's seq and
-- balance_after. A player's live rows continue from here (their first seq is `seq + 1`,
-- their first balance_after follows from `balance`), and `balance` is the sum of every
-- archived movement of the player (the archive checks both before it drops a month).
CREATE TABLE ledger_carried (
    player_id TEXT PRIMARY KEY,
    seq       BIGINT NOT NULL,
    balance   JSONB NOT NULL,
    -- The last archived month the player had rows in.
    through   DATE NOT NULL
);

-- The receipt of every applied call whose ledger row was archived: what a resend of the
-- call answers (its idempotency record, which stays, names `ledger_id`), and what a
-- rollback naming it needs to know (whose call it was and of which kind).
CREATE TABLE ledger_receipts (
    ledger_id      UUID PRIMARY KEY,
    provider_id    TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    player_id      TEXT NOT NULL,
    kind           TEXT NOT NULL,
    currency       TEXT NOT NULL,
    balance_after  JSONB NOT NULL,
    -- The provider's id of the bet a win settled or a rollback reversed.
    linked_bet     TEXT
);

-- The archived tombstones: rollbacks of an id the wallet had not seen. A bet (or a win
-- naming that bet) arriving with that id is still refused as rolled back.
CREATE TABLE ledger_tombstones (
    -- ledger_key(provider_id, reference_transaction_id, player_id)
    key                      UUID PRIMARY KEY,
    provider_id              TEXT NOT NULL,
    reference_transaction_id TEXT NOT NULL,
    player_id                TEXT NOT NULL,
    ledger_id                UUID NOT NULL
);
