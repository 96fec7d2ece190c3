# mocker: the front door.  `make demo` shows it working, `make check` runs every test.
# Plain GNU make over src/**: adding a .c file needs no edit here.

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

# Linked: what every command uses.  Headers only: libraries that few commands
# need, loaded on first use (src/util/lazylib.c says why).
PKGS       := jansson sqlite3 libseccomp
LAZY_PKGS  := libarchive libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS) 2>/dev/null)
# Linked statically by default: every mocker process (and `run` execs two)
# would otherwise spend ~0.5 ms resolving symbols across three more shared
# objects.  LINK=dynamic links them as shared libraries instead.
LINK ?= static
ifeq ($(LINK),static)
PKG_LIBS   := -Wl,-Bstatic $(shell pkg-config --libs $(PKGS) 2>/dev/null) -Wl,-Bdynamic -ldl -lm
else
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl -lm
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
        -Wformat=2 -Wformat-nonliteral -Wimplicit-function-declaration \
        -Wincompatible-pointer-types -Wpointer-arith -Wundef -Wvla -Wswitch-default \
        -Wno-unused-parameter -Wno-missing-field-initializers
VERSION := 0.1.0
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Isrc $(PKG_CFLAGS) \
              -DMK_VERSION='"$(VERSION)"' -DMK_LIBEXECDIR='"$(PREFIX)/libexec/mocker"'

LIB_SRC  := $(shell find src -name '*.c' ! -path 'src/init/*' ! -name main.c | sort)
LIB_ASM  := $(shell find src -name '*.S' | sort)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(LIB_ASM:%.S=$(BUILD)/obj/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/asan/%.o) $(LIB_ASM:%.S=$(BUILD)/asan/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
ASAN_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests-asan/%)
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_BIN := $(BUILD)/fuzz/fuzz_http
# How long `make fuzz` (and `make check`) runs the fuzz target.
FUZZ_SECONDS ?= 20

V ?= 0
.PHONY: lint print-flags all deps check unit asan fuzz fuzz-libfuzzer integration install demo bench compat clean format format-check

all: $(BUILD)/mocker $(BUILD)/mocker-init

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.S data/seccomp-default.json
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-SAN  $<"
	@$(CC) $(ALL_CFLAGS) $(SAN) -O1 -MMD -MP -c $< -o $@

$(BUILD)/asan/%.o: %.S data/seccomp-default.json
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

$(BUILD)/libmocker.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libmocker-asan.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

# Bound at load, not lazily: the monitor and the container's init are forks
# of the CLI, and each would otherwise resolve (and copy on write the GOT
# page of) every libc function it first calls.  bench/ab: B/A 0.977.
$(BUILD)/mocker: $(BUILD)/obj/src/cli/main.o $(BUILD)/libmocker.a
	$(CC) $(ALL_CFLAGS) -Wl,-z,now -o $@ $^ $(PKG_LIBS)

# The init that --init runs as pid 1 inside containers: static, so it runs in any image.
$(BUILD)/mocker-init: src/init/init.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) -Os -static -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tap.h $(BUILD)/libmocker.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libmocker.a $(PKG_LIBS)

$(BUILD)/tests-asan/%: tests/unit/%.c tests/unit/tap.h $(BUILD)/libmocker-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -Itests/unit -o $@ $< $(BUILD)/libmocker-asan.a $(PKG_LIBS)

# The fuzz target over the API's request parser and router, under ASan+UBSan,
# with its own deterministic mutator loop (tests/fuzz/fuzz_http.c says why).
$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libmocker-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -O1 -o $@ $< $(BUILD)/libmocker-asan.a $(PKG_LIBS)

# The same target under libFuzzer's coverage-guided search: clang builds the
# parser and the router with coverage (their objects come before the library,
# so they replace its copies); the rest stays gcc's ASan build.
# `make fuzz-libfuzzer FUZZ_SECONDS=600` for a long run.
FUZZ_COVERED := src/api/http.c src/api/router.c
$(BUILD)/fuzz-libfuzzer/%: tests/fuzz/%.c $(FUZZ_COVERED) $(BUILD)/libmocker-asan.a
	@mkdir -p $(dir $@)
	clang -std=gnu11 -D_GNU_SOURCE -DMK_LIBFUZZER -g -O1 -Isrc $(PKG_CFLAGS) -DMK_VERSION='"$(VERSION)"' \
	    -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_COVERED) $(BUILD)/libmocker-asan.a $(PKG_LIBS)

fuzz: $(FUZZ_BIN)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 FUZZ_SECONDS=$(FUZZ_SECONDS) $(FUZZ_BIN)

fuzz-libfuzzer: $(BUILD)/fuzz-libfuzzer/fuzz_http
	@mkdir -p $(BUILD)/fuzz-corpus
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=8192 $(BUILD)/fuzz-corpus

deps:
	./tools/install-deps

unit: $(UNIT_BIN)
	./tests/run-unit $(UNIT_BIN)

asan: $(ASAN_BIN)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ./tests/run-unit $(ASAN_BIN)

integration: all
	./tests/integration/run

check: all $(UNIT_BIN) $(ASAN_BIN) $(FUZZ_BIN) lint
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./tests/run-all

# clang refuses a goto that skips a cleanup variable's initialisation (gcc lets
# it through and frees garbage): a syntax-only pass catches that class of bug.
lint:
	@if command -v clang >/dev/null; then \
	    for f in $(LIB_SRC) src/cli/main.c; do \
	        clang -std=gnu11 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -DMK_VERSION='"$(VERSION)"' -DMK_LIBEXECDIR='"x"' -fsyntax-only -Wno-everything $$f || exit 1; \
	    done; echo "lint: clang syntax pass clean"; \
	else echo "lint: clang not installed, skipped"; fi

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/libexec/mocker
	install -m 0755 $(BUILD)/mocker $(DESTDIR)$(PREFIX)/bin/mocker
	install -m 0755 $(BUILD)/mocker-init $(DESTDIR)$(PREFIX)/libexec/mocker/mocker-init
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	for u in contrib/systemd/*.service contrib/systemd/*.socket; do \
	    sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|/usr/local/bin/|$(PREFIX)/bin/|g' $$u >$(DESTDIR)$(PREFIX)/lib/systemd/system/$$(basename $$u) && \
	    chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/$$(basename $$u) || exit 1; \
	done

demo: deps all
	./tools/demo

bench: all
	./bench/run
	./bench/stats_ps
	./bench/pull
	./bench/net

compat: all
	./tests/compat/run

format:
	clang-format -i $$(find src tests -name '*.[ch]')

format-check:
	clang-format --dry-run --Werror $$(find src tests -name '*.[ch]')

# For building a module's files by hand: the flags and libraries everything uses.
print-flags:
	@echo CFLAGS: $(ALL_CFLAGS)
	@echo LIBS: $(PKG_LIBS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
