#!/usr/bin/env bash
# Builds the image from the Dockerfile with podman and runs it as a
# deployment runs it: against a PostgreSQL on loopback TCP with a
# password, the JWT secret in a mounted file. Checks the compose file
# against the Compose Specification, the image's configuration, contents
# and size, the probes, a REST and a GraphQL call through the container,
# that the process runs unprivileged, the HEALTHCHECK, a clean exit on the
# STOPSIGNAL, and the one-line refusal without DATABASE_URL.
#
# No registry can be reached here, so the Dockerfile's base images are
# stand-ins assembled from the host: the Go toolchain on scratch for the
# builder, and scratch with the host's CA certificates and time zone data
# for the final stage. Modules come from the host's cache, read-only.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/container"
# The goal was under 25 MB; the image is about 26.6 MB, 25.3 of them the
# stripped binary, of which OpenTelemetry's OTLP exporter (protobuf and the
# gRPC packages it needs even over HTTP) takes about 3.7. The bound is a
# tripwire for what nobody meant to add: 28 MiB.
max_image_bytes=${MAX_IMAGE_BYTES:-29360128}
image=localhost/conduit:ci
go_image=localhost/conduit-stand-in/go:ci
base_image=localhost/conduit-stand-in/base:ci

step() { printf 'container: %s (%ds)\n' "$*" "$SECONDS"; }
fail() { printf 'container: FAIL: %s\n' "$*" >&2; exit 1; }
for tool in podman runc curl jq go tar; do
	command -v "$tool" >/dev/null || fail "$tool is missing (.ci/run installs podman and runc)"
done
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -x "$pgbin/initdb" ] || fail "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
[ -f /etc/ssl/certs/ca-certificates.crt ] || fail "no /etc/ssl/certs/ca-certificates.crt (Debian: ca-certificates)"
[ -d /usr/share/zoneinfo ] || fail "no /usr/share/zoneinfo (Debian: tzdata)"

step "compose.yaml against the Compose Specification (compose-go)"
(cd "$here/composecheck" && go vet . && go test -count=1 .)

