# StreamForge — the only commands a person needs.
#
#   make demo              Scenario 1 on the embedded defaults: a month of BTCUSDT trades and candles to a trained GNN
#   make stream SYMBOL=ETHUSDT  Scenario 2: live trades and order book of SYMBOL watched from Kafka; Ctrl-C stops it through the API
#   make notebook          Scenario 3: the volume/volatility notebook run headless on data/ (after make demo)
#   make up                the local stack (embedded Kafka, exchange simulator, queue-manager) until Ctrl-C
#   make clean-data        remove data/'s Kafka log, store, artifacts and logs (asks; refused while a stack runs on it)
#   make check             everything CI runs: lint, unit tests, integration tests
#   make test              unit tests of every module (race detector on)
#   make test-integration  tests against real Apache Kafka 4.x, a real kube-apiserver, a real S3 server (versitygw), a real Prometheus and a real Keycloak, started and stopped here
#   make bench             benchmarks against real Kafka -> docs/benchmarks.md
#   make chaos             the chaos experiments on a three-node Kafka cluster -> docs/chaos.md
#   make build             every binary into bin/
#   make modules           each module builds, vets and tests alone (GOWORK=off; end-to-end packages compiled only)
#   make lint              gofmt, go vet, shellcheck, Dockerfile checks, generated service lists current
#   make generate          rewrite the service lists generated from libs/protocol/services.go, and docs/configuration.md
#   make images            container images (needs a Docker engine)
#   make images-local      the same images without Docker or a registry, imported into the local node's containerd
#   make node-start        a real one-node Kubernetes cluster (kubelet, containerd) on this machine; make node-stop removes it

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

