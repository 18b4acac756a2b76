-- The idempotency record keeps a money call's outcome as data, not as the v1 response
-- body: every protocol renders its own answer (replays included) from it.
--
--   {"applied": {"wallet_transaction_id", "balance": {category: minor units},
--                "currency", "linked_bet"}}
--   {"refused": {"reason", "balance": {category: minor units}, "currency"}}
--
-- Rows recorded before this migration hold v1 bodies (status 200 or 422) and are
-- converted here. Their balances are decimal strings written with exactly the
-- currency's decimals, so dropping the point gives minor units.
ALTER TABLE idempotency_keys ADD COLUMN outcome JSONB;

CREATE FUNCTION pg_temp.minor_units(balance JSONB) RETURNS JSONB LANGUAGE sql AS $$
    SELECT coalesce(jsonb_object_agg(key, replace(value #>> '{}', '.', '')::bigint), '{}')
    FROM jsonb_each(balance) WHERE key <> 'total'
$$;

UPDATE idempotency_keys i SET outcome = CASE
    WHEN i.status_code = 200 THEN jsonb_build_object('applied', jsonb_build_object(
        'wallet_transaction_id', i.response ->> 'wallet_transaction_id',
        'balance', pg_temp.minor_units(i.response -> 'balance'),
        'currency', i.response ->> 'currency',
        'linked_bet', (SELECT t.reference_transaction_id FROM transactions t
                       WHERE t.provider_id = i.provider_id
                         AND t.transaction_id = i.transaction_id
                         AND t.reference_id IS NOT NULL)))
    ELSE jsonb_build_object('refused', jsonb_build_object(
        'reason', CASE
            WHEN i.response #>> '{error,code}' = 'transaction_rolled_back'
             AND i.response #>> '{error,message}' = 'the bet of this win was rolled back'
                THEN 'bet_rolled_back'
            WHEN i.response #>> '{error,code}' = 'insufficient_funds'
             AND i.response #>> '{error,message}' = 'not enough cash to withdraw'
                THEN 'insufficient_cash'
            ELSE i.response #>> '{error,code}'
        END,
        'balance', pg_temp.minor_units(i.response #> '{error,balance}'),
        'currency', i.response #>> '{error,currency}'))
END;

ALTER TABLE idempotency_keys ALTER COLUMN outcome SET NOT NULL;
ALTER TABLE idempotency_keys DROP COLUMN status_code;
ALTER TABLE idempotency_keys DROP COLUMN response;
