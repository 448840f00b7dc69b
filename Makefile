# Conduit: `make run` serves the API, `make test` checks everything.
GO ?= go

.PHONY: help run graphiql-assets-if-missing docs-assets-if-missing seed migrate build docker docker-run test test-go test-graphql test-openapi test-browser test-container schema-diff lint generate check-generate fmt graphiql-assets docs-assets fuzz fuzz-short soak

# GraphiQL's scripts, fetched from npm by `make graphiql-assets` (make run
# does it when they are missing); the server serves this directory when it
# finds it, and otherwise points browsers at a CDN.
GRAPHIQL_ASSETS := graphiql-assets

# Swagger UI (/api/docs) and ReDoc (/api/redoc), fetched from npm by
# `make docs-assets` (make run does it when they are missing); the server
# serves this directory when it finds it, and otherwise those pages say how
# to fill it (there is no CDN fallback).
DOCS_ASSETS := docs-assets
# The npm packages they come from, each pinned by the integrity the
# registry publishes for it, so that a changed tarball is refused.
SWAGGER_UI := swagger-ui-dist@5.35.0
SWAGGER_UI_INTEGRITY := sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==
REDOC := redoc@2.5.2
# ReDoc's side menu shows its maker's logo from a CDN, the one thing it would
# load from elsewhere: the copy served points it at an empty data: URL (the
# image then fails and ReDoc leaves it out), so that the page loads nothing
# from a third party and its strict content security policy holds.
REDOC_LOGO := https://cdn.redoc.ly/redoc/logo-mini.svg
REDOC_INTEGRITY := sha512-sTJfItvRkcDTojB6wdLN4M+Ua6mlZwElV21Tf8Mn7IbQF/1Os6GvgQpZyLWPGZZHbhy7GC1Or1hTMHfz1vKh5A==

## help: list these targets, then the server's commands and every setting with its default
help:
	@grep -E '^## [a-z-]+:' Makefile | sed -E 's/^## ([a-z-]+):/  make \1\t/' | expand -t 24
	@echo
	@$(GO) run . help

## run: serve REST on /api and GraphQL on /graphql at :8080 (embedded PostgreSQL unless DATABASE_URL is set)
run: graphiql-assets-if-missing docs-assets-if-missing
	@echo "make run: compiling the server (the first time, Go fetches the modules and builds them: about a minute)"
	@$(GO) build -o bin/conduit .
	@exec ./bin/conduit

# graphiql-assets-if-missing fetches GraphiQL's files for make run, once,
# when npm is there; without npm (or a reachable registry) GraphiQL loads
# them from a CDN, and its page says what to do if that fails too.
graphiql-assets-if-missing:
	@if [ ! -f $(GRAPHIQL_ASSETS)/graphiql.min.js ]; then \
		if command -v npm >/dev/null 2>&1; then \
			echo "make run: fetching GraphiQL's files from npm into $(GRAPHIQL_ASSETS)/ (once)"; \
			$(MAKE) --no-print-directory graphiql-assets || echo "make run: could not fetch them; GraphiQL will try a CDN"; \
		else \
			echo "make run: npm not found; GraphiQL will load its scripts from a CDN (make graphiql-assets serves them locally)"; \
		fi; \
	fi

# docs-assets-if-missing does the same for the API docs' files; without
# them /api/docs and /api/redoc say how to get them.
docs-assets-if-missing:
	@if [ ! -f $(DOCS_ASSETS)/swagger-ui-bundle.js ]; then \
		if command -v npm >/dev/null 2>&1; then \
			echo "make run: fetching Swagger UI's and ReDoc's files from npm into $(DOCS_ASSETS)/ (once)"; \
			$(MAKE) --no-print-directory docs-assets || echo "make run: could not fetch them; /api/docs and /api/redoc will say so"; \
		else \
			echo "make run: npm not found; /api/docs and /api/redoc need make docs-assets"; \
		fi; \
	fi

