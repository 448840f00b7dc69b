# The Conduit server as a container image: one static binary on a base
# that holds CA certificates and time zone data, run as an unprivileged
# user. `make docker` builds it; compose.yaml runs it with PostgreSQL.
#
# The base images are build arguments, so that a build that cannot pull
# them can name local stand-ins (test/container/run.sh does).
ARG GO_IMAGE=golang:1.26
# distroless/static: CA certificates, tzdata, /etc/passwd with nonroot (65532).
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
# Handed to go when given, for a build without network: GOPROXY=off and
# GOMODCACHE naming a module cache mounted into the build.
ARG GOPROXY
ARG GOMODCACHE
# Exec-form RUN needs no shell in the builder image.
ENV CGO_ENABLED=0
# The modules first, as their own layer: it is rebuilt only when go.mod or
# go.sum change, not with every edit of the code.
COPY go.mod go.sum ./
RUN ["go", "mod", "download"]
COPY . .
# Static (CGO_ENABLED=0: no libc to find at run time), without local paths
# in the binary, symbol tables and DWARF dropped (stack traces keep their
# function names and lines).
RUN --mount=type=cache,target=/root/.cache/go-build \
    ["go", "build", "-trimpath", "-ldflags=-s -w", "-o", "/conduit", "."]

FROM ${BASE_IMAGE}
COPY --from=build /conduit /conduit
# The image has no PostgreSQL to embed: DATABASE_URL is required, and its
# absence a one-line error. Production fails closed: it refuses to start
# without a strong JWT_SECRET (or JWT_SECRET_FILE). ADDR is left unset so
# that a platform's PORT is obeyed; the default is :8080.
ENV EMBEDDED_DATABASE=false \
    CONDUIT_ENV=production
# Numeric, so that no /etc/passwd is needed to resolve it: distroless's nonroot.
USER 65532:65532
EXPOSE 8080
# Liveness (/healthz), not readiness: see healthcheck.go.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/conduit", "healthcheck"]
# What run() drains on; give it SHUTDOWN_TIMEOUT (15s) plus a little
# before a SIGKILL, e.g. docker stop -t 20.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/conduit"]
CMD ["serve"]
