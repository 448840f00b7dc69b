#!/usr/bin/env bash
# Builds the server, starts it on a free loopback port with a throw-away
# embedded PostgreSQL, and runs the GraphQL checks of a real client against
# it: the graphql-http conformance audit, introspection by graphql-js, and
# the committed schema.graphql against what the server serves.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/graphql"

[ -d "$here/node_modules/graphql-http" ] || (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

tmp=$(mktemp -d)
chmod 755 "$tmp" # the embedded cluster runs as an unprivileged account
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$root" && go build -o "$tmp/conduit" .)
touch "$tmp/server.log"
ADDR=127.0.0.1:0 DATA_DIR="$tmp/pg" BCRYPT_COST=4 LOG_FORMAT=json LOG_LEVEL=info \
	"$tmp/conduit" >"$tmp/server.log" 2>&1 &
pid=$!

url=""
for _ in $(seq 1 600); do
	url=$(grep -o '"addr":"http://[^"]*"' "$tmp/server.log" | head -n1 | sed 's/"addr":"//; s/"$//') || true
	[ -n "$url" ] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "server exited before listening:"; cat "$tmp/server.log"; exit 1
	fi
	sleep 0.1
done
[ -n "$url" ] || { echo "server did not start:"; cat "$tmp/server.log"; exit 1; }

cd "$here"
status=0
node audit.mjs "$url/graphql" || status=1
node introspect.mjs "$url/graphql" "$root/schema.graphql" || status=1
if [ "$status" -ne 0 ]; then
	echo "--- server log"; tail -n 50 "$tmp/server.log"
fi
exit "$status"
