#!/usr/bin/env bash
# The README's walk-through: every step against a running `make local`, top to bottom.
# Needs curl, openssl and python3 (JSON answers are read with python3; `jq` would do as well).
#   ADMIN_API_KEY=adm_local_operator_key_0123 LOCAL_API_KEY=wak_local_dev_key_0123456789abcdef make local &
#   ADMIN_API_KEY=adm_local_operator_key_0123 LOCAL_API_KEY=wak_local_dev_key_0123456789abcdef bash docs/walkthrough.sh
# `make test` runs it against a local hub of its own (tests/local/test_walkthrough.py).
set -euo pipefail
B=${B:-http://127.0.0.1:${PORT:-3000}} K=$LOCAL_API_KEY A=$ADMIN_API_KEY SUB_PORT=${SUB_PORT:-9000} PY=${PY:-.venv/bin/python}
api() { curl -sS --fail-with-body -H 'Content-Type: application/json' "$@"; echo; }   # stops the script on any error
field() {   # field 0.webhookId prints .data[0].webhookId of the JSON answer on stdin (as jq -r would)
  python3 -c 'import functools, json, sys
print(functools.reduce(lambda v, k: v[int(k) if k.isdigit() else k], sys.argv[1].split("."), json.load(sys.stdin)["data"]))' "$1"
}
wait_until() {   # runs "$@" every half second until it succeeds (30 s at most)
  for _ in $(seq 60); do "$@" && return; sleep 0.5; done; echo "gave up waiting for: $*" >&2; return 1
}
at_least() { [ "$(api "$1" -H "X-API-Key: $K" | field "$2")" -ge "$3" ]; }   # at_least URL FIELD N
delivered() {   # delivered TYPE...: each of these event types has a successful delivery of session $S
  api "$B/api/webhook/logs?instanceId=$S&status=success&limit=50" -H "X-API-Key: $K" | python3 -c 'import json, sys
sys.exit(not set(sys.argv[1:]) <= {log["event"] for log in json.load(sys.stdin)["data"]})' "$@"
}

# health (no key)
api $B/api/health

# operators: tenants (X-Admin-Key); a new tenant's apiKey is shown once (we keep its id, to delete it at the end)
TENANT=$(api -X POST $B/api/admin/tenants -H "X-Admin-Key: $A" -d '{"name": "acme", "plan": "default"}' | field tenantId)
api $B/api/admin/tenants -H "X-Admin-Key: $A"

# a subscriber that prints and verifies each delivery (local/subscriber.py), with a secret of our own:
# subscription secrets are whsec_ + the base64 of 24 to 64 random bytes
WHSEC=whsec_$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
$PY -m local.subscriber --secret "$WHSEC" --port "$SUB_PORT" &
SUBSCRIBER=$!; trap 'kill $SUBSCRIBER' EXIT
HOOK=http://127.0.0.1:$SUB_PORT/hook
wait_until curl -s -o /dev/null $HOOK   # listening

# register a session; its inboundSecret (for the gateway) is shown once; its receiverUrl is the gateway's URL
S=demo-$(date +%s)
CREATED=$(api -X POST $B/api/whatsapp/session -H "X-API-Key: $K" \
  -d '{"sessionId": "'$S'", "userId": "user-1", "events": ["session.*", "message.*"]}')
SECRET=$(echo "$CREATED" | field inboundSecret) RECEIVER=$(echo "$CREATED" | field receiverUrl)

# default subscription (docs/contract.md §2): our subscriber, its secret, a retry policy
api -X PUT $B/api/instance/$S -H "X-API-Key: $K" \
  -d '{"webhookUrl": "'$HOOK'", "secret": "'$WHSEC'", "events": ["session.*", "message.*"], "retry": {"attempts": 5, "delayMs": 2000}}'

# a gateway posts an event (any dialect): sign the exact body with the inbound secret
BODY='{"event":"qr","data":{"qr":"1@ABC,def,ghi"}}'
SIG=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)
api -X POST $RECEIVER -H "X-Webhook-Signature: $SIG" -d "$BODY"
# a gateway that can only be given a URL: ?token=<inboundSecret>
api -X POST "$RECEIVER?token=$SECRET" -d '{"event":"ready","data":{}}'
# dialects that carry the session in the body (WAHA session, Evolution instance, device deviceHash, wwebjs-api sessionId):
# the generated inboundSecret names its session, so it opens the shared URL too
api -X POST "$B/api/whatsapp/webhook?token=$SECRET" \
  -d '{"event":"message","session":"'$S'","payload":{"id":"m1","from":"62812@c.us","body":"hi"},"id":"evt_'$S'","timestamp":'$(date +%s)000'}'
# verification handshake: answers the challenge
api "$RECEIVER?hub.verify_token=$SECRET&hub.challenge=42"

# session state
api $B/api/whatsapp/session/status/$S -H "X-API-Key: $K"
api "$B/api/whatsapp/session/list-realtime?userId=user-1&status=connected&limit=50" -H "X-API-Key: $K"

# deliveries: the subscriber prints them as they come (three events so far); their logs, a retry, a test
wait_until delivered session.qr session.status message.received
WH=$(api "$B/api/webhook/logs?instanceId=$S&status=success&limit=50" -H "X-API-Key: $K" | field 0.webhookId)
api $B/api/webhook/logs/$WH -H "X-API-Key: $K"
api -X POST $B/api/webhook/retry/$WH -H "X-API-Key: $K"
wait_until at_least $B/api/webhook/logs/$WH attempts 2
api -X POST $B/api/webhook/test -H "X-API-Key: $K" -d '{"url": "'$HOOK'", "secret": "'$WHSEC'"}'
api "$B/api/webhook/stats?instanceId=$S&days=7" -H "X-API-Key: $K"

# usage for pay-per-use billing
api "$B/api/usage?days=30" -H "X-API-Key: $K"

# clean up: logs, the session, the tenant
api -X DELETE $B/api/webhook/logs -H "X-API-Key: $K" -d '{"instanceId": "'$S'", "days": 0}'
api -X DELETE $B/api/whatsapp/session/$S -H "X-API-Key: $K"
api -X DELETE $B/api/admin/tenants/$TENANT -H "X-Admin-Key: $A"
echo "walk-through done"