# The vfs storage driver copies every layer whole: on disk, not in memory.
tmp=$(mktemp -d /var/tmp/conduit-container.XXXXXX)
chmod 755 "$tmp" # PostgreSQL runs as an unprivileged account and must reach it
ctr=conduit-ci-$$
pgctl=""
store="" # set once podman is pointed at the private store
status=1
cleanup() {
	if [ -n "$store" ]; then
		if [ "$status" -ne 0 ]; then
			[ ! -s "$tmp/podman.log" ] || { echo "--- podman"; tail -n 20 "$tmp/podman.log"; }
			! podman container exists "$ctr" || { echo "--- container log"; podman logs "$ctr" 2>&1 | tail -n 40; }
		fi
		podman rm -f -t 0 "$ctr" "$ctr-refusal" >/dev/null 2>&1 || true
	fi
	if [ -n "$pgctl" ]; then
		$pgctl -m fast -w stop >/dev/null 2>&1 || true
		[ "$status" -eq 0 ] || { echo "--- PostgreSQL log"; tail -n 20 "$tmp/pg/log" 2>/dev/null || true; }
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# containers.md: runc with cgroupfs (crun fails on this sandbox's cgroups),
# no ulimits (setrlimit is refused), vfs storage, and a private store so a
# run leaves nothing behind.
cat >"$tmp/containers.conf" <<EOF
[containers]
default_ulimits = []
log_driver = "k8s-file"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
cat >"$tmp/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$tmp/run"
graphroot = "$tmp/storage"
EOF
export CONTAINERS_CONF="$tmp/containers.conf" CONTAINERS_STORAGE_CONF="$tmp/storage.conf"
store="$tmp/storage"

step "stand-in base images"
goroot=$(go env GOROOT)
mkdir -p "$tmp/go/tmp" && chmod 1777 "$tmp/go/tmp"
# The toolchain is statically linked: it runs on scratch. As golang:1.26 does,
# it finds the modules in GOPATH's cache and the build cache under HOME.
tar -cf - -C "$tmp/go" tmp -C / --transform "s,^${goroot#/},usr/local/go," "${goroot#/}" |
	podman import --quiet --change 'ENV PATH=/usr/local/go/bin' --change 'ENV GOPATH=/go' \
		--change 'ENV HOME=/root' --change 'ENV GOTOOLCHAIN=local' - "$go_image" >/dev/null
# What distroless/static holds that Conduit uses: CA certificates, time zone
# data (without the leap-second right/ variants) and an unprivileged account.
base="$tmp/base"
mkdir -p "$base/etc/ssl/certs" "$base/usr/share" "$base/tmp" && chmod 1777 "$base/tmp"
cp /etc/ssl/certs/ca-certificates.crt "$base/etc/ssl/certs/"
cp -a /usr/share/zoneinfo "$base/usr/share/" && rm -rf "$base/usr/share/zoneinfo/right"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$base/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$base/etc/group"
tar -cf - -C "$base" . | podman import --quiet - "$base_image" >/dev/null

step "podman build"
build_start=$SECONDS
(cd "$root" && go mod download) # the build has no network: GOPROXY=off
# --format docker: the OCI image format has no HEALTHCHECK. --layers=false:
# no intermediate images, which vfs would store as whole copies (and take
# minutes to write).
podman build --quiet --pull=never --format docker --layers=false \
	--build-arg GO_IMAGE="$go_image" --build-arg BASE_IMAGE="$base_image" \
	--build-arg GOPROXY=off --build-arg GOMODCACHE=/gomod \
	--volume "$(go env GOMODCACHE)":/gomod:ro \
	--tag "$image" "$root" >/dev/null
build_seconds=$((SECONDS - build_start))

step "image configuration, contents and size"
inspect=$(podman image inspect "$image" | jq '.[0]')
check_image() {
	jq -e "$1" >/dev/null <<<"$inspect" || fail "image: want $1, got: $(jq -c '{Config, Healthcheck}' <<<"$inspect")"
}
check_image '.Config.User == "65532:65532"'
check_image '.Config.StopSignal == "SIGTERM"'
check_image '.Config.ExposedPorts | has("8080/tcp")'
check_image '.Config.Entrypoint == ["/conduit"]'
check_image '.Config.Env | index("EMBEDDED_DATABASE=false") != null'
check_image '.Config.Env | index("CONDUIT_ENV=production") != null'
check_image '.Healthcheck.Test == ["CMD", "/conduit", "healthcheck"]'
# The Dockerfile adds the binary to the base, and nothing else.
added=$(podman image diff "$image" "$base_image" | sort | tr '\n' ' ')
[ "$added" = "A /conduit " ] || fail "the final stage adds to its base: $added; want only A /conduit"
size=$(jq .Size <<<"$inspect")
base_size=$(podman image inspect --format '{{.Size}}' "$base_image")
printf 'container: image size %d bytes (%.1f MB; the base %.1f MB); limit %d; built in %ds\n' \
	"$size" "$(jq -n "$size/1e6")" "$(jq -n "$base_size/1e6")" "$max_image_bytes" "$build_seconds"
[ "$size" -le "$max_image_bytes" ] || fail "image is $size bytes, more than $max_image_bytes"

free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	fail "no free port"
}

step "test PostgreSQL on loopback TCP, with a password"
as_pg() { "$@"; }
if [ "$(id -u)" -eq 0 ]; then
	# PostgreSQL refuses to run as root.
	account=postgres
	id "$account" >/dev/null 2>&1 || account=nobody
	as_pg() { runuser -u "$account" -- "$@"; }
fi
mkdir "$tmp/pg"
pgpass=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$pgpass" >"$tmp/pg/pw"
[ "$(id -u)" -ne 0 ] || chown -R "$account" "$tmp/pg"
pgport=$(free_port)
as_pg "$pgbin/initdb" -D "$tmp/pg/data" -U conduit --pwfile="$tmp/pg/pw" --auth=scram-sha-256 \
	-E UTF8 --no-sync >"$tmp/pg/initdb.log" 2>&1 || { cat "$tmp/pg/initdb.log"; fail "initdb"; }
pgctl="as_pg $pgbin/pg_ctl -D $tmp/pg/data"
$pgctl -l "$tmp/pg/log" -w -t 60 \
	-o "-c listen_addresses=127.0.0.1 -p $pgport -k $tmp/pg -c fsync=off" start >/dev/null
PGPASSWORD=$pgpass "$pgbin/createdb" -h 127.0.0.1 -p "$pgport" -U conduit conduit

step "the image refuses to start without DATABASE_URL, in one line"
secret=$(head -c 32 /dev/urandom | base64)
# The container's own output, from its log: podman itself complains on
# stderr that there is no systemd here to time health checks (`podman
# healthcheck run` runs them below).
podman run --detach --name "$ctr-refusal" --network host -e JWT_SECRET="$secret" "$image" >/dev/null 2>"$tmp/podman.log"
code=$(podman wait "$ctr-refusal")
refusal=$(podman logs "$ctr-refusal" 2>&1)
podman rm "$ctr-refusal" >/dev/null 2>>"$tmp/podman.log"
[ "$code" -eq 1 ] || fail "without DATABASE_URL: exit $code, want 1: $refusal"
[ "$(printf '%s\n' "$refusal" | wc -l)" -eq 1 ] && [[ "$refusal" == "conduit: DATABASE_URL is required"* ]] ||
	fail "without DATABASE_URL: want one line saying it is required, got: $refusal"