## seed: load the demo data (idempotent)
seed:
	$(GO) run . seed

## migrate: apply database migrations and exit
migrate:
	$(GO) run . migrate

## build: compile the server to bin/conduit
build:
	$(GO) build -o bin/conduit .

# The container engine and the image that make docker builds. Podman needs
# the docker image format to keep the HEALTHCHECK.
DOCKER ?= docker
IMAGE ?= conduit:latest

## docker: build the container image conduit:latest (IMAGE=...) from the Dockerfile; DOCKER=podman works too
docker:
	$(DOCKER) build $(if $(findstring podman,$(DOCKER)),--format docker) -t $(IMAGE) .

## docker-run: run the image on :8080 with the DATABASE_URL and JWT_SECRET of your environment
docker-run:
	$(DOCKER) run --rm -p 8080:8080 -e DATABASE_URL -e JWT_SECRET $(IMAGE)

## test: lint, check generated code, run every test with the race detector, a short pass of each fuzz target, the GraphQL, OpenAPI and browser checks, then the container image built and run
test: lint check-generate test-go fuzz-short test-graphql schema-diff test-openapi test-browser test-container

test-go:
	$(GO) test -race -count=1 ./...

# Every fuzz target, as package:Name:inputs (the inputs of fuzz-short). Each runs against the real server and
# PostgreSQL, except FuzzObjectMembers and FuzzJSONString, which hold the reader of GraphQL bodies to encoding/json; seeds live
# in code and in the package's testdata/fuzz.
FUZZ_TARGETS := ./conduit:FuzzVerifyToken:20000 ./legacy:FuzzLegacyBody:3000 ./legacy:FuzzLegacyPath:300 \
	./legacy:FuzzLegacyQuery:300 ./resolvers:FuzzGraphQLRequest:300 ./resolvers:FuzzObjectMembers:10000 \
	./resolvers:FuzzJSONString:20000
FUZZTIME ?= 2m

## fuzz: run each fuzz target for FUZZTIME (default 2m), e.g. make fuzz FUZZTIME=10m
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t#*:}; name=$${name%%:*}; \
		echo "fuzz: $$name for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $${t%%:*}; \
	done

## soak: 64 clients for 60 s against the real server, 70% reads and 30% writes on both surfaces, then every acknowledged write checked in the database (make test runs 10 s of it)
soak:
	SOAK_DURATION=$${SOAK_DURATION:-60s} SOAK_CLIENTS=$${SOAK_CLIENTS:-64} $(GO) test -count=1 -run '^TestSoak$$' -v . | grep -v '^ *{'

