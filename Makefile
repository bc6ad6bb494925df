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
BASE_CFLAGS := -std=c11 $(WARN) $(DEFS) $(PKG_CFLAGS) -MMD -MP
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# One folder per side, one archive per folder, and a one-way direction between them:
#   lib <- config, proto <- daemon, client, image <- main.c;  lib <- init (single-command mode)
# A folder is compiled with only its own and its dependencies' folders on the include path,
# so an #include across the forbidden direction fails the build (tests/build/test_layers.py),
# and the archives link in this order, so a call across it fails the link.
LAYERS      := daemon client init config proto lib
DEPS_lib    := lib
DEPS_config := config lib
DEPS_proto  := proto lib
DEPS_client := client config proto lib
DEPS_image  := image config lib
DEPS_init   := init lib
# daemon is split into rooms, sub-folders under the same rule (one archive, libdaemon.a, for all):
#   output <- core <- events <- rpc <- http;  all of them <- daemon.c (the start-up)
# http: the control server, web page, metrics; rpc: the XML-RPC methods; core: supervisor,
# processes and what drives them (fsm, deps, health, failfast, fcgi, a child's output pipes);
# events: the event bus and listeners; output: log files, the main log, pidvisor's own stdout.
# events sees core (its pools are process groups: events.c walks struct supervisor and struct
# process); core reaches the bus only through the hooks events_attach() gives it (struct
# bus_hooks, the state observers). Lower rooms reach higher ones only through hooks they are
# given (struct supervisor's observers and on_reload, ...).
# The include path alone holds the rooms apart: they share one archive, and -Werror refuses a
# call to an undeclared function.
DAEMON_ROOMS := http rpc core events output
DAEMON_ALL   := daemon $(foreach r,$(DAEMON_ROOMS),daemon/$(r)) config proto lib
DEPS_daemon        := $(DAEMON_ALL)
DEPS_daemon/http   := daemon/http daemon/rpc daemon/core daemon/events daemon/output config proto lib
DEPS_daemon/rpc    := daemon/rpc daemon/core daemon/events daemon/output config proto lib
DEPS_daemon/core   := daemon/core daemon/output config proto lib
DEPS_daemon/events := daemon/events daemon/core daemon/output config proto lib
DEPS_daemon/output := daemon/output config proto lib
DEPS_main   := $(DAEMON_ALL) client init
# The include path of a source path's folder: src/daemon/rpc/rpc.c -> -Isrc/daemon/rpc -Isrc/daemon/core ...
# (a folder is src/<layer> or src/daemon/<room>; a unit test sees its layer's: tests/unit/daemon/ sees every room)
path_of  = $(subst /, ,$(patsubst src/%,%,$(patsubst tests/unit/%,%,$(1))))
layer_of = $(firstword $(call path_of,$(1)))$(if $(and $(filter daemon,$(firstword $(call path_of,$(1)))),$(filter $(DAEMON_ROOMS),$(word 2,$(call path_of,$(1))))),/$(word 2,$(call path_of,$(1))))
incs_of  = $(foreach d,$(DEPS_$(if $(filter %.c,$(call layer_of,$(1))),main,$(call layer_of,$(1)))),-Isrc/$(d))
INC_ALL  := $(foreach d,$(DEPS_main) image,-Isrc/$(d))

layer_src = $(wildcard src/$(1)/*.c) $(if $(filter daemon,$(1)),$(foreach r,$(DAEMON_ROOMS),$(wildcard src/daemon/$(r)/*.c)))
CORE_SRC  := $(foreach l,$(LAYERS),$(call layer_src,$(l)))
IMAGE_SRC := $(call layer_src,image)
UNIT_SRC  := $(wildcard tests/unit/*/test_*.c)
LIBS      := $(foreach l,$(LAYERS),build/lib$(l).a)
ASAN_LIBS := $(foreach l,$(LAYERS),build/asan/lib$(l).a)

UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=build/asan/unit/%)
IMAGE_BIN := $(if $(IMAGE_SRC),build/pidvisor-image)

