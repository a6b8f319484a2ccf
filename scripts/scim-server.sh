#!/usr/bin/env bash
# Starts a throwaway SCIM 2.0 server (scim2-server from PyPI, in memory) for the connector tests and
# prints, as shell `export` lines, its base URL and the bearer token it accepts:
#   eval "$(scripts/scim-server.sh start <dir> <port>)"   installs python3-venv (apt) and
#                                                          scim2-server (into a virtualenv under
#                                                          target/) if needed
#   scripts/scim-server.sh stop <dir>
# The server starts empty; tests create the users and groups they need through SCIM itself.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

# The version the connector tests were last run with; change it together with docs/connectors.md.
requirement="scim2-server==0.8.3"
venv="$(cd "$(dirname "$0")/.." && pwd)/target/scim-server-venv"

install_server() {
  pinned_venv "$venv" 'import scim2_server' "$requirement"
}

start() {
  local dir=$1 port=$2
  install_server
  rm -rf "$dir"
  mkdir -p "$dir"
  local token
  token="scim-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  "$venv/bin/scim2-server" --hostname 127.0.0.1 --port "$port" --bearer-token "$token" \
    >"$dir/server.log" 2>&1 &
  echo $! >"$dir/server.pid"
  local url="http://127.0.0.1:$port/v2"
  for _ in $(seq 1 100); do
    if ! kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then break; fi
    if python3 - "$url" "$token" 2>/dev/null <<'PY'
import sys, urllib.request
# /Users needs the token (discovery documents may not), so another server on the port fails it.
request = urllib.request.Request(sys.argv[1] + "/Users?count=0",
                                 headers={"Authorization": "Bearer " + sys.argv[2]})
urllib.request.urlopen(request, timeout=1)
PY
    then
      echo "export SESAME_TEST_SCIM_URL=$url"
      echo "export SESAME_TEST_SCIM_TOKEN=$token"
      return 0
    fi
    sleep 0.1
  done
  echo "scim2-server did not start on $url; its log:" >&2
  cat "$dir/server.log" >&2
  stop "$dir"
  exit 1
}

stop() {
  stop_daemon "$1" server.pid
}

case "${1:-}" in
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  *) echo "usage: $0 start <dir> <port> | stop <dir>" >&2; exit 2 ;;
esac
