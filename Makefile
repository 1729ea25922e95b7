# Vigil: one plain GNU Makefile.
#   make                 build everything into build/
#   make check           install missing packages, build, run unit, integration and short fuzz tests
#   make demo            install, build, run a manager and three agents on loopback
#   make SANITIZE=address,undefined check    the same under ASan and UBSan (build-san/)
#   make fuzz            longer fuzzing runs (clang's libFuzzer)
#   make bench           benchmarks (never part of check)

SHELL := /bin/bash
CC ?= cc
PKG_CONFIG ?= pkg-config
PYTHON ?= /usr/bin/python3
LLHTTP_SRC ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp

BUILD := build
SANFLAGS :=
ifneq ($(SANITIZE),)
BUILD := build-san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PKGS := openssl jansson sqlite3
PKGS_CURL := libcurl
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) $(PKGS_CURL) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CURL_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS_CURL) 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

OPT ?= -O2
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wvla -Wno-unused-parameter
VIGIL_CFLAGS = -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) $(SANFLAGS) -Ilib -I$(BUILD)/gen -I$(LLHTTP_INC) \
	$(PKG_CFLAGS) $(CFLAGS)
VIGIL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

LIB_SRC := $(wildcard lib/*.c)
MGR_SRC := $(filter-out manager/main.c,$(wildcard manager/*.c))
AGENT_SRC := $(filter-out agent/main_agent.c agent/main_agentctl.c,$(wildcard agent/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LLHTTP_OBJ := $(BUILD)/llhttp/api.o $(BUILD)/llhttp/http.o $(BUILD)/llhttp/llhttp.o
MGR_OBJ := $(MGR_SRC:%.c=$(BUILD)/%.o)
AGENT_OBJ := $(AGENT_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

BINS := $(BUILD)/bin/vigil-manager $(BUILD)/bin/vigil-agent $(BUILD)/bin/vigil-agentctl \
	$(BUILD)/bin/vigilctl $(BUILD)/bin/vigil-sim

.PHONY: all deps check unit integration fuzz-smoke fuzz demo bench clean lint
all: $(BINS)

deps:
	@scripts/install-deps.sh

$(BUILD)/%.o: %.c $(wildcard lib/*.h manager/*.h agent/*.h) | $(BUILD)/.dirs
	@echo "  CC      $<"
	@$(CC) $(VIGIL_CFLAGS) -c -o $@ $<

$(BUILD)/llhttp/%.o: $(LLHTTP_SRC)/%.c | $(BUILD)/.dirs
	@echo "  CC      $<"
	@$(CC) -std=c11 -O2 -g $(SANFLAGS) -I$(LLHTTP_INC) -c -o $@ $<

$(BUILD)/.dirs:
	mkdir -p $(BUILD)/{lib,manager,agent,cli,llhttp,bin,gen,tests/unit,tests/fuzz}
	touch $@

$(BUILD)/gen/migrations.h: scripts/embed-sql.sh $(wildcard sql/sqlite/*.sql) | $(BUILD)/.dirs
	scripts/embed-sql.sh sql/sqlite sqlite > $@.tmp && mv $@.tmp $@

$(BUILD)/manager/db_sqlite.o: $(BUILD)/gen/migrations.h

$(BUILD)/libvigil.a: $(LIB_OBJ) $(LLHTTP_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/vigil-manager: $(BUILD)/manager/main.o $(MGR_OBJ) $(BUILD)/libvigil.a
	$(CC) $(VIGIL_LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm

$(BUILD)/bin/vigil-agent: $(BUILD)/agent/main_agent.o $(AGENT_OBJ) $(BUILD)/libvigil.a
	$(CC) $(VIGIL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CURL_LIBS)

$(BUILD)/bin/vigil-agentctl: $(BUILD)/agent/main_agentctl.o $(AGENT_OBJ) $(BUILD)/libvigil.a
	$(CC) $(VIGIL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CURL_LIBS)

VIGILCTL_OBJ := $(BUILD)/cli/vigilctl.o $(BUILD)/cli/vctl_policy.o $(BUILD)/cli/ctlapi.o $(BUILD)/cli/table.o
$(VIGILCTL_OBJ): $(wildcard cli/*.h)
$(BUILD)/bin/vigilctl: $(VIGILCTL_OBJ) $(BUILD)/libvigil.a
	$(CC) $(VIGIL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CURL_LIBS)

# bench/: the load simulator (make bench; its smoke run is an integration test)
$(BUILD)/bin/vigil-sim: bench/vigil-sim.c $(BUILD)/libvigil.a $(wildcard lib/*.h) | $(BUILD)/.dirs
	@echo "  CC      $<"
	@$(CC) $(VIGIL_CFLAGS) -o $@ $< $(BUILD)/libvigil.a $(PKG_LIBS) -lm

# tests/unit/mgrfix.c: the shared manager fixture, linked into every unit test
$(BUILD)/tests/%: tests/unit/%.c tests/unit/mgrfix.c tests/unit/mgrfix.h $(MGR_OBJ) $(AGENT_OBJ) $(BUILD)/libvigil.a
	@echo "  TEST    $@"
	@$(CC) $(VIGIL_CFLAGS) -Imanager -Iagent -Itests/unit -o $@ $< tests/unit/mgrfix.c $(MGR_OBJ) $(AGENT_OBJ) \
		$(BUILD)/libvigil.a $(PKG_LIBS) $(CURL_LIBS) $(CMOCKA_LIBS) -lm

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

integration: $(BINS)
	VIGIL_BIN=$(CURDIR)/$(BUILD)/bin $(PYTHON) -m pytest -q -p no:cacheprovider tests/integration

# libFuzzer targets: built with clang, replay the seed corpus and fuzz briefly.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BUILD := build-fuzz
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_CC ?= clang-14
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-Ilib -Imanager -Iagent -I$(LLHTTP_INC) $(PKG_CFLAGS)
# parsers only: the fuzz targets never touch the store or the network
# (agent/evq.c for its record parser: fuzz_evq)
FUZZ_LIB_SRC := $(LIB_SRC) manager/proto.c manager/config.c manager/apibody.c manager/actsettings.c \
	manager/psettings.c agent/evq.c \
	$(LLHTTP_SRC)/api.c $(LLHTTP_SRC)/http.c $(LLHTTP_SRC)/llhttp.c

# a target that needs one more module names it here (and stubs what it calls)
FUZZ_EXTRA_fuzz_wdreport := manager/wdreport.c
$(FUZZ_BUILD)/fuzz_wdreport: manager/wdreport.c

$(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_LIB_SRC) $(wildcard lib/*.h manager/*.h agent/*.h)
	@mkdir -p $(FUZZ_BUILD)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB_SRC) $(FUZZ_EXTRA_$*) $(PKG_LIBS) -lm

FUZZ_SECONDS ?= 5
fuzz-smoke: $(FUZZ_BIN)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@scripts/run-fuzz.sh 300 $(FUZZ_BIN)

check: deps lint
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) integration

demo: deps
	$(MAKE) all
	@scripts/demo.sh $(BUILD)/bin

lint:
	@scripts/checksrc.sh

# benchmarks: vigil-manager side by side with nginx (installed if missing);
# results in docs/BENCHMARKS.md.  BENCH_QUICK=1 for a shorter run.
bench: $(BINS)
	@$(PYTHON) bench/bench.py --bin $(CURDIR)/$(BUILD)/bin

clean:
	rm -rf build build-san build-fuzz
