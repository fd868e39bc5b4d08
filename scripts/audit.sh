#!/usr/bin/env bash
# make audit: testssl.sh against ferry's three TLS servers on loopback.
# A throw-away organization (CA, identities for 127.0.0.1/localhost, one
# account) in a temp dir; `ferry serve`, `ferry authd` and `ferry
# echo-server` on free 127.0.0.1 ports; testssl.sh against each with
# --jsonfile; every finding of severity LOW, MEDIUM, HIGH or CRITICAL that is
# not on audit/allowlist.txt fails the audit.
#
# testssl.sh 3.0.x cannot present a client certificate. `ferry serve` requires
# one, so against it only what precedes the client's Certificate message can
# be scanned (protocols, suites, groups, ServerHello behaviour); the
# echo-server (client certificate optional) and authd show the same TLS code.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
FERRY=$(realpath "${FERRY:-build/ferry}")
# serve and authd refuse to run as root unless told to (--user or --allow-root).
ALLOW_ROOT=()
[ "$(id -u)" -ne 0 ] || ALLOW_ROOT=(--allow-root)
ALLOW=${ALLOW:-$root/audit/allowlist.txt}
TESTSSL=$(command -v testssl || command -v testssl.sh || true)
[ -n "$TESTSSL" ] || { echo "audit: testssl.sh not installed (scripts/deps.sh audit)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-audit.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	[ -n "${KEEP:-}" ] && echo "audit: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

"$FERRY" ca init --dir ca --name "Audit Org Root CA" >/dev/null
"$FERRY" ca issue --dir ca --name bob --dns localhost --ip 127.0.0.1 --out bob >/dev/null
printf 'audit-pw-%s\n' "$RANDOM$RANDOM" |
	"$FERRY" user add --db ca/ferry.db --password-stdin alice >/dev/null
mkdir -p share inbox

# start NAME WHAT CMD...: run a daemon, wait for "WHAT: listening on", set PORT.
start() {
	local name=$1 what=$2 i
	shift 2
	"$@" >"$name.out" 2>"$name.log" </dev/null &
	pids+=($!)
	for i in $(seq 100); do
		grep -qs "$what: listening on " "$name.log" && break
		sleep 0.1
	done
	PORT=$(sed -n "s/.*$what: listening on .*:\([0-9][0-9]*\)\$/\1/p" "$name.log" | head -n1)
	[ -n "$PORT" ] || { cat "$name.log" >&2; echo "audit: $name did not start" >&2; exit 1; }
}
start serve serve "$FERRY" serve "${ALLOW_ROOT[@]}" -i bob --listen 127.0.0.1:0 --share share --inbox inbox
serve_port=$PORT
start authd authd "$FERRY" authd "${ALLOW_ROOT[@]}" --ca-dir ca --listen 127.0.0.1:0 --timeout 30
authd_port=$PORT
start echo echo-server "$FERRY" echo-server -i bob --listen 127.0.0.1:0 --timeout 30
echo_port=$PORT
echo "audit: serve 127.0.0.1:$serve_port, authd 127.0.0.1:$authd_port, echo-server 127.0.0.1:$echo_port"

fast=()
"$TESTSSL" --help 2>&1 | grep -q -- '--fast' && fast=(--fast)
scan() {
	local name=$1 port=$2
	# testssl's exit status counts findings; the JSON is what is judged.
	timeout 600 "$TESTSSL" --quiet --color 0 --warnings off "${fast[@]}" \
		--jsonfile "$work/$name.json" --ip=127.0.0.1 --add-ca "$work/ca/ca.pem" \
		-p -s -f -P -S -h -U "127.0.0.1:$port" >"$work/$name.txt" 2>&1
	echo $? >"$work/$name.rc"
}
echo "audit: running testssl.sh ($("$TESTSSL" --version 2>/dev/null | sed -n 's/.*testssl[^0-9]*\([0-9][0-9.]*\).*/\1/p' | head -n1)) against each, in parallel (at most 600 s each)"
scan serve "$serve_port" &
s1=$!
scan authd "$authd_port" &
s2=$!
scan echo-server "$echo_port" &
s3=$!
wait $s1 $s2 $s3 || true

python3 - "$work" "$ALLOW" serve authd echo-server <<'PY'
import json, os, sys
work, allowfile, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
bad_sev = {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
allow = {}
for line in open(allowfile):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    parts = line.split(None, 1)
    # "ID justification" or "target:ID justification"
    allow[parts[0]] = parts[1] if len(parts) > 1 else ""
rows, failures, problems = [], 0, []
for t in targets:
    rc = open(os.path.join(work, t + ".rc")).read().strip() if os.path.exists(os.path.join(work, t + ".rc")) else "?"
    path = os.path.join(work, t + ".json")
    try:
        data = json.load(open(path))
    except Exception as e:
        problems.append(f"{t}: no usable JSON ({e}); testssl exit {rc}")
        continue
    if isinstance(data, dict):
        data = data.get("scanResult", data)
    if rc == "124":
        problems.append(f"{t}: testssl.sh timed out after 600 s")
    n = 0
    for f in data:
        sev = str(f.get("severity", "")).upper()
        if sev not in bad_sev:
            continue
        fid = f.get("id", "?")
        ok = f"{t}:{fid}" in allow or fid in allow
        rows.append((t, fid, sev, " ".join(str(f.get("finding", "")).split())[:70], "yes" if ok else "NO"))
        n += 1
        if not ok:
            failures += 1
    if n == 0:
        rows.append((t, "-", "-", f"no LOW..CRITICAL finding ({len(data)} results)", "-"))
w = [max(len(r[i]) for r in rows + [("target", "id", "severity", "finding", "allowed?")]) for i in range(5)]
fmt = "  ".join("%-" + str(x) + "s" for x in w)
print(fmt % ("target", "id", "severity", "finding", "allowed?"))
print(fmt % tuple("-" * x for x in w))
for r in rows:
    print(fmt % r)
for p in problems:
    print("audit: " + p)
total = sum(1 for r in rows if r[1] != "-")
if failures or problems:
    print(f"AUDIT FAILED: {failures} finding(s) of severity LOW or above not on the allow-list"
          f" ({total} in all){', ' + str(len(problems)) + ' scan problem(s)' if problems else ''}")
    sys.exit(1)
print(f"AUDIT PASSED: {total} finding(s) of severity LOW or above, all on the allow-list; targets: {', '.join(targets)}")
PY
