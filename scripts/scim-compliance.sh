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

if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "== installing python3-venv"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
fi

venv=target/scim-compliance-venv
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${requirements[*]}" ] \
    || ! "$venv/bin/python" -c 'import scim2_tester, httpx2' 2>/dev/null; then
    echo "== installing ${requirements[*]} into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${requirements[@]}"
    echo "${requirements[*]}" >"$stamp"
fi

if [ ! -x target/debug/sesame ]; then
    echo "== building target/debug/sesame"
    cargo build -p sesame --locked
fi

work=$(mktemp -d)
pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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
echo "== starting Sesame on 127.0.0.1:$port"
target/debug/sesame --config "$work/sesame.toml" serve >"$work/sesame.log" 2>&1 &
pid=$!
ready=""
for _ in $(seq 1 300); do
    if python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" 2>/dev/null; then
        ready=1
        break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
done
if [ -z "$ready" ]; then
    echo "Sesame did not start; its log:" >&2
    cat "$work/sesame.log" >&2
    exit 1
fi

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
