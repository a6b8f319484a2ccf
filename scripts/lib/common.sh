# Shared by the scripts the test command runs (sourced, never run): installing pinned PyPI tools
# into a virtualenv, stopping a daemon started with a pid file, and running target/debug/sesame on
# a free port until it answers. Progress goes to standard error, so that scripts whose standard
# output is `eval`ed (the server scripts print `export` lines) can use it too.

# Debian's python3-venv, from apt when missing.
need_python_venv() {
    if command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null; then
        return 0
    fi
    echo "== installing python3-venv (Debian's package)" >&2
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3 python3-venv >/dev/null
}

# pinned_venv <venv> <python import statement> <requirement>...: (re)creates the virtualenv unless
# it already holds exactly these requirements and the import works.
pinned_venv() {
    local venv=$1 check=$2
    shift 2
    need_python_venv
    local stamp="$venv/.requirements"
    if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$*" ] \
        && "$venv/bin/python" -c "$check" 2>/dev/null; then
        return 0
    fi
    echo "== installing $* into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
    echo "$*" >"$stamp"
}

# stop_daemon <dir> <pid file in dir>: stops the process (waiting up to 5 s) and removes the dir.
stop_daemon() {
    local dir=$1 pidfile=$2
    if [ -f "$dir/$pidfile" ]; then
        local pid
        pid=$(cat "$dir/$pidfile")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -rf "$dir"
}

# target/debug/sesame, built when missing (the test command's `cargo test` has built it already).
need_sesame_binary() {
    if [ ! -x target/debug/sesame ]; then
        echo "== building target/debug/sesame" >&2
        cargo build -p sesame --locked
    fi
}

# A TCP port free on 127.0.0.1 now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_sesame <config> <log> <port>: runs `sesame serve` in the background, sets `sesame_pid`, and
# waits (up to 30 s) until /healthz answers; otherwise prints the log and exits 1. The caller stops
# it (kill "$sesame_pid") in its own EXIT trap.
sesame_pid=""
start_sesame() {
    local config=$1 log=$2 port=$3
    echo "== starting Sesame on 127.0.0.1:$port"
    target/debug/sesame --config "$config" serve >"$log" 2>&1 &
    sesame_pid=$!
    for _ in $(seq 1 300); do
        if python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/healthz', timeout=1)" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$sesame_pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "Sesame did not start; its log:" >&2
    cat "$log" >&2
    exit 1
}

# Stops the Sesame start_sesame started, if any.
stop_sesame() {
    if [ -n "$sesame_pid" ]; then
        kill "$sesame_pid" 2>/dev/null || true
        wait "$sesame_pid" 2>/dev/null || true
    fi
}
