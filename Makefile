# The two commands that do everything on a fresh machine: `make demo` and `make test`.
GO      ?= go
BIN     := bin/userimport
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build demo test testdb testdb-stop bench fuzz clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

# Imports samples/users.csv into an in-process Clerk-compatible sandbox and prints the summary.
demo: build
	rm -rf userimport-runs/demo
	$(BIN) import --sandbox --out userimport-runs/demo samples/users.csv

# Uses the PostgreSQL and MariaDB of `make testdb` when they run; without them (and without CI=true)
# the database-source tests skip, saying so.
test:
	$(GO) vet ./...
	@if [ -z "$$USERIMPORT_TEST_POSTGRES_URL" ] && env=$$(scripts/testdb.sh env 2>/dev/null); then eval "$$env"; \
	elif [ -z "$$USERIMPORT_TEST_POSTGRES_URL" ]; then echo "make test: no test databases: the database-source tests skip (make testdb starts them)"; fi; \
	$(GO) test -race ./...
	@# Heap-measuring tests skip under -race (its shadow memory distorts the heap): run them without it.
	$(GO) test -count=1 -run 'TestMemoryPerUser' ./clerk/sandbox/

# Throw-away PostgreSQL and MariaDB on loopback for the database-source tests (installs them from
# the distribution's packages when run as root on Debian); `make testdb-stop` removes them.
testdb:
	@scripts/testdb.sh start >/dev/null && echo "test databases running: make test uses them; make testdb-stop ends them"

testdb-stop:
	scripts/testdb.sh stop

# Throughput, memory and speed figures against the sandbox on loopback (a Go program, not tests).
bench: build
	$(GO) run ./internal/bench

FUZZTIME ?= 60s
fuzz:
	@for pkg in ./importer/source ./mapping; do \
		targets=$$($(GO) test -list '^Fuzz' $$pkg) || exit 1; \
		for target in $$(echo "$$targets" | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$target for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin userimport-runs