.PHONY: all static run test unit proc deps test-deps format check-format clean bench bench-single fuzz fuzz-smoke \
	install uninstall image deb test-orchestrators soak test-under-load
# the static pidvisor too: pidvisor-image build puts it in images (through pidvisor:VERSION)
all: build/pidvisor build/pidvisor-static $(IMAGE_BIN)

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(call incs_of,src/$*) $(CFLAGS) -c $< -o $@
build/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(call incs_of,src/$*) -O1 -g $(SAN) -c $< -o $@

define layer_archive
build/lib$(1).a: $$(patsubst src/%.c,build/obj/%.o,$$(call layer_src,$(1)))
	@rm -f $$@
	ar rcs $$@ $$^
build/asan/lib$(1).a: $$(patsubst src/%.c,build/asan/%.o,$$(call layer_src,$(1)))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS) image,$(eval $(call layer_archive,$(l))))

# Bound at start-up (-z now): a lazy binding in the init's wait loop would fault back the
# dynamic linker's pages that single-command mode drops (src/init/pages.c).
RELEASE_LDFLAGS := -Wl,-z,now
build/pidvisor: build/obj/main.o $(LIBS)
	$(CC) $(CFLAGS) $(RELEASE_LDFLAGS) -o $@ $^ $(CORE_LIBS)
build/asan/pidvisor: build/asan/main.o $(ASAN_LIBS)
	$(CC) $(SAN) -o $@ $^ $(CORE_LIBS)

# glibc static with no NSS use: users and groups come from /etc/passwd and /etc/group directly.
static: build/pidvisor-static
build/pidvisor-static: build/obj/main.o $(LIBS)
	$(CC) -static $(CFLAGS) $(RELEASE_LDFLAGS) -o $@ $^ $(CORE_LIBS)

build/pidvisor-image: build/obj/image/main.o build/libimage.a $(LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(YAML_LIBS) $(CORE_LIBS)
# hostile stack files run on both (tests/image/test_hostile_stack.py)
build/asan/pidvisor-image: build/asan/image/main.o build/asan/libimage.a $(ASAN_LIBS)
	$(CC) $(SAN) -o $@ $^ $(YAML_LIBS) $(CORE_LIBS)

# A unit test sees the include path of the folder it mirrors: tests/unit/config/ sees config, lib.
build/asan/unit/%: tests/unit/%.c build/asan/libimage.a $(ASAN_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(call incs_of,tests/unit/$*) -O1 -g $(SAN) -o $@ $< \
		build/asan/libimage.a $(ASAN_LIBS) -lcmocka $(YAML_LIBS) $(CORE_LIBS)

# libFuzzer targets (clang): tests/fuzz/fuzz_*.c, seeds in tests/fuzz/seeds/<target>/.
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_OBJ := $(filter-out build/fuzz/obj/image/main.o,$(patsubst src/%.c,build/fuzz/obj/%.o,$(CORE_SRC) $(IMAGE_SRC)))
FUZZ_CFLAGS := -std=c11 $(filter-out -Werror,$(WARN)) $(DEFS) $(PKG_CFLAGS) -O1 -g -fno-sanitize-recover=undefined -MMD -MP

build/fuzz/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(call incs_of,src/$*) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	clang $(FUZZ_CFLAGS) $(INC_ALL) -fsanitize=fuzzer,address,undefined -o $@ $(filter %.c %.o,$^) $(YAML_LIBS) $(CORE_LIBS)

# built through a pattern rule, so make would delete them as intermediates
.SECONDARY: $(FUZZ_OBJ)
# `make fuzz`: each target for FUZZ_SECONDS (default 600) from its seeds, the corpus it grew
# before (build/fuzz/corpus/<target>, where new inputs go) and, for the config targets, the
# shared corpus of real configs when it is there (PIDVISOR_CORPUS, as in tests/harness.py; it is
# read, never copied into tests/fuzz/seeds). An input that fails is saved as
# build/fuzz/artifacts/<target>-crash-<sha1> (or leak-, timeout-, oom-).
# `make fuzz-smoke`, run by `make test`, does the same briefly.
FUZZ_SECONDS ?= 600
SMOKE_SECONDS ?= 7
PIDVISOR_CORPUS ?= $(abspath $(CURDIR)/../shared/corpus/supervisord-configs)
CONFIG_CORPUS := $(wildcard $(PIDVISOR_CORPUS))
fuzz: $(FUZZ_BIN)
	@set -e; mkdir -p build/fuzz/artifacts; \
	for f in $(FUZZ_BIN); do t=$$(basename $$f); mkdir -p build/fuzz/corpus/$$t; \
	case $$t in fuzz_config|fuzz_ini) extra="$(CONFIG_CORPUS)";; *) extra=;; esac; \
	echo "== $$t ($(FUZZ_SECONDS)s)$${extra:+, with $$extra}"; \
	$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=1 \
		-artifact_prefix=build/fuzz/artifacts/$$t- \
		build/fuzz/corpus/$$t tests/fuzz/seeds/$$t $$extra 2>build/fuzz/$$t.log || \
		{ tail -40 build/fuzz/$$t.log; exit 1; }; \
	grep -E '^stat::(number_of_executed_units|peak_rss)' build/fuzz/$$t.log || true; \
	echo "corpus: $$(ls build/fuzz/corpus/$$t | wc -l) inputs"; done
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=$(SMOKE_SECONDS)