## fuzz-short: each fuzz target for a few seconds' worth of inputs (what CI runs)
# Counted in inputs, not seconds: Go 1.26's fuzz coordinator can report a
# spurious "context deadline exceeded" when a -fuzztime duration ends
# (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline to race.
fuzz-short:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t#*:}; name=$${name%%:*}; \
		echo "fuzz: $$name for $${t##*:} inputs"; \
		$(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$${t##*:}x $${t%%:*}; \
	done

## test-graphql: graphql-http audit, graphql-js introspection, the committed schema and subscriptions (graphql-ws, graphql-sse), against a live server
test-graphql:
	test/graphql/run.sh

## test-openapi: Redocly's linter on the legacy API's OpenAPI document, as a live server serves it
test-openapi:
	test/openapi/run.sh

## test-browser: Swagger UI, ReDoc and GraphiQL in headless Chromium against a live server (fetches their assets first if needed)
test-browser:
	@[ -f $(DOCS_ASSETS)/swagger-ui-bundle.js ] && [ -f $(DOCS_ASSETS)/redoc.standalone.js ] || $(MAKE) --no-print-directory docs-assets
	@[ -f $(GRAPHIQL_ASSETS)/graphiql.min.js ] || $(MAKE) --no-print-directory graphiql-assets
	DOCS_ASSETS_DIR=$(CURDIR)/$(DOCS_ASSETS) GRAPHIQL_ASSETS_DIR=$(CURDIR)/$(GRAPHIQL_ASSETS) test/browser/run.sh

## test-container: build the image with podman from stand-in bases and run it against a test PostgreSQL; check compose.yaml against the Compose Specification
test-container:
	test/container/run.sh

## schema-diff: breaking changes of schema.graphql against main must be acknowledged in docs/schema-changes.md
schema-diff:
	test/graphql/schema-diff.sh $(BASE)

## graphiql-assets: fetch GraphiQL's files from npm (same versions as the CDN page) for offline use
graphiql-assets:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent graphiql@4.1.2 react@18.2.0 react-dom@18.2.0 >/dev/null && \
	 for f in *.tgz; do mkdir "$${f%.tgz}" && tar -xzf "$$f" -C "$${f%.tgz}" --strip-components=1; done); \
	mkdir -p $(GRAPHIQL_ASSETS); \
	cp "$$tmp"/graphiql-4.1.2/graphiql.min.js "$$tmp"/graphiql-4.1.2/graphiql.min.css \
	   "$$tmp"/react-18.2.0/umd/react.production.min.js "$$tmp"/react-dom-18.2.0/umd/react-dom.production.min.js $(GRAPHIQL_ASSETS)/; \
	echo "GraphiQL assets in $(GRAPHIQL_ASSETS)/ (make run uses them)"

## docs-assets: fetch Swagger UI's and ReDoc's files from npm into docs-assets/ (git-ignored), for /api/docs and /api/redoc
docs-assets:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cd "$$tmp"; \
	for p in "$(SWAGGER_UI) $(SWAGGER_UI_INTEGRITY)" "$(REDOC) $(REDOC_INTEGRITY)"; do \
		set -- $$p; f=$$(npm pack --silent "$$1"); \
		got="sha512-$$(openssl dgst -sha512 -binary "$$f" | base64 -w0)"; \
		[ "$$got" = "$$2" ] || { echo "docs-assets: $$1 is not the pinned tarball ($$got)"; exit 1; }; \
		mkdir "$${f%.tgz}"; tar -xzf "$$f" -C "$${f%.tgz}" --strip-components=1; \
	done; \
	cd "$(CURDIR)"; mkdir -p $(DOCS_ASSETS); \
	cp "$$tmp"/swagger-ui-dist-*/swagger-ui-bundle.js "$$tmp"/swagger-ui-dist-*/swagger-ui.css "$$tmp"/redoc-*/bundles/redoc.standalone.js $(DOCS_ASSETS)/; \
	grep -q '$(REDOC_LOGO)' $(DOCS_ASSETS)/redoc.standalone.js || { echo "docs-assets: ReDoc no longer names $(REDOC_LOGO)"; exit 1; }; \
	sed -i 's|$(REDOC_LOGO)|data:,|' $(DOCS_ASSETS)/redoc.standalone.js; \
	echo "Swagger UI and ReDoc in $(DOCS_ASSETS)/ (make run serves them at /api/docs and /api/redoc)"

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

generate:
	$(GO) generate ./...

## check-generate: fail when generated code is stale
check-generate: generate
	@git diff --exit-code --stat -- graph resolvers schema.graphql || \
		(echo "generated code is stale: run 'make generate' and commit the result"; exit 1)

fmt:
	gofmt -w $$(git ls-files '*.go')

.PHONY: bench
## bench: load-test the server against the floor (bench/floor) on a seeded database; results in bench/results
## (flags through BENCHFLAGS, e.g. make bench BENCHFLAGS='-duration 5s -scenarios list -pprof';
## OLD_URL=http://host:port/api also seeds and measures the old backend there, see BENCHMARKS.md)
OLD_URL ?=
bench:
	$(GO) run ./bench $(if $(OLD_URL),-old '$(OLD_URL)') $(if $(ARTICLES),-articles '$(ARTICLES)') $(BENCHFLAGS)
