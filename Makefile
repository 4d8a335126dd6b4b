# Portcullis: authorisation server + stateless gateway.
# `make help` lists the targets.

SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

MODULES      := ./shared/... ./authserver/... ./gateway/... ./deploy/bench/...
BIN          := $(CURDIR)/bin
GOLANGCI     := $(BIN)/golangci-lint
GOLANGCI_VERSION := v2.15.0
TEST_FLAGS   ?= -race -count=1 -timeout 15m

##@ Everyday

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make \033[36m<target>\033[0m\n"} /^[a-zA-Z_-]+:.*?##/ { printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/authserver, bin/gateway and bin/demo-upstream.
	@mkdir -p $(BIN)
	go build -o $(BIN)/authserver ./authserver/cmd/authserver
	go build -o $(BIN)/gateway ./gateway/cmd/gateway
	go build -o $(BIN)/demo-upstream ./gateway/cmd/demo-upstream

.PHONY: run
run: build ## Start authserver, gateway and a demo upstream on SQLite (Ctrl-C stops all).
	@deploy/run-local.sh

.PHONY: test
test: ## Run every test (Postgres/Redis suites too when PORTCULLIS_TEST_* are set).
	go test $(TEST_FLAGS) $(MODULES)

##@ Quality

.PHONY: lint
lint: $(GOLANGCI) ## Run golangci-lint (pinned) and go vet on every module.
	go vet $(MODULES)
	cd shared && $(GOLANGCI) run ./...
	cd authserver && $(GOLANGCI) run ./...
	cd gateway && $(GOLANGCI) run ./...
	cd deploy/bench && $(GOLANGCI) run ./...

.PHONY: fmt
fmt: $(GOLANGCI) ## Format the code (gofmt + gci import groups).
	cd shared && $(GOLANGCI) fmt ./...
	cd authserver && $(GOLANGCI) fmt ./...
	cd gateway && $(GOLANGCI) fmt ./...
	cd deploy/bench && $(GOLANGCI) fmt ./...

.PHONY: tidy
tidy: ## go mod tidy in every module.
	cd shared && go mod tidy
	cd authserver && go mod tidy
	cd gateway && go mod tidy
	cd migrations && go mod tidy
	cd deploy/bench && go mod tidy

.PHONY: verify
verify: tidy fmt ## Tidy and format, then fail if that changed anything.
	git diff --exit-code

$(GOLANGCI):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

##@ Performance

.PHONY: bench
bench: build ## Full benchmark (under 10 minutes); writes docs/bench/.
	go run ./deploy/bench/cmd/portcullis-bench -mode full

.PHONY: bench-quick
bench-quick: build ## Short benchmark run (under 2 minutes).
	go run ./deploy/bench/cmd/portcullis-bench -mode quick

.PHONY: clean
clean: ## Remove build output and local run state.
	rm -rf $(BIN)/authserver $(BIN)/gateway $(BIN)/demo-upstream var/
