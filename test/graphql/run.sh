#!/usr/bin/env bash
# Builds the server, starts it on a free loopback port with a throw-away
# embedded PostgreSQL (test/serve.sh), and runs the GraphQL checks of a real
# client against it: the graphql-http conformance audit, introspection by
# graphql-js, the committed schema.graphql against what the server serves,
# and subscriptions through graphql-ws and graphql-sse.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# graphql-sse came later than graphql-http: a node_modules without it is stale.
[ -d "$here/node_modules/graphql-http" ] && [ -d "$here/node_modules/graphql-sse" ] ||
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
source "$here/../serve.sh"

cd "$here"
status=0
node audit.mjs "$url/graphql" || status=1
node introspect.mjs "$url/graphql" "$root/schema.graphql" || status=1
node subscribe.mjs "$url/graphql" || status=1
if [ "$status" -ne 0 ]; then
	echo "--- server log"; tail -n 50 "$tmp/server.log"
fi
exit "$status"
