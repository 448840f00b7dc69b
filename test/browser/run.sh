#!/usr/bin/env bash
# Renders Swagger UI (/api/docs), ReDoc (/api/redoc) and GraphiQL (/graphql)
# from a live server in headless Chromium (Debian's /usr/bin/chromium,
# driven by playwright-core, which never downloads a browser of its own),
# with their assets served by the server itself: DOCS_ASSETS_DIR and
# GRAPHIQL_ASSETS_DIR must be set (`make test-browser` sets them, fetching
# the files first when needed). Screenshots go to test/browser/screenshots/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

: "${DOCS_ASSETS_DIR:?set it to the directory make docs-assets fills}"
: "${GRAPHIQL_ASSETS_DIR:?set it to the directory make graphiql-assets fills}"
export DOCS_ASSETS_DIR GRAPHIQL_ASSETS_DIR
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "no Chromium at $chromium (apt-get install chromium)"; exit 1; }

[ -d "$here/node_modules/playwright-core" ] ||
	(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
source "$here/../serve.sh"

rm -rf "$here/screenshots" && mkdir -p "$here/screenshots"
cd "$here"
status=0
CHROMIUM="$chromium" node pages.mjs "$url" "$here/screenshots" || status=1
if [ "$status" -ne 0 ]; then
	echo "--- server log"; tail -n 50 "$tmp/server.log"
fi
exit "$status"
