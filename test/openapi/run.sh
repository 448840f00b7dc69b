#!/usr/bin/env bash
# Lints the legacy API's OpenAPI document with Redocly's CLI, as a live
# server serves it (JSON and YAML), under the rules of redocly.yaml.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

[ -x "$here/node_modules/.bin/redocly" ] || (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
source "$here/../serve.sh"

curl -fsS "$url/api/openapi.json" -o "$tmp/openapi.json"
curl -fsS "$url/api/openapi.yaml" -o "$tmp/openapi.yaml"
cd "$here"
# Redocly would otherwise report usage to its servers, which CI cannot reach.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
status=0
for f in openapi.json openapi.yaml; do
	node_modules/.bin/redocly lint --config redocly.yaml --max-problems 100 "$tmp/$f" || status=1
done
exit "$status"
