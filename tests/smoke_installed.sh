#!/usr/bin/env bash
# The package as a library: build the wheel, install it (with the [service] extra) into a
# fresh venv in a temporary folder, and use it from a folder outside any checkout: list,
# validate, test, eval, the Python API, and serve with one HTTP request. Nothing may be
# written into site-packages. Any problem stops the script with a non-zero exit.
#   usage: tests/smoke_installed.sh [PYTHON]   (PYTHON builds the wheel; default .venv's)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_PY="${1:-$REPO/.venv/bin/python}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/policy-smoke.XXXXXX")"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
step() { echo "smoke: ${SECONDS}s: $*"; }
unset PYTHONPATH POLICY_ROOT
export XDG_CACHE_HOME="$WORK/cache" PIP_DISABLE_PIP_VERSION_CHECK=1

step "build the wheel"
"$BUILD_PY" -m pip wheel -q --no-deps -w "$WORK/dist" "$REPO"
step "install it into a fresh venv"
python3 -m venv "$WORK/venv"
WHEEL="$(ls "$WORK"/dist/gd_gazette_policy-*.whl)"
"$WORK/venv/bin/pip" install -q "$WHEEL[service]" 2> >(grep -v "^WARNING: Location " >&2)
BIN="$WORK/venv/bin"

mkdir "$WORK/elsewhere"
cp "$REPO/examples/pension-facts.json" "$WORK/elsewhere/facts.json"
cd "$WORK/elsewhere"
SITE="$("$BIN/python" -c 'import interpreter, pathlib; print(pathlib.Path(interpreter.__file__).parent)')"
case "$SITE" in "$REPO"*) fail "interpreter imported from the checkout: $SITE" ;; esac
find "$SITE" | sort >"$WORK/before.txt"

step "policy list, validate, test, eval from $PWD"
"$BIN/policy" list >list.out 2>list.err || fail "policy list: exit $?"
grep -q "^policies: installed package gd-gazette-policy .* ($SITE/_data/policies)$" list.err \
  || fail "policy list does not name the installed package: $(cat list.err)"
[ "$(wc -l <list.out)" -eq "$(ls -d "$REPO"/policies/*/policy.yaml | wc -l)" ] \
  || fail "policy list: $(wc -l <list.out) policies"
grep -q "^pension-adjustment-2021	粤人社规〔2021〕13号	" list.out || fail "policy list: no pension"

"$BIN/policy" validate >validate.out || fail "policy validate: exit $?"
grep -q "^ok: pension-adjustment-2021 " validate.out || fail "policy validate: no ok line"
[ -n "$(ls -A "$XDG_CACHE_HOME/gd-gazette-policy/valid")" ] || fail "no validation cache"

"$BIN/policy" test >test.out || fail "policy test: exit $?"
grep -q " passed, 0 failed$" test.out || fail "policy test: $(tail -1 test.out)"

"$BIN/policy" eval pension-adjustment-2021 --facts facts.json --on 2021-01-01 >eval.json \
  || fail "policy eval: exit $?"
"$BIN/python" - <<'PY' || fail "policy eval: unexpected document"
import json
doc = json.load(open("eval.json", encoding="utf-8"))
assert doc["format"] == "trace.v1" and doc["outputs"]["new_monthly_pension"] == "3156.00", doc
assert doc["engine_version"] and doc["calendar_version"], doc
PY

step "the Python API"
"$BIN/python" - <<'PY' || fail "Python API"
import json
from decimal import Decimal

from interpreter import ENGINE_VERSION, evaluate

facts = json.load(open("facts.json", encoding="utf-8"))
result = evaluate("pension-adjustment-2021", facts, on="2021-01-01")
assert result.outputs["new_monthly_pension"] == Decimal("3156.00"), result.outputs
assert result.as_dict()["engine_version"] == ENGINE_VERSION
PY

step "policy serve"
PORT="$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$BIN/policy" serve --host 127.0.0.1 --port "$PORT" >serve.log 2>&1 &
SERVER=$!
"$BIN/python" - "$PORT" <<'PY' || fail "policy serve: $(cat serve.log)"
import json, sys, time, urllib.request

base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
facts = json.load(open("facts.json", encoding="utf-8"))
body = json.dumps({"facts": facts, "on": "2021-01-01", "trace": False}).encode()
request = urllib.request.Request(
    base + "/policies/pension-adjustment-2021/evaluate",
    body,
    {"Content-Type": "application/json"},
)
doc = json.load(urllib.request.urlopen(request, timeout=10))
assert doc["outputs"]["new_monthly_pension"] == "3156.00", doc
PY
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true
SERVER=""

find "$SITE" | sort >"$WORK/after.txt"
diff "$WORK/before.txt" "$WORK/after.txt" >&2 || fail "files written into site-packages"
echo "smoke: ${SECONDS}s: ok: the installed wheel lists, validates, tests, evaluates and serves"
