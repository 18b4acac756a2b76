#!/usr/bin/env bash
# Make a signed provider call with curl:
#
#   scripts/sign.sh ENDPOINT 'JSON BODY' [extra curl arguments]
#   scripts/sign.sh bet '{"transaction_id":"b1","player_id":"p1",...}'
#
# ENDPOINT is balance, bet, win or rollback (POST /v1/wallet/ENDPOINT). The signature is
# lowercase hex HMAC-SHA256(secret, "<X-Timestamp>.<path>.<body>") over the path
# (/v1/wallet/ENDPOINT) and the exact body sent.
#
# Environment (defaults in brackets):
#   WALLET_URL [http://127.0.0.1:8080]  PROVIDER_ID [demo]  PROVIDER_SECRET [demo-secret]
set -euo pipefail

if [[ $# -lt 2 ]]; then
    sed -n '2,12p' "$0" >&2
    exit 2
fi
endpoint=$1
body=$2
shift 2
url=${WALLET_URL:-http://127.0.0.1:8080}
provider=${PROVIDER_ID:-demo}
secret=${PROVIDER_SECRET:-demo-secret}
timestamp=$(date +%s)
path="/v1/wallet/$endpoint"
signature=$(printf '%s.%s.%s' "$timestamp" "$path" "$body" |
    openssl dgst -sha256 -hmac "$secret" -r | cut -d' ' -f1)

exec curl -sS -X POST "$url$path" \
    -H 'content-type: application/json' \
    -H "x-provider-id: $provider" \
    -H "x-timestamp: $timestamp" \
    -H "x-signature: $signature" \
    --data-binary "$body" "$@"