# The compiler command for a source file, for tests/build/test_layers.py: make -s print-cc F=src/x/y.c
print-cc:
	@echo $(CC) $(filter-out -MMD -MP,$(BASE_CFLAGS)) $(call incs_of,$(F)) -fsyntax-only

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

# tests/docker needs a Docker engine, mmdebstrap and busybox-static (the image set). The process
# tests mostly wait (for supervisors, timeouts, both implementations side by side), so they run
# in PYTEST_JOBS workers (pytest-xdist), a test file to a worker; tests/docker runs alone, on its
# one engine. A failing run does not keep the next ones from running; proc fails at the end.
PYTEST_JOBS ?= 4
proc: test-deps
	@packaging/install-deps.sh image
	$(MAKE) build/pidvisor build/asan/pidvisor build/pidvisor-static $(IMAGE_BIN) \
		$(IMAGE_BIN:build/%=build/asan/%)
	@rc=0; \
	$(PYTHON) -m pytest -q -rs -n $(PYTEST_JOBS) --dist loadfile tests/ --ignore=tests/docker \
		|| rc=1; \
	$(PYTHON) -m pytest -q -rs tests/docker || rc=1; \
	echo "== process and log tests again on the release build (its spawn path is not the ASan build's)"; \
	PIDVISOR=$(CURDIR)/build/pidvisor $(PYTHON) -m pytest -q -rs -n $(PYTEST_JOBS) --dist loadfile \
		tests/proc tests/logs -k "not supervisord" || rc=1; \
	exit $$rc

test: test-deps
	$(MAKE) check-format
	$(MAKE) unit
	$(MAKE) -j4 $(FUZZ_BIN)
	$(MAKE) fuzz-smoke
	@rc=0; $(MAKE) proc || rc=1; $(MAKE) test-orchestrators || rc=1; exit $$rc

# make test while a CPU hog keeps every core busy (stress-ng, or a shell loop per core without
# it), as on a shared CI machine: tests wait for events, so they must pass all the same. The hog
# runs in its own process group, killed by its pid when make test ends, passed or not (the hog
# alone if setsid has not run yet; the exit after make test keeps sh from exec'ing make in place
# of the shell that holds the trap).
LOAD_WORKERS ?= $(shell nproc)
LOAD_HOG := $(if $(shell command -v stress-ng),stress-ng --cpu $(LOAD_WORKERS) --quiet,\
	sh -c 'for i in $$(seq $(LOAD_WORKERS)); do (while :; do :; done) & done; wait')
test-under-load: test-deps
	@setsid $(LOAD_HOG) & hog=$$!; \
	trap 'kill -TERM -$$hog 2>/dev/null || kill -TERM $$hog; sleep 1; kill -KILL -$$hog 2>/dev/null' \
		EXIT HUP INT PIPE TERM; \
	echo "== make test with $(LOAD_WORKERS) CPU hogs (process group $$hog)"; \
	$(MAKE) test; rc=$$?; exit $$rc

