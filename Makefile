# Conduit: `make run` serves the API, `make test` checks everything.
GO ?= go

.PHONY: run seed migrate build test test-go lint generate check-generate fmt

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

## test: lint, check generated code, and run every test with the race detector
test: lint check-generate test-go

test-go:
	$(GO) test -race -count=1 ./...

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
