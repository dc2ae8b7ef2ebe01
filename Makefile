# The two commands that do everything on a fresh machine: `make demo` and `make test`.
GO      ?= go
BIN     := bin/userimport
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build demo test bench fuzz clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) .

# Imports samples/users.csv into an in-process Clerk-compatible sandbox and prints the summary.
demo: build
	rm -rf userimport-runs/demo
	$(BIN) import --sandbox --out userimport-runs/demo samples/users.csv

test:
	$(GO) vet ./...
	$(GO) test -race ./...

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
