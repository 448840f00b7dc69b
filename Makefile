# Conduit: `make run` serves the API, `make test` checks everything.
GO ?= go

.PHONY: help run seed migrate build docker docker-run test test-go test-graphql test-container schema-diff lint generate check-generate fmt graphiql-assets fuzz fuzz-short soak

# GraphiQL's scripts come from a CDN unless `make graphiql-assets` has put them here.
GRAPHIQL_ASSETS := graphiql-assets
ifneq ($(wildcard $(GRAPHIQL_ASSETS)/graphiql.min.js),)
export GRAPHIQL_ASSETS_DIR ?= $(CURDIR)/$(GRAPHIQL_ASSETS)
endif

## help: list these targets, then the server's commands and every setting with its default
help:
	@grep -E '^## [a-z-]+:' Makefile | sed -E 's/^## ([a-z-]+):/  make \1\t/' | expand -t 24
	@echo
	@$(GO) run . help

## run: serve REST on /api and GraphQL on /graphql at :8080 (embedded PostgreSQL unless DATABASE_URL is set)
run:
	$(GO) run .

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

## test: lint, check generated code, run every test with the race detector, a short pass of each fuzz target, the GraphQL client checks, then the container image built and run
test: lint check-generate test-go fuzz-short test-graphql schema-diff test-container

test-go:
	$(GO) test -race -count=1 ./...

# Every fuzz target, as package:Name. Each runs against the real server and
# PostgreSQL; seeds live in code and in the package's testdata/fuzz.
FUZZ_TARGETS := ./conduit:FuzzVerifyToken ./legacy:FuzzLegacyBody ./legacy:FuzzLegacyPath ./legacy:FuzzLegacyQuery ./resolvers:FuzzGraphQLRequest
FUZZTIME ?= 2m

## fuzz: run each fuzz target for FUZZTIME (default 2m), e.g. make fuzz FUZZTIME=10m
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $${t#*:} for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${t#*:}$$" -fuzztime=$(FUZZTIME) $${t%%:*}; \
	done

## soak: 64 clients for 60 s against the real server, 70% reads and 30% writes on both surfaces, then every acknowledged write checked in the database (make test runs 10 s of it)
soak:
	SOAK_DURATION=$${SOAK_DURATION:-60s} SOAK_CLIENTS=$${SOAK_CLIENTS:-64} $(GO) test -count=1 -run '^TestSoak$$' -v . | grep -v '^ *{'

## fuzz-short: each fuzz target for 5s (what CI runs)
fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=5s

## test-graphql: graphql-http audit, graphql-js introspection and the committed schema, against a live server
test-graphql:
	test/graphql/run.sh

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
## (flags through BENCHFLAGS, e.g. make bench BENCHFLAGS='-duration 5s -scenarios list -pprof')
bench:
	$(GO) run ./bench $(BENCHFLAGS)