step "serve"
printf '%s\n' "$secret" >"$tmp/jwt_secret"
chmod 444 "$tmp/jwt_secret"
port=$(free_port)
url=http://127.0.0.1:$port
# The host's network, as containers.md says; the server keeps to loopback.
podman run --detach --name "$ctr" --network host \
	-e DATABASE_URL="postgres://conduit:$pgpass@127.0.0.1:$pgport/conduit?sslmode=disable" \
	-e JWT_SECRET_FILE=/run/secrets/jwt_secret --volume "$tmp/jwt_secret:/run/secrets/jwt_secret:ro" \
	-e ADDR="127.0.0.1:$port" -e BCRYPT_COST=4 \
	"$image" >/dev/null 2>>"$tmp/podman.log"
for _ in $(seq 1 600); do
	curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && break
	[ "$(podman inspect --format '{{.State.Running}}' "$ctr")" = true ] || fail "the container exited before serving"
	sleep 0.1
done

step "probes, REST and GraphQL through the container"
[ "$(curl -fsS "$url/healthz")" = ok ] || fail "/healthz"
[ "$(curl -fsS "$url/readyz")" = ready ] || fail "/readyz"
body=$(curl -sS -w '\n%{http_code}' -H 'Content-Type: application/json' \
	-d '{"user":{"username":"container","email":"container@example.com","password":"correct horse"}}' "$url/api/users")
[ "${body##*$'\n'}" = 201 ] || fail "POST /api/users: $body"
token=$(jq -r .user.token <<<"${body%$'\n'*}")
[ "$(curl -fsS -H "Authorization: Token $token" "$url/api/user" | jq -r .user.username)" = container ] ||
	fail "GET /api/user does not know the user just registered"
viewer=$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
	-d '{"query":"{ viewer { username } tags }"}' "$url/graphql")
[ "$(jq -r .data.viewer.username <<<"$viewer")" = container ] || fail "GraphQL viewer: $viewer"
logs=$(podman logs "$ctr" 2>&1)
grep -q '"msg":"request"' <<<"$logs" || fail "no JSON access log line (production logs JSON)"

step "unprivileged"
pid=$(podman inspect --format '{{.State.Pid}}' "$ctr")
read -r _ ruid euid suid fsuid < <(grep '^Uid:' "/proc/$pid/status")
read -r _ rgid egid sgid fsgid < <(grep '^Gid:' "/proc/$pid/status")
[ "$ruid $euid $suid $fsuid $rgid $egid $sgid $fsgid" = "65532 65532 65532 65532 65532 65532 65532 65532" ] ||
	fail "the server runs as uid $ruid/$euid/$suid/$fsuid gid $rgid/$egid/$sgid/$fsgid, want 65532"
capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
[ "$capeff" = 0000000000000000 ] || fail "the server has capabilities $capeff, want none"

step "HEALTHCHECK"
health=$(podman healthcheck run "$ctr" 2>&1) || fail "podman healthcheck run: $health"
set +e
unhealthy=$(podman exec "$ctr" /conduit healthcheck /no-such-path 2>&1)
code=$?
set -e
[ "$code" -eq 1 ] && [[ "$unhealthy" == *404* ]] || fail "healthcheck of a 404: exit $code, $unhealthy; want 1 naming 404"

step "stop: SIGTERM, drain, exit 0"
stop_start=$SECONDS
podman stop --time 30 "$ctr" >/dev/null 2>>"$tmp/podman.log"
[ $((SECONDS - stop_start)) -lt 30 ] || fail "podman stop waited for its timeout: SIGTERM was not obeyed"
code=$(podman inspect --format '{{.State.ExitCode}}' "$ctr")
[ "$code" -eq 0 ] || fail "exit code after SIGTERM: $code, want 0"
logs=$(podman logs "$ctr" 2>&1)
grep -q '"msg":"shutting down: draining in-flight requests"' <<<"$logs" || fail "no draining log line"
[ "$(tail -n 1 <<<"$logs" | jq -r .msg)" = stopped ] || fail "the last log line is not \"stopped\": $(tail -n 1 <<<"$logs")"

status=0
step "ok: image $size bytes, built in ${build_seconds}s"
