#!/usr/bin/env bash
# SCIM compliance: starts Sesame (target/debug/sesame) on a free port with a SCIM token and a
# throw-away SQLite database, installs scim2-tester from PyPI into a virtualenv under target/, and
# runs every check it has against /scim/v2 (scripts/scim_compliance.py). Fails when a check fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "== installing python3-venv"
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv >/dev/null
fi

venv=target/scim-compliance-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import scim2_tester, httpx2' 2>/dev/null; then
    echo "== installing scim2-tester into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check scim2-tester "scim2-client[httpx2]"
fi

cargo build --quiet -p sesame --bin sesame
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token="scim-compliance-$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
cat > "$work/sesame.toml" <<TOML
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
target/debug/sesame --config "$work/sesame.toml" serve >"$work/sesame.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then cat "$work/sesame.log"; exit 1; fi
    sleep 0.1
done
"$venv/bin/python" scripts/scim_compliance.py "http://127.0.0.1:$port/scim/v2" "$token"
