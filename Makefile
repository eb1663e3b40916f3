# supervisor-rs: build, test and install.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
ETCDIR ?= $(PREFIX)/etc
CARGO ?= cargo
BINARIES = supervisord supervisorctl pidproxy echo_supervisord_conf
# Release binaries are static (musl): they run in any image, scratch included, need no libc
# at run time, and an idle daemon maps half the pages a glibc build does (docs/benchmarks.md).
# `make TARGET=x86_64-unknown-linux-gnu` builds dynamic glibc binaries instead (users and
# groups then resolve through NSS, e.g. LDAP; the static build reads /etc/passwd and
# /etc/group).
TARGET ?= x86_64-unknown-linux-musl
# What the release build really targets: TARGET, whose standard library rustup adds on first
# use; the host target (with a notice) when it cannot be had. Worked out only for the goals
# that build, so `make lint` or `make clean` never call rustup.
ifneq ($(filter all release test run install bench,$(or $(MAKECMDGOALS),all)),)
BUILD_TARGET := $(or $(shell ./tools/release-target.sh $(TARGET)),$(TARGET))
endif
REL = target/$(BUILD_TARGET)/release
# Where tests record what they skipped (tests/common skip()), one file per run.
SKIPS = $(CURDIR)/target/test-skips

.PHONY: all build release test lint run install clean venv bench fuzz

all: release

build:
	$(CARGO) build

release:
	$(CARGO) build --release --target $(BUILD_TARGET)

# The whole suite: unit tests, integration tests of the real binaries, lints; then the
# integration tests again against the release binaries `make install` ships. It ends with
# the tests that were skipped because something they need is missing here (each also prints
# a SKIPPED line when it happens; under CI=true they fail instead).
test: venv release
	@rm -rf $(SKIPS) && mkdir -p $(SKIPS)
	SUPERVISOR_TEST_SKIPS=$(SKIPS)/debug.txt $(CARGO) test --all-targets \
		|| { ./tools/test-summary.sh $(SKIPS)/debug.txt; exit 1; }
	SUPERVISOR_TEST_SKIPS=$(SKIPS)/release.txt SUPERVISOR_TEST_BINDIR=$(REL) $(CARGO) test --tests \
		|| { ./tools/test-summary.sh $(SKIPS)/debug.txt $(SKIPS)/release.txt; exit 1; }
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	@./tools/test-summary.sh $(SKIPS)/debug.txt $(SKIPS)/release.txt

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

# Runs the daemon in the foreground on the sample config; logs and socket go to ./run.
run: release
	mkdir -p run
	./$(REL)/supervisord -n -c conf/supervisord.conf

install: release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(ETCDIR)
	for b in $(BINARIES); do install -m 0755 $(REL)/$$b $(DESTDIR)$(BINDIR)/$$b; done
	install -m 0644 man/supervisord.8 $(DESTDIR)$(MANDIR)/man8/supervisord.8
	for p in supervisorctl pidproxy echo_supervisord_conf; do install -m 0644 man/$$p.1 $(DESTDIR)$(MANDIR)/man1/$$p.1; done
	install -m 0644 man/supervisord.conf.5 $(DESTDIR)$(MANDIR)/man5/supervisord.conf.5
	test -e $(DESTDIR)$(ETCDIR)/supervisord.conf || install -m 0644 conf/sample.conf $(DESTDIR)$(ETCDIR)/supervisord.conf

clean:
	$(CARGO) clean
	rm -rf run

# Fuzzing (docs/hardening.md): each cargo-fuzz target for FUZZ_SECS seconds, one at a time,
# then a line per target; installs cargo-fuzz if missing. Runs on stable Rust (tools/fuzz.sh
# says how). `make test` replays the committed seeds (fuzz/seeds) without it.
FUZZ_SECS ?= 60
fuzz:
	CARGO=$(CARGO) FUZZ_SECS=$(FUZZ_SECS) ./tools/fuzz.sh

# The pinned Python supervisor (reference clients for the interop tests).
venv:
	./tools/venv.sh

# Benchmarks against Python supervisor 4.3.0 in the same run (tools/bench/bench.py; results go
# in docs/benchmarks.md). The unstripped build in target/bench-unstripped only feeds the
# per-crate symbol sizes of the footprint scenario. BENCH_ARGS e.g. "--rounds 5 --only idle_rss".
BENCH_ARGS ?=
bench: venv release
	CARGO_PROFILE_RELEASE_STRIP=none CARGO_TARGET_DIR=target/bench-unstripped $(CARGO) build --release --target $(BUILD_TARGET) --bin supervisord --bin supervisorctl
	rustc --edition 2021 -C opt-level=3 -o target/bench-relay tools/bench/relay.rs
	BENCH_REL=$(REL) BENCH_RELAY=target/bench-relay BENCH_UNSTRIPPED=target/bench-unstripped/$(BUILD_TARGET)/release .venv/bin/python tools/bench/bench.py --json target/bench.json $(BENCH_ARGS)
