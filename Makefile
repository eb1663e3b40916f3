# supervisor-rs: build, test and install.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
ETCDIR ?= $(PREFIX)/etc
CARGO ?= cargo
BINARIES = supervisord supervisorctl pidproxy echo_supervisord_conf

.PHONY: all build release test lint run install clean venv bench

all: release

build:
	$(CARGO) build

release:
	$(CARGO) build --release

# The whole suite: unit tests, integration tests of the real binaries, lints.
test: venv
	$(CARGO) test --all-targets
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

# Runs the daemon in the foreground on the sample config; logs and socket go to ./run.
run: release
	mkdir -p run
	./target/release/supervisord -n -c conf/supervisord.conf

install: release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(ETCDIR)
	for b in $(BINARIES); do install -m 0755 target/release/$$b $(DESTDIR)$(BINDIR)/$$b; done
	install -m 0644 man/supervisord.8 $(DESTDIR)$(MANDIR)/man8/supervisord.8
	for p in supervisorctl pidproxy echo_supervisord_conf; do install -m 0644 man/$$p.1 $(DESTDIR)$(MANDIR)/man1/$$p.1; done
	install -m 0644 man/supervisord.conf.5 $(DESTDIR)$(MANDIR)/man5/supervisord.conf.5
	test -e $(DESTDIR)$(ETCDIR)/supervisord.conf || install -m 0644 conf/sample.conf $(DESTDIR)$(ETCDIR)/supervisord.conf

clean:
	$(CARGO) clean
	rm -rf run

# The pinned Python supervisor (reference clients for the interop tests).
venv:
	./tools/venv.sh

# Benchmarks against Python supervisor 4.3.0 in the same run (tools/bench/bench.py; results go
# in docs/benchmarks.md). The unstripped build in target/bench-unstripped only feeds the
# per-crate symbol sizes of the footprint scenario. BENCH_ARGS e.g. "--rounds 5 --only idle_rss".
BENCH_ARGS ?=
bench: venv
	$(CARGO) build --release
	CARGO_PROFILE_RELEASE_STRIP=none CARGO_TARGET_DIR=target/bench-unstripped $(CARGO) build --release --bin supervisord --bin supervisorctl
	BENCH_UNSTRIPPED=target/bench-unstripped/release .venv/bin/python tools/bench/bench.py --json target/bench.json $(BENCH_ARGS)