# The soak (tests/soak/soak.py): SOAK_S seconds (30 minutes by default) of restarts, crash loops,
# log floods, reloads, ctl calls and hostile clients against pidvisor as PID 1; ASan+UBSan build
# unless PIDVISOR names another. Exits non-zero when a check fails.
soak: test-deps
	$(MAKE) build/pidvisor build/asan/pidvisor
	SOAK_S=$${SOAK_S:-1800} $(PYTHON) tests/soak/soak.py

bench: deps
	$(MAKE) build/pidvisor build/pidvisor-static
	bench/run
# single-command mode alone (pidvisor --, tini and dumb-init flavors, against tini, tini-static
# and dumb-init): about 2 minutes
bench-single: deps
	$(MAKE) build/pidvisor build/pidvisor-static
	bench/run --only single --out bench/results/single.json

FORMAT_FILES = $(wildcard src/*.c src/*/*.[ch] src/daemon/*/*.[ch] tests/unit/*/*.[ch] tests/fuzz/*.c)
format:
	clang-format -i $(FORMAT_FILES)
check-format:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf build

# make install [PREFIX=/usr/local] [DESTDIR=] [LINKS=1 [FORCE_LINKS=1]]; make uninstall (same
# variables): packaging/install.sh says what goes where and when a name becomes a symlink.
PREFIX ?= /usr/local
LINK_NAMES := supervisord supervisorctl tini dumb-init
install: build/pidvisor build/pidvisor-static $(IMAGE_BIN)
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" LINKS="$(LINKS)" FORCE_LINKS="$(FORCE_LINKS)" \
		LINK_NAMES="$(LINK_NAMES)" packaging/install.sh install
uninstall:
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" LINKS="$(LINKS)" FORCE_LINKS="$(FORCE_LINKS)" \
		LINK_NAMES="$(LINK_NAMES)" packaging/install.sh uninstall

# make image: pidvisor:$(VERSION), FROM scratch, holding /usr/bin/pidvisor (the static build) and
# the supervisord, supervisorctl, tini and dumb-init symlinks; DOCKER picks the client.
DOCKER ?= docker
image: build/pidvisor-static
	rm -rf build/image && mkdir -p build/image/usr/bin
	cp packaging/image/Dockerfile build/image/
	strip --strip-unneeded --remove-section=.comment --remove-section=.note \
		-o build/image/usr/bin/pidvisor build/pidvisor-static
	for n in $(LINK_NAMES); do ln -s pidvisor build/image/usr/bin/$$n; done
	$(DOCKER) build -t pidvisor:$(VERSION) build/image

# make deb: build/pidvisor_VERSION-1_ARCH.deb (packaging/build-deb.sh), which lintian must pass
# with no error and no warning (but initial-upload-closes-no-bugs: no Debian bug to close).
deb: build/pidvisor-static build/pidvisor-image
	packaging/build-deb.sh $(VERSION) build/pidvisor-static build/pidvisor-image build
	@command -v lintian >/dev/null || { echo "make deb: no lintian (packaging/install-deps.sh image)"; exit 1; }
	lintian --fail-on error,warning --suppress-tags initial-upload-closes-no-bugs build/pidvisor_$(VERSION)-1_*.deb

# The package, image and orchestrator tests (tests/orchestrators), in tests/docker's engine.
test-orchestrators: test-deps
	@packaging/install-deps.sh image
	$(MAKE) build/pidvisor build/pidvisor-static $(IMAGE_BIN)
	$(PYTHON) -m pytest -q -rs tests/orchestrators

-include $(wildcard build/obj/*.d build/obj/*/*.d build/obj/daemon/*/*.d build/asan/*.d build/asan/*/*.d build/asan/daemon/*/*.d build/asan/unit/*/*.d build/fuzz/obj/*/*.d build/fuzz/obj/daemon/*/*.d build/fuzz/obj/*.d build/fuzz/*.d)
