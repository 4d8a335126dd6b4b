#!/usr/bin/env bash
# `make run`: start the auth server, the gateway and a demo upstream on the
# embedded defaults (SQLite file under var/, in-memory caches), seed a demo
# tenant on first start, and print how to get a token and call the gateway.
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=bin
AS_CONFIG=deploy/local/authserver.yaml
GW_CONFIG=deploy/local/gateway.yaml
mkdir -p var
authserver() { "$BIN/authserver" "$@" --config "$AS_CONFIG"; }

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

wait_ready() { # name url
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "run: $1 did not become ready at $2 (see var/$1.log)" >&2
  exit 1
}

authserver migrate >/dev/null

# Seed once: an account, an application, a user holding developer on it, and
# a confidential client that may use the password and client_credentials grants.
if [ ! -f var/demo.env ]; then
  password=$(head -c 12 /dev/urandom | base64 | tr -d '+/=')
  authserver account create --name demo --display-name "Demo Inc." >/dev/null
  authserver application create --account demo --name api >/dev/null
  printf '%s' "$password" | authserver user create --username alice --email alice@example.com --password-stdin >/dev/null
  authserver role grant --username alice --role developer --account demo --application api >/dev/null
  client_json=$(authserver client create --name demo-cli --grant-types password,refresh_token,client_credentials --output json)
  client_id=$(printf '%s' "$client_json" | sed -n 's/.*"client_id": *"\([^"]*\)".*/\1/p')
  client_secret=$(printf '%s' "$client_json" | sed -n 's/.*"client_secret": *"\([^"]*\)".*/\1/p')
  umask 077
  cat > var/demo.env <<ENV
DEMO_PASSWORD=$password
CLIENT_ID=$client_id
CLIENT_SECRET=$client_secret
ENV
fi
# The gateway follows the auth server's revocation feed (no Redis here), so
# logout and role changes reach it within the poll interval.
if ! grep -q '^GATEWAY_CLIENT_ID=' var/demo.env; then
  gw_json=$(authserver client create --name gateway --grant-types client_credentials --scopes revocations --output json)
  printf 'GATEWAY_CLIENT_ID=%s\nGATEWAY_CLIENT_SECRET=%s\n' \
    "$(printf '%s' "$gw_json" | sed -n 's/.*"client_id": *"\([^"]*\)".*/\1/p')" \
    "$(printf '%s' "$gw_json" | sed -n 's/.*"client_secret": *"\([^"]*\)".*/\1/p')" >> var/demo.env
fi
# shellcheck disable=SC1091
. var/demo.env

"$BIN/demo-upstream" -listen 127.0.0.1:8081 >var/demo-upstream.log 2>&1 & pids+=($!)
"$BIN/authserver" serve --config "$AS_CONFIG" >var/authserver.log 2>&1 & pids+=($!)
wait_ready authserver http://127.0.0.1:9096/readyz
PORTCULLIS_REVOCATION_FEED=http://127.0.0.1:9096/oauth2/revocations \
PORTCULLIS_REVOCATION_CLIENT_ID="$GATEWAY_CLIENT_ID" \
PORTCULLIS_REVOCATION_CLIENT_SECRET="$GATEWAY_CLIENT_SECRET" \
  "$BIN/gateway" serve --config "$GW_CONFIG" >var/gateway.log 2>&1 & pids+=($!)
wait_ready gateway http://127.0.0.1:8080/readyz

cat <<MSG

Portcullis is running (logs in var/*.log, Ctrl-C stops it):
  auth server  http://127.0.0.1:9096   (SQLite: var/portcullis.db)
  gateway      http://127.0.0.1:8080   (config: $GW_CONFIG)
  upstream     http://127.0.0.1:8081   (demo JSON echo)

Get a token for alice (developer of demo/api):
  TOKEN=\$(curl -s -u '$CLIENT_ID:$CLIENT_SECRET' \\
    -d grant_type=password -d username=alice -d 'password=$DEMO_PASSWORD' \\
    http://127.0.0.1:9096/oauth2/token | sed -n 's/.*"access_token":"\\([^"]*\\)".*/\\1/p')

Call the gateway:
  curl -s http://127.0.0.1:8080/public/hello                                    # public: 200
  curl -si http://127.0.0.1:8080/whoami                                         # no token: 401
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8080/whoami          # any valid token: 200
  curl -s -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8080/accounts/demo/apps/api/items   # developer: 200
  curl -si -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8080/accounts/other/apps/api/items # wrong account: 403

Log out; within the feed's 2s poll the gateway refuses the token:
  curl -s -X POST -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:9096/oauth2/logout
  sleep 2; curl -si -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8080/whoami        # 401 token revoked

Browser login (authorization code + PKCE) and the admin API: see README.md.

MSG
wait -n "${pids[@]}"
echo "run: a process exited; stopping (see var/*.log)" >&2
