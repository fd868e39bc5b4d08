# The two commands of the README, and a few more. CMake + Ninja do the work.
BUILD ?= build
ASAN_BUILD ?= build-asan
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build check check-asan demo bench fuzz format clean audit demo-capture install uninstall deb

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(BUILD)

# make install [PREFIX=/usr] [DESTDIR=...]; make uninstall removes what the
# last make install wrote, as listed (with DESTDIR) in $(BUILD)/installed-files.txt.
PREFIX ?= /usr/local
install: build
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@ninja -C $(BUILD) >/dev/null
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD)
	@sed 's|^|$(DESTDIR)|' $(BUILD)/install_manifest.txt >$(BUILD)/installed-files.txt

# The Debian package, ../ferry_<version>_<arch>.deb (see debian/README.Debian).
deb: deps
	@dpkg-buildpackage -us -uc -b

uninstall:
	@test -f $(BUILD)/installed-files.txt || { echo "uninstall: nothing installed from $(BUILD)" >&2; exit 1; }
	@xargs -d '\n' -r rm -fv < $(BUILD)/installed-files.txt
	@rm -f $(BUILD)/installed-files.txt

# Every test: unit + integration, then the unit tests again under ASan+UBSan.
check: deps
	@BUILD=$(BUILD) ASAN_BUILD=$(ASAN_BUILD) bash scripts/check.sh

# Every test, the integration suite included, against ASan+UBSan builds.
check-asan: deps
	@ASAN_BUILD=$(ASAN_BUILD) bash scripts/check.sh asan

# A throw-away organization on loopback: CA, two members, pushes and pulls.
demo: build
	@FERRY=$(BUILD)/ferry bash scripts/demo.sh

# ferry against scp, rsync and nginx+curl on loopback (minutes, not part of check).
# On tmpfs by default, so the tools are compared rather than the disk;
# BENCH_DIR=/var/tmp make bench measures on disk (ferry fsyncs, the others don't).
BENCH_DIR ?= $(shell [ -d /dev/shm ] && echo /dev/shm || echo /var/tmp)
bench: build
	@bash scripts/deps.sh bench
	@BENCH_DIR=$(BENCH_DIR) FERRY=$(BUILD)/ferry bash bench/compare

# testssl.sh against ferry serve, authd and echo-server on loopback; fails on
# any finding of severity LOW or above not on audit/allowlist.txt.
audit: build
	@bash scripts/deps.sh audit
	@FERRY=$(BUILD)/ferry bash scripts/audit.sh

# The demo's transfers and an authd enrollment, captured on loopback with
# tcpdump: nothing readable without the key log, everything with it.
demo-capture: build
	@FERRY=$(BUILD)/ferry bash scripts/demo-capture.sh

# The libFuzzer targets, briefly each.
fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -G Ninja -DFERRY_FUZZ=ON -DFERRY_INTEGRATION=OFF -DFERRY_FUZZ_SECONDS=20 >/dev/null
	@ninja -C build-fuzz
	@ctest --test-dir build-fuzz -L fuzz --output-on-failure

format:
	@clang-format -i include/ferry/*.h src/*/*.c src/*/*.h tests/unit/*.c fuzz/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
