# Tessera: `make run` and `make check` do everything on a fresh Debian 12 machine.
BUILD      ?= build
JOBS       ?= $(shell nproc)
LISTEN     ?= 127.0.0.1:8080
DB         ?= tessera.db
CMAKE_ARGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build run check bench fuzz format format-check lint clean

all: build

deps:
	@sh scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

run: build
	@if [ ! -e "$(DB)" ]; then ./$(BUILD)/tessera init --db "$(DB)"; fi
	./$(BUILD)/tessera serve --listen $(LISTEN) --db "$(DB)"

check: deps
	@cd tests/integration/oidc/op && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@sh scripts/check.sh

bench: deps
	@cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build build-bench -j$(JOBS)
	@sh bench/run.sh "$(CURDIR)/build-bench/tessera"
	@cd bench/peer && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@bash bench/scim_bench.sh "$(CURDIR)/build-bench/tessera"
	@bash bench/pg_bench.sh "$(CURDIR)/build-bench/tessera"
	@bash bench/saml_bench.sh "$(CURDIR)/build-bench/tessera"
	@bash bench/oidc_bench.sh "$(CURDIR)/build-bench/tessera"
	@bash bench/oauth_bench.sh "$(CURDIR)/build-bench/tessera"

fuzz: deps
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-300} sh scripts/fuzz.sh

format:
	@clang-format-14 -i $$(git ls-files '*.c' '*.h')

format-check:
	@sh scripts/lint.sh format

lint:
	@sh scripts/lint.sh all

clean:
	rm -rf build build-* tmp
