# Sourced by the checks under test/ that need a live server: builds the
# server and starts it on a free loopback port with a throw-away embedded
# PostgreSQL. Sets $url (http://127.0.0.1:PORT) and $tmp, and an EXIT trap
# that stops the server and removes $tmp. Extra settings come from the
# environment (DOCS_ASSETS_DIR, GRAPHIQL_ASSETS_DIR, …).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp" # the embedded cluster runs as an unprivileged account
pid=""
stop_server() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap stop_server EXIT

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
