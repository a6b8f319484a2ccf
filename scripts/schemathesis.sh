#!/usr/bin/env bash
# The API's contract: starts Sesame (target/debug/sesame, built first when missing) on a free port
# with a throw-away SQLite database, installs schemathesis from PyPI into a virtualenv under
# target/ (python3-venv from apt when missing), and runs it against the OpenAPI document the
# server serves (/api/v1/openapi.json) with every check (`--checks all`): no server errors, every
# status, content type, header and body as documented, schema-invalid input refused, valid input
# accepted, authentication enforced. Exits non-zero on any failure. See docs/api.md.
#
# The fuzzer acts as an administrator whose directory id is random and appears nowhere else, so no
# generated call can reach that person; the stateful phase, which learns ids from GET
# /api/v1/directory/users, is kept from changing that one person (scripts/schemathesis_hooks.py),
# so nothing can deactivate the token's owner and end the run early. The run fails if the token
# no longer works at the end. Settings: scripts/schemathesis.toml.
#
# SESAME_SCHEMATHESIS_EXAMPLES sets the examples per operation (default 100) and
# SESAME_SCHEMATHESIS_SEED the seed (default 1, so that a run repeats); SESAME_SCHEMATHESIS_DATABASE
# a database URL to use instead of a throw-away SQLite file (an empty PostgreSQL database, say).
# Arguments are passed on to `st run`.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

# The version the contract was last checked with; change it together with docs/api.md.
requirements=("schemathesis==4.32.5")
examples="${SESAME_SCHEMATHESIS_EXAMPLES:-100}"

. scripts/lib/common.sh
venv=target/schemathesis-venv
pinned_venv "$venv" 'import schemathesis' "${requirements[@]}"
need_sesame_binary

work=$(mktemp -d)
cleanup() {
    stop_sesame
    rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
admin="fuzz-admin-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
# The test directory, and the fuzzer's administrator in it.
{
    cat crates/sesame-testkit/fixtures/directory.yaml
    echo "  - { id: $admin, email: $admin@fuzz.invalid, display_name: Contract Fuzzer, manager: carol, groups: [employees, sesame-admins] }"
} >"$work/directory.yaml"
cat >"$work/sesame.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
public_url = "http://127.0.0.1:$port"
[database]
url = "${SESAME_SCHEMATHESIS_DATABASE:-sqlite://$work/sesame.db}"
[flows]
dir = "$PWD/crates/sesame-testkit/fixtures/flows"
[directory]
file = "$work/directory.yaml"
[access]
admin_groups = ["sesame-admins"]
auditor_groups = ["auditors"]
[audit]
signing_key_file = "$work/audit-signing-key.pem"
TOML
start_sesame "$work/sesame.toml" "$work/sesame.log" "$port"
token=$(target/debug/sesame --config "$work/sesame.toml" token create --user "$admin" --name schemathesis 2>/dev/null)

# Requests to act on, so that calls on /requests/{number} meet real ones and not only 404: one
# waiting for approval, one waiting for fulfilment.
python3 - "$port" "$token" <<'PY'
import json, sys, urllib.request
port, token = sys.argv[1:]
for body in [
    {"flow": "carpark", "answers": {"plate": "AB12CDE", "site": "London", "ev": False},
     "justification": "contract check", "duration": "7d"},
    {"flow": "laptop", "answers": {"model": "13-inch"}},
]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/requests", json.dumps(body).encode(),
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
PY

echo "== running schemathesis (--checks all, $examples examples per operation) against http://127.0.0.1:$port"
status=0
SESAME_FUZZ_ADMIN="$admin" SCHEMATHESIS_HOOKS=scripts/schemathesis_hooks.py \
    "$venv/bin/st" --config-file scripts/schemathesis.toml run \
    "http://127.0.0.1:$port/api/v1/openapi.json" \
    --url "http://127.0.0.1:$port" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --max-examples "$examples" \
    --workers 2 \
    --seed "${SESAME_SCHEMATHESIS_SEED:-1}" \
    --request-timeout 10 \
    --no-color \
    --generation-database none \
    "$@" || status=$?
if ! python3 - "$port" "$token" <<'PY'
import sys, urllib.request
port, token = sys.argv[1:]
request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/me", headers={"Authorization": f"Bearer {token}"})
urllib.request.urlopen(request, timeout=10).read()
PY
then
    echo "== the fuzzer's token no longer works: the run locked itself out" >&2
    status=1
fi
if [ "$status" -ne 0 ]; then
    echo "== API contract FAILED (Sesame's logged errors follow)" >&2
    grep -iE 'error|panic' "$work/sesame.log" | tail -n 30 >&2 || true
else
    echo "== API contract passed in $((SECONDS - started))s"
fi
exit "$status"
