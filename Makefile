# Lethe. Two commands do everything on a fresh machine:
#   make run    build, write demo data into ./data when absent, serve it
#   make test   every test (PostgreSQL variants run when LETHE_TEST_POSTGRES_DSN is set; .ci/run sets it)

GO      ?= go
BIN     ?= bin
DATA    ?= data
LISTEN  ?= 127.0.0.1:8080
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
PLUGINS := cdrstore invoicestore statdb
# Lethe, the connector SDK, the built-in plugins and the example connector
# are separate Go modules (the plugins and the example depend on the SDK
# alone); `make test` vets and tests each.
MODULES := . connectors/sdk plugins examples/connector-newsletter
# Fuzz targets run a fixed number of executions in `make test` (about 2 to
# 15 s each here), not a fixed time: Go 1.26's fuzz coordinator can report
# its own -fuzztime deadline as a failure ("context deadline exceeded", no
# failing input; go.dev/issue/75804, fixed in Go 1.27), and a count sets no
# deadline. Minimising a new input is bounded by executions for the same
# reason.
FUZZTIME ?= 50000x

.PHONY: build run test generate lint funclen bench bench-more screenshots graphiql clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN)/lethe .
	@for p in $(PLUGINS); do (cd plugins && $(GO) build -ldflags "-X main.version=$(VERSION)" -o ../$(BIN)/lethe-$$p ./$$p) || exit 1; done

run: build
	@if [ ! -e $(DATA)/lethe.db ]; then $(BIN)/lethe demo --data-dir $(DATA) --customers 2000; fi
	$(BIN)/lethe serve --data-dir $(DATA) --listen $(LISTEN) --playground=true --dev-admin-token

# lethe and the plugins are built once for every package's tests (see
# internal/testbin), with the version the tests expect. The modules' tests
# run at once, then the fuzz targets at once (internal/testbin/together:
# each into a log of its own, printed whole).
TEST_BIN := $(CURDIR)/.test-bin
# package:target:executions; documents up to 1 MB each: 5,000 of them take
# about 20 s.
FUZZ := retention:FuzzParseToken:$(FUZZTIME) retention:FuzzNormalizePersonalData:$(FUZZTIME) \
	graph/model:FuzzUnmarshalTime:$(FUZZTIME) httpapi:FuzzBearer:$(FUZZTIME) httpapi:FuzzGraphQL:$(FUZZTIME) \
	httpapi:FuzzGraphQLDocumentCost:5000x
fuzzcmd = $(GO) test -run '^$$' -fuzz '^$(word 2,$(1))$$' -fuzztime $(word 3,$(1)) -fuzzminimizetime 100x ./$(word 1,$(1))
test:
	$(MAKE) --no-print-directory build BIN=.test-bin VERSION=9.9.9-test
	LETHE_TEST_BIN=$(TEST_BIN) internal/testbin/together $(foreach m,$(MODULES),"cd $(m) && $(GO) vet ./... && $(GO) test -race -count=1 -timeout 30m ./...")
	internal/testbin/together $(foreach f,$(FUZZ),"$(call fuzzcmd,$(subst :, ,$(f)))")

generate:
	$(GO) generate ./...
	cd connectors/sdk && $(GO) generate ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done
	$(GO) run ./internal/funclen/cmd .

# No function over 80 lines outside generated code (internal/funclen).
funclen:
	$(GO) run ./internal/funclen/cmd .

# One table of figures (issue 10): demo, search against a bare handler,
# 64 clients mixed, repeated exports, the sweep against a hand-written
# program; search and create idle and during a real sweep, and the sweep's
# customers/s alone (issue 22); again on PostgreSQL when
# LETHE_TEST_POSTGRES_DSN is set. The goals are for 1,000,000 customers:
#   make bench BENCH_CUSTOMERS=1000000 BENCH_SECONDS=60
BENCH_CUSTOMERS ?= 20000
BENCH_SECONDS   ?= 5
# e.g. BENCH_ARGS='-bench.dir=/tmp/demo1m -bench.sweep=false' to measure on an existing demo
BENCH_ARGS      ?=
# The table, with the date, the machine and the command, replaces docs/figures.md.
BENCH_OUT       ?= docs/figures.md
bench:
	BENCH_ARGS="$(BENCH_ARGS)" $(GO) test -run '^$$' -bench '^BenchmarkTable$$' -benchtime 1x -timeout 180m . \
		-args -bench.customers=$(BENCH_CUSTOMERS) -bench.seconds=$(BENCH_SECONDS) -bench.out=$(abspath $(BENCH_OUT)) $(BENCH_ARGS)

# The figures of other issues, each its own benchmark: connector round trips
# and exports, the widening data policy, the retention forecast over
# 1,000,000 customers against a table scan, a policy change under concurrent
# writes, 64 SQLite writers with one commit per write against group commit,
# the API under mixed load with one and two replicas, and `lethe audit
# verify` of 1,000,000 audit events against a plain read of them
# (PostgreSQL parts when LETHE_TEST_POSTGRES_DSN is set).
bench-more:
	cd plugins && $(GO) test -run '^$$' -bench . -benchtime 200x .
	$(GO) test -run '^$$' -bench BenchmarkSweepVsDirect -benchtime 1x -timeout 60m .
	$(GO) test -run '^$$' -bench BenchmarkWideningDataPolicy -benchtime 1x -timeout 60m .
	$(GO) test -run '^$$' -bench BenchmarkLedgerCost -benchtime 1x -timeout 60m .
	$(GO) test -run '^$$' -bench BenchmarkForecast -benchtime 10x -timeout 30m ./store
	$(GO) test -run '^$$' -bench BenchmarkPolicyChangeUnderWrites -benchtime 1x -timeout 30m ./store
	$(GO) test -run '^$$' -bench BenchmarkGroupCommit -benchtime 2000x ./store
	$(GO) test -run '^$$' -bench BenchmarkReplicasMixedLoad -benchtime 1x -timeout 30m .
	$(GO) test -run '^$$' -bench BenchmarkAuditVerify -benchtime 3x -timeout 30m ./store

# The README's console screenshots, taken by the browser tests (needs chromium).
screenshots:
	LETHE_SCREENSHOTS=docs/screenshots $(GO) test -count=1 -run 'TestConsole' ./console

# GraphiQL, the playground, rebuilt from console/graphiql/package-lock.json
# into console/static/graphiql. The bundle is committed: make run, make test
# and go build never need npm or the internet. Run it after changing
# console/graphiql (a new GraphiQL: npm install there first).
graphiql:
	cd console/graphiql && npm ci --no-audit --no-fund && npm run build

clean:
	rm -rf $(BIN)
