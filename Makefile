# accessledger: make demo · make test · make test-long · make bench · make lint

GO          ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
BIN         := bin/accessledger

# Packages where goroutines meet (group commit, concurrent appends, the
# manager's lock) also run under the race detector. It makes SQLite work
# about 14x slower, so that run is -short (smaller sizes, fewer stores);
# the full sizes run without it.
RACE_PKGS   := ./eventstore/memstore ./eventstore/sqlitestore ./entitlement ./projection
# Packages with property-based tests, which take rapid's flags.
RAPID_PKGS   = $(shell $(GO) list -e -test -f '{{if .ForTest}}{{.ForTest}} {{join .Deps " "}}{{end}}' ./... | grep ' pgregory.net/rapid' | cut -d' ' -f1 | sort -u)

.PHONY: all build demo test test-long bench lint clean

all: test

build:
	$(GO) build -o $(BIN) ./cmd/accessledger

demo: build
	./$(BIN) demo

test:
	$(GO) vet ./...
	$(GO) test ./...
	$(GO) test -race -short $(RACE_PKGS)

test-long:
	$(GO) vet ./...
	$(GO) test -count=1 ./...
	$(GO) test -race -count=1 -timeout 30m $(RACE_PKGS)
	$(GO) test -count=1 -timeout 60m $(RAPID_PKGS) -rapid.checks=1000

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./eventstore/... ./internal/... ./projection ./report
	$(GO) run ./cmd/accessledger bench --users 1000

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

clean:
	rm -rf bin accessledger-demo
