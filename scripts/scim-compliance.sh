#!/usr/bin/env bash
# SCIM compliance: starts Sesame (target/debug/sesame, built first when missing) on a free port with
# a SCIM token and a throw-away SQLite database, installs scim2-tester from PyPI into a virtualenv
# under target/ (python3-venv from apt when missing), and runs every check it has against /scim/v2
# (scripts/scim_compliance.py). Prints one line per check and a summary; exits non-zero when any
# check fails. See docs/scim.md.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

# The versions the checks were last run with; change them together with docs/scim.md.
requirements=("scim2-tester==0.5.2" "scim2-client[httpx2]==0.13.2")

. scripts/lib/common.sh
venv=target/scim-compliance-venv
pinned_venv "$venv" 'import scim2_tester, httpx2' "${requirements[@]}"
need_sesame_binary

work=$(mktemp -d)
cleanup() {
    stop_sesame
    rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
token="scim-compliance-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
cat >"$work/sesame.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
public_url = "http://127.0.0.1:$port"
[database]
url = "sqlite://$work/sesame.db"
[flows]
dir = "$PWD/crates/sesame-testkit/fixtures/flows"
[directory]
file = "$PWD/crates/sesame-testkit/fixtures/directory.yaml"
[scim]
token = "$token"
TOML
start_sesame "$work/sesame.toml" "$work/sesame.log" "$port"

echo "== running scim2-tester against http://127.0.0.1:$port/scim/v2"
status=0
"$venv/bin/python" scripts/scim_compliance.py "http://127.0.0.1:$port/scim/v2" "$token" || status=$?
if [ "$status" -ne 0 ]; then
    echo "== SCIM compliance FAILED (Sesame's log follows)" >&2
    tail -n 50 "$work/sesame.log" >&2
else
    echo "== SCIM compliance passed in $((SECONDS - started))s"
fi
exit "$status"