MODULES  := $(shell sed -n 's|^[[:space:]]*\./\(.*\)$$|\1|p' go.work)
SERVICES := $(notdir $(patsubst %/,%,$(wildcard services/*/)))
BIN      := $(CURDIR)/bin
KAFKA    := platform/kafka/kafka.sh
KUBE     := platform/kube/kube.sh
NODE     := platform/kube/node.sh
S3       := platform/s3/s3.sh
PROM     := platform/prometheus/prometheus.sh
KEYCLOAK := platform/keycloak/keycloak.sh
export PATH := $(CURDIR)/.cache/bin:$(PATH)
GO_TEST_FLAGS ?= -race -count=1
KUSTOMIZATIONS := deploy deploy/overlays/lab deploy/overlays/lab-vault deploy/overlays/minimal deploy/overlays/node-test platform/strimzi platform/rbac deploy/monitoring deploy/logging deploy/argocd deploy/chaos
# Integration-tier packages (build tag "integration"). In-process code runs
# with the race detector; the service end-to-end packages drive binaries
# built without it, where -race would only slow the harness down.
IT_PKGS  := libs:./bus/...\ ./objstore/...:-race services/dummy-service:./test/...: services/arango-connector:./test/...: \
            services/loader-producer:./test/...: services/queue-manager:./test/...\ ./internal/launch/kube/\ ./internal/api/\ ./internal/market/: \
            services/gnn-trainer:./test/...: platform/devstack:./test/scenario/\ ./test/stream/\ ./test/monitoring/\ ./test/chaos/\ ./test/console/:

.PHONY: help
help:
	@sed -n 's/^#   //p' Makefile

# The version every binary reports (--version, logs, streamforge_build_info):
# the commit, as services/Dockerfile's VERSION build argument does for images.
BUILD_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/streamforge/streamforge/libs/service.Version=$(BUILD_VERSION)

.PHONY: build
build:
	@mkdir -p $(BIN)
	go build -ldflags "$(LDFLAGS)" -o $(BIN)/ $(foreach s,$(SERVICES),./services/$(s)/cmd/...) ./platform/devstack/cmd/...

.PHONY: demo
demo: build
	$(BIN)/devstack demo --bin-dir $(BIN)

SYMBOL   ?= ETHUSDT
DURATION ?= 0

.PHONY: stream
stream: build
	$(BIN)/devstack stream --bin-dir $(BIN) --symbol $(SYMBOL) --duration $(DURATION)

.PHONY: notebook
notebook:
	platform/scripts/notebook.sh data

.PHONY: up
up: build
	$(BIN)/devstack up --bin-dir $(BIN)

.PHONY: clean-data
clean-data: build
	$(BIN)/devstack clean --data-dir data $(if $(YES),--yes)

.PHONY: test
test:
	@for m in $(MODULES); do echo "== go test $$m"; (cd $$m && go test $(GO_TEST_FLAGS) ./...); done

.PHONY: vet
vet:
	@for m in $(MODULES); do echo "== go vet $$m"; (cd $$m && go vet ./... && go vet -tags integration ./...); done

# Each module on its own, as its image builds it: no go.work.
.PHONY: modules
# The end-to-end packages (test/...) drive the very binaries make test
# already ran them against: here they are compiled, not run again.
modules:
	@for m in $(MODULES); do echo "== GOWORK=off $$m"; (cd $$m && export GOWORK=off && go build ./... && go vet ./... && \
	  pkgs=$$(go list ./... | grep -v '/test/' || true) && { [ -z "$$pkgs" ] || go test -count=1 $$pkgs; } && \
	  e2e=$$(go list ./... | grep '/test/' || true) && { [ -z "$$e2e" ] || go test -count=1 -run '^$$' $$e2e; }); done

.PHONY: kafka-start kafka-stop
kafka-start:
	$(KAFKA) start
kafka-stop:
	$(KAFKA) stop

.PHONY: test-integration
test-integration: build
	@$(KAFKA) start
	@trap '$(KAFKA) stop' EXIT; $(KUBE) start; trap '$(KAFKA) stop; $(KUBE) stop' EXIT; \
	$(S3) start; trap '$(KAFKA) stop; $(KUBE) stop; $(S3) stop' EXIT; \
	$(PROM) start; trap '$(KAFKA) stop; $(KUBE) stop; $(S3) stop; $(PROM) stop' EXIT; \
	$(KEYCLOAK) start; trap '$(KAFKA) stop; $(KUBE) stop; $(S3) stop; $(PROM) stop; $(KEYCLOAK) stop' EXIT; \
	eval "$$($(KAFKA) env)"; eval "$$($(KUBE) env)"; eval "$$($(S3) env)"; eval "$$($(PROM) env)"; eval "$$($(KEYCLOAK) env)"; \
	echo "== custom resources against their projects' CRDs (server-side dry-run, strict)"; \
	platform/scripts/check-platform-crs.sh platform/strimzi platform/rbac deploy/logging deploy/overlays/lab deploy/overlays/lab-vault deploy/argocd deploy/chaos; \
	for p in $(IT_PKGS); do IFS=: read -r m pkgs race <<< "$$p"; echo "== go test -tags integration $$race $$m $$pkgs"; \
	  (cd $$m && go test -tags integration $$race -count=1 -timeout 30m -run 'Real|Integration' $$pkgs); done; \
	echo "== queue-manager API against its OpenAPI document (schemathesis), with a Keycloak token"; AUTH_MODE=oidc platform/scripts/api-contract.sh; \
	echo "== Scenario 3: the volume/volatility notebook, headless, on what devstack demo collected (a week)"; nbdata=$$(mktemp -d); \
	$(BIN)/devstack demo --bin-dir $(BIN) --data-dir $$nbdata --kafka-port 0 --api-addr 127.0.0.1:18090 \
	  --exchange-addr 127.0.0.1:0 --trade-rate 0.5 --time-range 2026-10-01:2026-10-08 --epochs 5 >/dev/null; \
	platform/scripts/notebook.sh $$nbdata; rm -rf $$nbdata; \
	if [[ "$$(id -u)" != 0 ]]; then echo "== real node: skipped (platform/kube/node.sh needs root)"; exit 0; fi; \
	echo "== Scenario 1 and pod-delete on a real node (kubelet, containerd; the API server with a Job controller this time)"; \
	trap '$(KAFKA) stop; $(KUBE) stop; $(S3) stop; $(PROM) stop; $(KEYCLOAK) stop; $(NODE) stop' EXIT; \
	$(KUBE) stop; $(NODE) start; eval "$$($(NODE) env)"; platform/kube/images.sh; \
	$(KAFKA) stop; KAFKA_NODE_HOST=$$NODE_IP $(KAFKA) start; eval "$$(KAFKA_NODE_HOST=$$NODE_IP $(KAFKA) env)"; \
	$(S3) stop; S3_HOST=$$NODE_IP $(S3) start; eval "$$(S3_HOST=$$NODE_IP $(S3) env)"; \
	(cd platform/devstack && go test -tags integration -count=1 -timeout 20m -run 'TestNode' ./test/node/)

.PHONY: bench
bench:
	@mkdir -p docs
	@$(KAFKA) start
	@trap '$(KAFKA) stop' EXIT; eval "$$($(KAFKA) env)"; \
	{ (cd libs && go test -run '^$$' -bench . -benchmem -benchtime 20000x ./protocol/ ./store/) ; \
	  (cd libs && go test -run '^$$' -bench DecodeDepthUpdate -benchmem -benchtime 20000x ./binance/) ; \
	  (cd libs && go test -run '^$$' -bench Upsert -benchtime 3x ./store/sqlite/) ; \
	  (cd libs && go test -tags integration -run '^$$' -bench Produce -benchtime 3x ./bus/) ; \
	  (cd services/arango-connector && go test -tags integration -run '^$$' -bench Connector -benchtime 1x -timeout 30m ./test/e2e/) ; \
	  (cd services/loader-producer && go test -tags integration -run '^$$' -bench Loader -benchtime 3x -timeout 30m ./test/e2e/ && \
	   go test -tags integration -run '^$$' -bench LiveTrades -benchtime 1x -timeout 30m ./test/e2e/) ; \
	  (cd services/queue-manager && go test -run '^$$' -bench EngineEvents -benchtime 20000x ./internal/flow/) ; \
	  (cd services/queue-manager && go test -run '^$$' -bench StatusReadsDuringBlockedLaunch -benchtime 1x ./internal/api/) ; \
	  (cd services/queue-manager && go test -run '^$$' -bench Hub -benchtime 5x ./internal/market/) ; \
	  (cd services/queue-manager && go test -tags integration -run '^$$' -bench Relaunch -benchtime 3x -timeout 10m ./test/e2e/) ; \
	  platform/scripts/bench-api.sh ; \
	  (cd services/graph-builder && go test -run '^$$' -bench . -benchtime 3x ./internal/graph/) ; \
	  (cd services/gnn-trainer && go test -run '^$$' -bench 'GCNEpoch|SAGEEpoch' -benchtime 5x ./internal/gnn/) ; \
	  if [ -x .cache/pyg/venv/bin/python ]; then .cache/pyg/venv/bin/python services/gnn-trainer/scripts/pyg_reference.py --bench-line --dtype float64 --threads 2 --epochs 10 2>/dev/null; \
	  else echo "PyTorch Geometric not installed (services/gnn-trainer/scripts/pyg_reference.py --install): GCN epoch reported without its PyG ratio" >&2; fi ; } \
	  | tee docs/benchmarks.raw.txt
	go run ./platform/devstack/cmd/benchreport -title "StreamForge benchmarks" \
	  -note "Real Apache Kafka $$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' platform/kafka/pom.xml) single node on loopback (platform/kafka/kafka.sh), kcat $$(kcat -V 2>/dev/null | sed -n 's/^Version \([^ ]*\).*librdkafka \([^ ]*\).*/\1 (librdkafka \2)/p'). Produce: 500,000 kline-shaped JSON records (~300 B) keyed by 6 symbols into 6 partitions, acks=all, murmur2 key partitioning, for both clients; kcat's time includes its process start. Protocol: the forward-compatible queue-events codec against encoding/json on a plain struct. DecodeDepthUpdate: a recorded depth update decoded with exact member names (libs/binance/internal/exactjson) against encoding/json into the same struct. Store: store.Inspect (the per-document check every adapter runs) against decoding with encoding/json; the SQLite adapter's Upsert (200,000 candles, batches of 5,000) against a plain prepared INSERT OR REPLACE. Connector: the arango-connector binary from process start to exit after its finished event, moving a real-broker topic into the embedded store, against a raw batched SQLite insert of the same documents in the same run; peak-MiB is the connector's resident-set high-water mark (VmHWM). Loader: the loader-producer binary from process start to exit loading history from the exchange simulator's archives (built in an untimed warm-up) and REST into the real broker, against kcat producing the very records it wrote; LiveTrades: the simulator streaming 20,000 aggTrades/s for 20 s through ws_trades, with trades lost and the loader's receipt-to-acknowledgement latency. EngineEvents: queue-manager's engine applying progress events to 1,000 workflows in flight against plain updates of the same documents in the same store. StatusReadsDuringBlockedLaunch: GET /api/v1/workflows/{id} of 100 workflows in flight, 4 in-process clients back to back, while a launch is blocked for 5 s, against the same reads for 5 s with no launch under way (reads must keep p99 under 50 ms). Hub: 1, 4 and 16 market-stream clients of one symbol following a fixed stream (a book snapshot, 2,000 diffs, 20,000 trades) through the embedded broker until each saw all of it, against one client. Relaunch: a worker killed with SIGKILL, until queue-manager recorded the failure (detect) and launched the next attempt (relaunch, after the default 2 s retry delay). StatusReads: wrk (Debian) reading GET /api/v1/workflows/{id} of 1,000 stored workflows at 1,000 requests/s (10 connections pacing themselves), against /healthz at the same rate. Visibility: graph-builder's natural visibility graph (exact sweep) of a random walk; VsNaive: the same against the naive O(n^3) reference at a size it can do. CorrelationSnapshots: six assets, 38,000 returns, a 288-return window moved by 12. GCNEpoch/SAGEEpoch: one training epoch (forward, backward, Adam) of gnn-trainer's model on a 100,000-node graph built by a formula (299,996 edges, 16 features, hidden 16), against PyTorch Geometric with the same graph, model and hyper-parameters in float64 on 2 threads when it is installed (services/gnn-trainer/scripts/pyg_reference.py --install; not in CI); peak-MiB is Go's heap high-water mark and PyG's process RSS." \
	  < docs/benchmarks.raw.txt > docs/benchmarks.md
	@echo "wrote docs/benchmarks.md"

.PHONY: chaos
chaos:
	@mkdir -p docs
	@$(KAFKA) fetch
	cd platform/devstack && CHAOS_FULL=1 CHAOS_REPORT=$(CURDIR)/docs/chaos.md go test -tags integration -count=1 -timeout 30m -v -run TestRealChaos ./test/chaos/
	@echo "wrote docs/chaos.md"

.PHONY: generate
generate:
	go run ./platform/devstack/cmd/servicelists
	cd platform/devstack && UPDATE_DOCS=1 go test -count=1 -run ConfigurationDoc ./test/smoke/

# staticcheck, pinned; installed into .cache/bin on first use.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(CURDIR)/.cache/bin/staticcheck

$(STATICCHECK):
	GOBIN=$(CURDIR)/.cache/bin GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# Every module, with and without the integration tag: findings are fixed,
# not silenced (no staticcheck.conf, no lint:ignore).
.PHONY: staticcheck
staticcheck: $(STATICCHECK)
	@for m in $(MODULES); do (cd $$m && $(STATICCHECK) ./... && $(STATICCHECK) -tags integration ./...) || exit 1; done; echo "staticcheck $(STATICCHECK_VERSION): OK"

.PHONY: lint
lint: vet staticcheck
	@out="$$(gofmt -l $(MODULES))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@go run ./platform/devstack/cmd/servicelists -check && echo "service lists generated from libs/protocol/services.go: current"
	@if command -v shellcheck >/dev/null; then shellcheck -x .ci/run platform/kafka/kafka.sh platform/kube/kube.sh platform/kube/node.sh platform/kube/images.sh platform/s3/s3.sh platform/prometheus/prometheus.sh platform/keycloak/keycloak.sh platform/scripts/*.sh platform/strimzi/*.sh platform/base/cert/script.sh; else echo "shellcheck not installed: skipped (CI installs it)"; fi
	@if command -v yamllint >/dev/null; then yamllint -s . && echo "yamllint: OK"; else echo "yamllint not installed: skipped (CI installs it)"; fi
	@if command -v promtool >/dev/null; then bash platform/scripts/check-prometheus-rules.sh; else echo "promtool not installed: alert rules unchecked (CI installs Debian's prometheus)"; fi
	@if command -v lua5.4 >/dev/null; then bash platform/scripts/test-fluentbit-lua.sh; else echo "lua5.4 not installed: Fluent Bit filter test skipped (CI installs it)"; fi
	bash platform/scripts/vendor-axe.sh --check
	bash platform/scripts/check-dockerfiles.sh
	bash platform/scripts/check-ci.sh
	bash platform/scripts/check-ports.sh
	bash platform/scripts/test-repo-checks.sh
	@if command -v kustomize >/dev/null; then for d in $(KUSTOMIZATIONS); do kustomize build $$d >/dev/null || { echo "kustomize build $$d failed"; exit 1; }; done; echo "kustomize build $(KUSTOMIZATIONS): OK"; else echo "kustomize not installed: skipped (.ci/run installs it)"; fi
	@if command -v hadolint >/dev/null; then hadolint services/Dockerfile platform/Dockerfile .devcontainer/Dockerfile && echo "hadolint: OK"; else echo "hadolint not installed: skipped (.ci/run installs it)"; fi

.PHONY: check
check: lint test modules test-integration

.PHONY: images
images:
	@for s in $(SERVICES); do v="$$(cat services/$$s/VERSION)"; \
	  args=($$(awk -v s="$$s" '$$1 == s { for (i = 2; i <= NF; i++) print "--build-arg", $$i }' services/image-args)); \
	  docker build -f services/Dockerfile --build-arg SERVICE="$$s" --build-arg VERSION="$$v" "$${args[@]}" -t streamforge/$$s:"$$v" .; done
	docker build -f platform/Dockerfile --build-arg VERSION="$$(cat platform/VERSION)" -t streamforge/platform-tools:"$$(cat platform/VERSION)" .

# The same images without a Docker engine: each service built as
# services/Dockerfile builds it, packed with go-containerregistry
# (platform/devstack/cmd/ociimage) and imported into the node's containerd.
.PHONY: images-local
images-local:
	platform/kube/images.sh

.PHONY: node-start node-stop
node-start:
	$(NODE) start
node-stop:
	$(NODE) stop

.PHONY: clean
clean:
	rm -rf $(BIN) docs/benchmarks.raw.txt
