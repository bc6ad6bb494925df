# pidvisor: a supervisord-compatible PID 1 for containers.
# `make` builds build/pidvisor; `make run` runs it on conf/pidvisor.conf; `make test` runs every test.
# run and test install their own Debian dependencies (packaging/install-deps.sh).

CC      ?= cc
PYTHON  ?= /usr/bin/python3
VERSION := 0.1.0

# libev ships no pkg-config file on Debian bookworm.
PKG_CFLAGS := $(shell pkg-config --cflags inih expat yaml-0.1 2>/dev/null)
CORE_LIBS  := -lev $(shell pkg-config --libs inih expat 2>/dev/null || echo -linih -lexpat)
YAML_LIBS  := $(shell pkg-config --libs yaml-0.1 2>/dev/null || echo -lyaml)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
DEFS    := -D_GNU_SOURCE -DPIDVISOR_VERSION='"$(VERSION)"'
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 $(WARN) $(DEFS) -Isrc $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ASAN_CFLAGS := -std=c11 $(WARN) $(DEFS) -Isrc $(PKG_CFLAGS) -O1 -g $(SAN) -MMD -MP

CORE_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
IMAGE_SRC := $(wildcard src/image/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)

CORE_OBJ  := $(CORE_SRC:src/%.c=build/obj/%.o)
ASAN_OBJ  := $(CORE_SRC:src/%.c=build/asan/%.o)
IMAGE_OBJ := $(IMAGE_SRC:src/image/%.c=build/obj/image/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=build/asan/%)
IMAGE_BIN := $(if $(IMAGE_SRC),build/pidvisor-image)

.PHONY: all static run test unit proc deps test-deps format check-format clean bench fuzz fuzz-smoke
all: build/pidvisor $(IMAGE_BIN)

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
build/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -c $< -o $@

build/libpidvisor.a: $(CORE_OBJ)
	ar rcs $@ $^
build/asan/libpidvisor.a: $(ASAN_OBJ)
	ar rcs $@ $^

build/pidvisor: build/obj/main.o build/libpidvisor.a
	$(CC) $(CFLAGS) -o $@ $^ $(CORE_LIBS)
build/asan/pidvisor: build/asan/main.o build/asan/libpidvisor.a
	$(CC) $(SAN) -o $@ $^ $(CORE_LIBS)

# glibc static with no NSS use: users and groups come from /etc/passwd and /etc/group directly.
static: build/pidvisor-static
build/pidvisor-static: build/obj/main.o build/libpidvisor.a
	$(CC) -static $(CFLAGS) -o $@ $^ $(CORE_LIBS)

build/obj/image/%.o: src/image/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@
build/pidvisor-image: $(IMAGE_OBJ) build/libpidvisor.a
	$(CC) $(CFLAGS) -o $@ $^ $(YAML_LIBS) $(CORE_LIBS)

build/asan/test_%: tests/unit/test_%.c build/asan/libpidvisor.a
	@mkdir -p $(dir $@)
	$(CC) $(ASAN_CFLAGS) -o $@ $< build/asan/libpidvisor.a -lcmocka $(YAML_LIBS) $(CORE_LIBS)

# libFuzzer targets (clang): tests/fuzz/fuzz_*.c, seeds in tests/fuzz/seeds/<target>/.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJ := $(CORE_SRC:src/%.c=build/fuzz/obj/%.o)
FUZZ_CFLAGS := -std=c11 $(filter-out -Werror,$(WARN)) $(DEFS) -Isrc $(PKG_CFLAGS) -O1 -g -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 20

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(CORE_LIBS)

# fuzz_stack also needs the image builder's objects (not its main) and libyaml
FUZZ_IMAGE_OBJ := $(filter-out build/fuzz/obj/image/main.o,$(IMAGE_SRC:src/image/%.c=build/fuzz/obj/image/%.o))
build/fuzz/obj/image/%.o: src/image/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
build/fuzz/fuzz_stack: tests/fuzz/fuzz_stack.c $(FUZZ_IMAGE_OBJ) $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(YAML_LIBS) $(CORE_LIBS)

# built through a pattern rule, so make would delete them as intermediates
.SECONDARY: $(FUZZ_OBJ) $(FUZZ_IMAGE_OBJ)
fuzz: $(FUZZ_BIN)
# Each target for FUZZ_SECONDS from its seeds; the grown corpus stays in build/fuzz/corpus.
fuzz-smoke: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do t=$$(basename $$f); mkdir -p build/fuzz/corpus/$$t; \
	echo "== $$t ($(FUZZ_SECONDS)s)"; \
	$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=0 \
		build/fuzz/corpus/$$t tests/fuzz/seeds/$$t 2>build/fuzz/$$t.log || \
		{ tail -40 build/fuzz/$$t.log; exit 1; }; done

deps:
	@packaging/install-deps.sh build
test-deps:
	@packaging/install-deps.sh test

run: deps
	$(MAKE) build/pidvisor
	./build/pidvisor -n -c conf/pidvisor.conf

unit: test-deps
	$(MAKE) $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# tests/docker needs a Docker engine, mmdebstrap and busybox-static (the image set).
proc: test-deps
	@packaging/install-deps.sh image
	$(MAKE) build/pidvisor build/asan/pidvisor build/pidvisor-static $(IMAGE_BIN)
	$(PYTHON) -m pytest -q tests/
	@echo "== process and log tests again on the release build (its spawn path is not the ASan build's)"
	PIDVISOR=$(CURDIR)/build/pidvisor $(PYTHON) -m pytest -q tests/proc tests/logs -k "not supervisord"

test: test-deps
	$(MAKE) unit
	$(MAKE) -j4 $(FUZZ_BIN)
	$(MAKE) fuzz-smoke FUZZ_SECONDS=7
	$(MAKE) proc

bench: deps
	$(MAKE) build/pidvisor build/pidvisor-static
	bench/run

format:
	clang-format -i src/*.c src/*.h src/image/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c
check-format:
	clang-format --dry-run --Werror src/*.c src/*.h src/image/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c

clean:
	rm -rf build

-include $(wildcard build/obj/*.d build/obj/image/*.d build/asan/*.d build/fuzz/obj/*.d build/fuzz/obj/image/*.d)
