# Yiqi build. `make run` and `make test` are the two commands a new user needs;
# both install missing dependencies first (deploy/install-deps.sh).
#
#   make            build build/yiqi and the web UI
#   make run        build, create the demo database on first run, serve on 127.0.0.1:8080
#   make test       unit tests (cmocka), HTTP and browser tests (node --test), then ASan+UBSan
#   make bench      benchmarks that print figures (BENCH="http search" for some)
#   make fuzz       libFuzzer on the request path for a bounded time
#   make format     clang-format the C tree

CC      ?= cc
BUILD   ?= build
SANITIZE ?=
LLHTTP_SRC := /usr/share/llhttp
LLHTTP_INC := /usr/share/include/llhttp

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
               -Iserver -I$(LLHTTP_INC) -I$(BUILD)/gen -g
ifeq ($(SANITIZE),)
OPT := -O2
else
OPT := -O1 -fno-omit-frame-pointer -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
endif
CFLAGS  := $(CFLAGS_BASE) $(OPT) $(EXTRA_CFLAGS)
LDFLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE),)
# mimalloc replaces malloc in the normal build (answers, JSON trees and SQLite
# allocate per request; it measured 5-15% more writes per second than glibc's
# malloc in bench/). Sanitizer builds keep the allocator the sanitizer provides.
MALLOC_LIB := $(if $(SANITIZE),,-lmimalloc)
LIBS    := $(MALLOC_LIB) -luv -lsqlite3 -lcjson -lsodium -lcrypto -lxlsxwriter -lm -lpthread

SRCS      := $(shell find server -name '*.c' | sort)
MAIN_SRC  := server/main.c
LIB_SRCS  := $(filter-out $(MAIN_SRC),$(SRCS))
OBJS      := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LLHTTP_OBJS := $(BUILD)/obj/llhttp/llhttp.o $(BUILD)/obj/llhttp/api.o $(BUILD)/obj/llhttp/http.o
MIGRATIONS := $(sort $(wildcard server/db/migrations/*.sql))
DATA_FILES := $(sort $(wildcard data/*.tsv data/*.txt))
GEN_SRCS  := $(BUILD)/gen/migrations_gen.c $(BUILD)/gen/data_gen.c
GEN_OBJS  := $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(GEN_SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
DEPS_STAMP := $(BUILD)/.deps-ok

.PHONY: all deps run test test-unit test-http test-browser test-asan test-deploy bench fuzz format format-check web openapi clean

all: $(BUILD)/yiqi web

# Dependencies: install only when something is missing (the script is idempotent).
$(DEPS_STAMP): deploy/install-deps.sh package.json
	@bash deploy/install-deps.sh --check >/dev/null 2>&1 || bash deploy/install-deps.sh
	@mkdir -p $(BUILD) && touch $@
deps: $(DEPS_STAMP)

# Everything but main() goes into one archive that the server and the unit
# tests link against.
LIB := $(BUILD)/libyiqi.a
$(LIB): $(OBJS) $(GEN_OBJS) $(LLHTTP_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/yiqi: $(DEPS_STAMP) $(BUILD)/obj/server/main.o $(LIB)
	@echo "  LINK    $@"
	@$(CC) $(LDFLAGS) -o $@ $(BUILD)/obj/server/main.o $(LIB) $(LIBS)

$(BUILD)/obj/%.o: %.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# llhttp from Debian's node-llhttp, compiled into the build (never made lenient).
$(BUILD)/obj/llhttp/%.o: $(LLHTTP_SRC)/%.c $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) -std=c11 -O2 -g -I$(LLHTTP_INC) $(if $(SANITIZE),-fsanitize=$(SANITIZE),) -c $< -o $@

$(BUILD)/gen/migrations_gen.c: $(MIGRATIONS) tools/embed.sh
	@mkdir -p $(dir $@)
	bash tools/embed.sh migrations $(MIGRATIONS) > $@
$(BUILD)/gen/data_gen.c: $(DATA_FILES) tools/embed.sh
	@mkdir -p $(dir $@)
	bash tools/embed.sh data $(DATA_FILES) > $@
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  LINK    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) -lcmocka $(LIBS)

web: $(DEPS_STAMP)
	@if [ -f web/vite.config.mjs ]; then npm run --silent build; fi

openapi: $(DEPS_STAMP)
	node proto/build.mjs

run: $(BUILD)/yiqi web
	bash tools/run.sh

test: $(BUILD)/yiqi web $(UNIT_BINS)
	bash tools/test.sh

test-unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# Deployment checks (deploy/): systemd-analyze verify, nginx -t, TLS proxy,
# backup under load, restore, upgrade, serve --config.
test-deploy: $(BUILD)/yiqi
	node --test --test-concurrency=1 tests/deploy/

test-asan:
	$(MAKE) BUILD=build-asan SANITIZE=address,undefined build-asan/yiqi
	$(MAKE) BUILD=build-asan SANITIZE=address,undefined test-unit
	YIQI_BIN=build-asan/yiqi YIQI_ASAN=1 node --test --test-concurrency=1 tests/http/

bench: $(BUILD)/yiqi web
	YIQI_BIN=$(BUILD)/yiqi bash bench/run.sh $(BENCH)

fuzz:
	bash tests/fuzz/run.sh

format:
	find server tests bench -name '*.[ch]' | xargs clang-format -i
format-check:
	find server tests bench -name '*.[ch]' | xargs clang-format --dry-run -Werror

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
