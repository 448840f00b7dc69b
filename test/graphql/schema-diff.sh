#!/usr/bin/env bash
# Compares schema.graphql with the copy on the base revision (default: the
# main branch, or the previous commit when on main itself) using
# graphql-inspector. Breaking changes fail the check unless the change also
# records them in docs/schema-changes.md, so that no client is broken by
# accident.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/test/graphql"
cd "$root"

base=${1:-}
if [ -z "$base" ]; then
	if git rev-parse -q --verify origin/main >/dev/null; then
		base=origin/main
	else
		base=main
	fi
	# On the tip of main itself, compare with the commit before it.
	if [ "$(git rev-parse HEAD)" = "$(git rev-parse -q --verify "$base" || true)" ]; then
		base=HEAD~1
	fi
fi
if ! git cat-file -e "$base:schema.graphql" 2>/dev/null; then
	echo "schema-diff: $base has no schema.graphql; nothing to compare"
	exit 0
fi

[ -d "$here/node_modules/@graphql-inspector" ] || (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git show "$base:schema.graphql" >"$tmp/base.graphql"

if (cd "$here" && npx --no-install graphql-inspector diff "$tmp/base.graphql" "$root/schema.graphql"); then
	echo "schema-diff: no breaking change against $base"
	exit 0
fi
if ! git diff --quiet "$base" -- docs/schema-changes.md 2>/dev/null; then
	echo "schema-diff: breaking changes against $base are acknowledged in docs/schema-changes.md"
	exit 0
fi
echo "schema-diff: breaking changes against $base; acknowledge them in docs/schema-changes.md (what breaks, who is affected, the migration)"
exit 1
