#!/usr/bin/env bash
# make check: build, run unit + integration tests, run the unit tests again
# under AddressSanitizer + UndefinedBehaviorSanitizer, run every fuzz target
# from its corpus for $FUZZ_SECONDS (10) seconds, and end with the line
# "N passed, N failed[, N skipped]". Exits non-zero if anything failed.
# check.sh asan (make check-asan): every test, integration included,
# against the ASan+UBSan build instead.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
jobs=$(nproc 2>/dev/null || echo 2)
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

build() {
	cmake -S . -B "$1" -G Ninja "${@:2}" >/dev/null && ninja -C "$1" >/dev/null
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0

if [[ ${1:-} == asan ]]; then
	# make check-asan: every test, unit and integration, against the
	# ASan+UBSan build (the integration tests run that ferry binary).
	if ! build "$ASAN_BUILD" -DCMAKE_BUILD_TYPE=Debug -DFERRY_SANITIZE=ON -DFERRY_INTEGRATION=ON; then
		echo "check: the sanitizer build failed" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
	ctest --test-dir "$ASAN_BUILD" -j "$jobs" --output-on-failure \
		--output-junit "$results/asan.xml" || status=1
else
	if ! build "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
		echo "check: the build failed" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
	if ! build "$ASAN_BUILD" -DCMAKE_BUILD_TYPE=Debug -DFERRY_SANITIZE=ON -DFERRY_INTEGRATION=ON; then
		echo "check: the sanitizer build failed" >&2
		echo "0 passed, 1 failed"
		exit 1
	fi
	ctest --test-dir "$BUILD" -j "$jobs" --output-on-failure \
		--output-junit "$results/main.xml" || status=1
	ctest --test-dir "$ASAN_BUILD" -L unit -j "$jobs" --output-on-failure \
		--output-junit "$results/asan.xml" || status=1
	# Every fuzz target from its corpus, briefly (clang's libFuzzer;
	# deps.sh installs it). A crash fails the check and leaves its input
	# in $FUZZ_BUILD/fuzz-crashes/.
	if CC=clang build "$FUZZ_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_FUZZ=ON \
		-DFERRY_INTEGRATION=OFF -DFERRY_FUZZ_SECONDS="$FUZZ_SECONDS"; then
		ctest --test-dir "$FUZZ_BUILD" -L fuzz -j "$jobs" --output-on-failure \
			--output-junit "$results/fuzz.xml" || status=1
	else
		# Counted in the last line too, so a broken build never reads as 0 failed.
		echo "check: the fuzz build failed" >&2
		printf '<testsuite><testcase name="fuzz-build"><failure/></testcase></testsuite>\n' \
			>"$results/fuzz-build.xml"
		status=1
	fi
fi

python3 - "$results"/*.xml <<'PY' || status=1
import sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except Exception as e:
        print(f"check: cannot read {path}: {e}", file=sys.stderr)
        failed += 1
        continue
    for case in root.iter("testcase"):
        st = case.get("status", "")
        if case.find("failure") is not None or st == "fail":
            failed += 1
        elif case.find("skipped") is not None or st in ("notrun", "disabled"):
            skipped += 1
        else:
            passed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
PY
exit $status
