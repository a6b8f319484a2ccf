#!/usr/bin/env bash
# Slack inbound throughput, Sesame side by side with the same access-request app on Bolt: builds the
# release binaries, then runs the same ramp against Bolt and then against Sesame for each kind of
# traffic, and prints one RESULT line per kind with both rates and their ratio. See perf/README.md.
#
#   scripts/perf-slack.sh
#   KINDS="event approve" RATES=1000,5000,10000,20000 STEP_S=5 scripts/perf-slack.sh
#   SESAME_BIN=target/release/sesame SKIP_BUILD=1 OVERLOAD=1 scripts/perf-slack.sh
#   APPS=sesame PROFILE=1 KINDS=approve scripts/perf-slack.sh   # Sesame alone, with a CPU profile
#
# Kinds (each ramp steps through RATES and keeps the highest rate whose acknowledgements have a p99
# under P99_MS with no errors, and whose follow-up Web API calls reached the stand-in for Slack
# within a second of the step's end):
#   event            app_mention events with unique ids (Sesame: de-dup key and handling job committed
#                    before the 200; reply chat.postEphemeral. Bolt: reply chat.postMessage)
#   view_submission  the request modal submitted (Sesame: a real request filed, its approver told;
#                    Bolt: a request kept in memory, its approver told)
#   approve          Approve clicked on real pending requests, a different request each click
#                    (Sesame: the click remembered, the decision committed; the approver's message
#                    edited. Bolt: the message edited)
#   slash            /access with text (Sesame answers in the acknowledgement; Bolt opens a modal)
# APPS (default "bolt sesame") picks the apps; PROFILE=1 records Sesame with `perf` during each ramp
# and adds the hottest functions to the log.
# OVERLOAD=1 then drives Sesame's events at twice their highest passing rate, samples its memory,
# and checks it answers and recovers afterwards; idle memory and time to ready are always reported.
#
# Logs go to $RESULTS (default $TMPDIR/sesame-perf-results); everything started is stopped by pid.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PERF="$ROOT/perf"
KINDS="${KINDS:-event view_submission approve slash}"
APPS="${APPS:-bolt sesame}"
RATES="${RATES:-500,1000,1500,2000,3000,5000,8000,10000,12000,15000,20000,25000,30000}"
STEP_S="${STEP_S:-10}"
P99_MS="${P99_MS:-50}"
SECRET="perf-signing-secret-0000"
TOKEN="xoxb-emulator-0000-token"
EXTRA="${LOADGEN_ARGS:-}"
RESULTS="${RESULTS:-${TMPDIR:-/tmp}/sesame-perf-results}"
TOOLS_TARGET="${PERF_TARGET_DIR:-${TMPDIR:-/tmp}/sesame-perf-target}"
SESAME_BIN="${SESAME_BIN:-$ROOT/target/release/sesame}"
mkdir -p "$RESULTS"
OUT="$RESULTS/perf-slack-$(date -u +%Y%m%dT%H%M%SZ).txt"
TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
say() { echo "$*" | tee -a "$OUT"; }
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{print ($14+$15)/t}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_mb() { awk '/VmRSS/ {printf "%.0f\n", $2/1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
# the peak resident memory of a process so far
peak_mb() { awk '/VmHWM/ {printf "%.0f\n", $2/1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# ---- build
if [ -z "${SKIP_BUILD:-}" ]; then
  (cd "$ROOT" && cargo build --release -p sesame)
fi
(cd "$PERF/loadgen" && CARGO_TARGET_DIR="$TOOLS_TARGET" cargo build --release --quiet)
(cd "$PERF/fastsink" && CARGO_TARGET_DIR="$TOOLS_TARGET" cargo build --release --quiet)
LOADGEN="$TOOLS_TARGET/release/loadgen"
SINK="$TOOLS_TARGET/release/fastsink"
BOLT_DIR="${TMPDIR:-/tmp}/sesame-perf-bolt"
mkdir -p "$BOLT_DIR" && cp "$PERF"/bolt-baseline/{app.js,package.json,package-lock.json} "$BOLT_DIR"/
if [ ! -d "$BOLT_DIR/node_modules/@slack/bolt" ]; then
  (cd "$BOLT_DIR" && npm ci --no-audit --no-fund --silent)
fi

"$SINK" --port 0 --token "$TOKEN" --url-file "$TMP/sink.url" > "$TMP/sink.log" 2>&1 &
SINK_PID=$!; PIDS+=("$SINK_PID")
for _ in $(seq 100); do [ -s "$TMP/sink.url" ] && break; sleep 0.1; done
SINK_URL="$(tr -d '\n' < "$TMP/sink.url")"
[ -n "$SINK_URL" ] || { cat "$TMP/sink.log"; echo "fastsink did not start" >&2; exit 1; }

say "# Slack inbound, Bolt then Sesame, $(date -u +%FT%TZ)"
say "machine: nproc=$(nproc) cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\" load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
say "sesame=$SESAME_BIN ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo ?)) rates=$RATES step=${STEP_S}s p99<${P99_MS}ms"

# Waits until no Web API call reaches the sink for 2 s (what a failed step left queued).
settle_sink() {
  local prev="" now quiet=0
  for _ in $(seq 120); do
    now="$(curl -s "$SINK_URL/_sink/stats" | sed -n 's/.*"total":{"calls":\([0-9]*\).*/\1/p')"
    if [ "$now" = "$prev" ]; then quiet=$((quiet + 1)); [ "$quiet" -ge 4 ] && return; else quiet=0; fi
    prev="$now"; sleep 0.5
  done
}

# ramp APP KIND URL PATH FOLLOWUP ARGS...: runs one ramp, keeps its output in $TMP/APP-KIND.txt.
ramp() {
  local app=$1 kind=$2 url=$3 path=$4 followup=$5 pid=$6; shift 6
  settle_sink
  curl -s -X POST "$SINK_URL/_sink/reset" > /dev/null || true
  local a0 t0 fu
  a0=$(cpu_s "$pid"); t0=$(date +%s.%N)
  if [ "$followup" = none ]; then fu="--no-followup-check"; else fu="--followup-method $followup"; fi
  say ""; say "## $app kind=$kind path=$path follow-up=$followup"
  local perf_pid=""
  if [ -n "${PROFILE:-}" ] && [ "$app" = sesame ]; then
    perf record -F 499 -g -o "$TMP/perf-$kind.data" -p "$pid" > /dev/null 2>&1 &
    perf_pid=$!
  fi
  # shellcheck disable=SC2086
  "$LOADGEN" --url "$url" --path "$path" --secret "$SECRET" --users 100 --ramp --ramp-rates "$RATES" \
    --duration "$STEP_S" --p99-ms "$P99_MS" --sink-url "$SINK_URL" $fu "$@" $EXTRA \
    > "$TMP/$app-$kind.txt" 2>&1 || true
  cat "$TMP/$app-$kind.txt" >> "$OUT"
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true; wait "$perf_pid" 2>/dev/null || true
    say "profile of sesame during the $kind ramp: self time by library, then Sesame's functions with their callees:"
    { perf report -i "$TMP/perf-$kind.data" --no-children --sort dso --stdio 2>/dev/null \
        | grep -E '^ +[0-9.]+%' | head -8
      perf report -i "$TMP/perf-$kind.data" --children --sort symbol --stdio -g none 2>/dev/null \
        | grep -E '^ +[0-9.]+%' | grep -E 'sesame_|sqlx|hyper|reqwest' | head -40; } > "$TMP/profile-$kind.txt" || true
    tee -a "$OUT" < "$TMP/profile-$kind.txt"
  fi
  grep -E '^(STEP|RESULT)|-> ' "$TMP/$app-$kind.txt" || tail -5 "$TMP/$app-$kind.txt"
  say "$app cpu during the ramp: $(echo "$(cpu_s "$pid") - $a0" | bc) s in $(echo "$(date +%s.%N) - $t0" | bc) s; rss $(rss_mb "$pid") MB, peak $(peak_mb "$pid") MB"
  say "sink: $(curl -s "$SINK_URL/_sink/stats" | head -c 700)"
}

# The highest passing rate of a ramp, or 0.
best() { sed -n 's/^RESULT .* rate=\([0-9]*\) .*/\1/p' "$TMP/$1-$2.txt" | tail -n1 | grep . || echo 0; }
best_p99() { sed -n 's/^RESULT .* p99_ms=\([0-9.]*\) .*/\1/p' "$TMP/$1-$2.txt" | tail -n1 | grep . || echo -; }
kept_up() { sed -n 's/^RESULT .*sink_kept_up=\([a-zA-Z]*\).*/\1/p' "$TMP/$1-$2.txt" | tail -n1 | grep . || echo -; }

# How many clicks a ramp over RATES can make at most (warm-up included).
clicks_needed() {
  python3 -c "import sys; r=[float(x) for x in sys.argv[1].split(',')]; print(int(r[0]*2 + sum(r)*float(sys.argv[2])) + 1)" "$RATES" "$STEP_S"
}

# ---------------------------------------------------------------- Bolt
if [[ " $APPS " == *" bolt "* ]]; then
(cd "$BOLT_DIR" && SLACK_SIGNING_SECRET="$SECRET" SLACK_BOT_TOKEN="$TOKEN" SLACK_API_URL="$SINK_URL/api/" \
    PORT=0 exec node app.js > "$TMP/bolt.log" 2>&1) &
BOLT_PID=$!; PIDS+=("$BOLT_PID")
for _ in $(seq 100); do grep -q '^BOLT_APP_URL=' "$TMP/bolt.log" 2>/dev/null && break; sleep 0.1; done
BOLT_URL="$(sed -n 's/^BOLT_APP_URL=//p' "$TMP/bolt.log")"
[ -n "$BOLT_URL" ] || { cat "$TMP/bolt.log"; echo "the Bolt app did not start" >&2; exit 1; }
say "bolt: $BOLT_URL, node $(node --version), @slack/bolt $(node -p "require('$BOLT_DIR/node_modules/@slack/bolt/package.json').version")"
for kind in $KINDS; do
  case "$kind" in
    event) ramp bolt event "$BOLT_URL" /slack/events chat.postMessage "$BOLT_PID" --kind event ;;
    view_submission) ramp bolt view_submission "$BOLT_URL" /slack/events chat.postMessage "$BOLT_PID" \
        --kind view_submission ;;
    # Bolt keeps requests R1, R2, ... in memory (the view_submission ramp filed them)
    approve) ramp bolt approve "$BOLT_URL" /slack/events chat.update "$BOLT_PID" \
        --kind block_action --action-id approve --action-value 'R{n}' ;;
    slash) ramp bolt slash "$BOLT_URL" /slack/events views.open "$BOLT_PID" --kind slash ;;
    *) echo "unknown kind $kind" >&2; exit 2 ;;
  esac
done
stop "$BOLT_PID"
fi

# ---------------------------------------------------------------- Sesame
if [[ " $APPS " == *" sesame "* ]]; then
# The embedded default (SQLite), the example flows plus `perf-access` (anyone asks, their manager
# approves), 100 people linked to the load generator's Slack users, and a manager for each
# (mgr7 approves perf7's requests), so that pending requests are spread over 100 approvers as they
# would be in an organisation rather than all waiting on one person.
mkdir -p "$TMP/flows" && cp "$ROOT"/examples/flows/*.yaml "$TMP/flows/"
cp "$PERF/sesame/perf-access.yaml" "$TMP/flows/"
python3 - "$TMP/directory.yaml" <<'PY'
import sys
out = ["groups:"] + [f"  - {{ id: {g}, name: {g} }}" for g in
       ["employees", "facilities", "it-ops", "security", "engineering", "sre", "finance", "sales", "sesame-admins", "auditors"]]
out += ["users:", "  - { id: boss, email: boss@example.com, display_name: The Boss, groups: [employees, facilities, it-ops, security, sesame-admins], chat: { slack: U0PERFBOSS } }"]
for i in range(100):
    out.append(f"  - {{ id: perf{i}, email: perf{i}@example.com, display_name: Perf {i}, manager: mgr{i}, groups: [employees, engineering], chat: {{ slack: U0PERF{i:05d} }} }}")
    out.append(f"  - {{ id: mgr{i}, email: mgr{i}@example.com, display_name: Manager {i}, manager: boss, groups: [employees], chat: {{ slack: U0PERFM{i:04d} }} }}")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
DB="$TMP/data/sesame.db"
cat > "$TMP/sesame.toml" <<TOML
[server]
listen = "127.0.0.1:$PORT"
[database]
url = "sqlite://$DB"
[flows]
dir = "$TMP/flows"
[directory]
file = "$TMP/directory.yaml"
[log]
level = "warn"
[slack]
bot_token = "$TOKEN"
signing_secret = "$SECRET"
api_url = "$SINK_URL/api/"
pace_calls = false
TOML
SESAME_URL="http://127.0.0.1:$PORT"
started=$(date +%s.%N)
(cd "$TMP" && exec "$SESAME_BIN" --config "$TMP/sesame.toml" serve > "$TMP/sesame.log" 2>&1) &
SESAME_PID=$!; PIDS+=("$SESAME_PID")
for _ in $(seq 1000); do curl -sf "$SESAME_URL/readyz" > /dev/null 2>&1 && break; sleep 0.01; done
ready=$(date +%s.%N)
curl -sf "$SESAME_URL/readyz" > /dev/null || { cat "$TMP/sesame.log"; echo "Sesame did not start" >&2; exit 1; }
sleep 2
say ""; say "sesame: ready $(echo "($ready - $started) * 1000 / 1" | bc) ms after start; idle rss $(rss_mb "$SESAME_PID") MB"

pending() { sqlite3 -readonly "$DB" "SELECT COUNT(*) || ' ' || COALESCE(MIN(number), 0) FROM requests WHERE state = 'pending_approval'"; }
outbox() { curl -s "$SESAME_URL/metrics" | sed -n 's/^sesame_outbox_jobs{status="pending"} //p'; }
SUBMIT=(--kind view_submission --view-callback-id sesame_request --view-metadata '{"flow":"perf-access"}'
        --view-values '{}' --expect-body clear)
for kind in $KINDS; do
  case "$kind" in
    event) ramp sesame event "$SESAME_URL" /slack/events chat.postEphemeral "$SESAME_PID" --kind event ;;
    view_submission) ramp sesame view_submission "$SESAME_URL" /slack/interactivity chat.postMessage \
        "$SESAME_PID" "${SUBMIT[@]}" ;;
    approve)
      # Every click approves a request of its own: file enough pending requests first.
      # (at most FILL_MAX: past them the clicks start over on requests already decided)
      need=$(clicks_needed); need=$(( need < ${FILL_MAX:-30000} ? need : ${FILL_MAX:-30000} ))
      read -r have first < <(pending)
      if [ "$have" -lt "$need" ]; then
        missing=$((need - have)); fill_rate=${FILL_RATE:-2000}
        say "filing $missing requests for the approve ramp at ${fill_rate}/s"
        settle_sink
        "$LOADGEN" --url "$SESAME_URL" --path /slack/interactivity --secret "$SECRET" --users 100 \
          --rate "$fill_rate" --duration "$(python3 -c "print($missing / $fill_rate + 1)")" --warmup 0 \
          --timeout-ms 10000 "${SUBMIT[@]}" > "$TMP/fill.txt" 2>&1 || true
        grep '^RESULT' "$TMP/fill.txt" | tee -a "$OUT"
        read -r have first < <(pending)
      fi
      say "pending requests: $have from number $first"
      # Each pending request clicked once, in order, by its requester's manager.
      sqlite3 -readonly "$DB" "SELECT requester, number FROM requests WHERE state = 'pending_approval' ORDER BY number" \
        | python3 -c 'import sys
for line in sys.stdin:
    who, number = line.strip().split("|")
    print(f"U0PERFM{int(who[4:]):04d} {number}:0")' > "$TMP/clicks.txt"
      ramp sesame approve "$SESAME_URL" /slack/interactivity chat.update "$SESAME_PID" \
        --kind block_action --action-id sesame_approve --clicks-file "$TMP/clicks.txt"
      read -r left _ < <(pending)
      say "approved by the ramp: $((have - left)) requests"
      ;;
    slash) ramp sesame slash "$SESAME_URL" /slack/commands none "$SESAME_PID" --kind slash --text "vpn" ;;
  esac
  sleep 5
  say "outbox 5 s after the $kind ramp: $(outbox) pending"
done

if [ -n "${OVERLOAD:-}" ]; then
  base=$(best sesame event); [ "$base" -gt 0 ] || base=1000
  over=$((base * 2))
  say ""; say "## overload: events at ${over}/s (twice ${base}/s) for ${STEP_S} s, then ${base}/s"
  settle_sink
  : > "$TMP/rss.txt"
  ( while kill -0 "$SESAME_PID" 2>/dev/null; do rss_mb "$SESAME_PID" >> "$TMP/rss.txt"; sleep 0.5; done ) &
  RSS_PID=$!; PIDS+=("$RSS_PID")
  "$LOADGEN" --url "$SESAME_URL" --path /slack/events --secret "$SECRET" --users 100 --kind event \
    --rate "$over" --duration "$STEP_S" --warmup 0 > "$TMP/overload.txt" 2>&1 || true
  grep '^RESULT' "$TMP/overload.txt" | sed 's/^RESULT/OVERLOAD/' | tee -a "$OUT"
  t_end=$(date +%s.%N)
  for _ in $(seq 100); do curl -sf -m 1 "$SESAME_URL/readyz" > /dev/null && break; sleep 0.1; done
  say "answering again $(echo "($(date +%s.%N) - $t_end) * 1000 / 1" | bc) ms after the overload"
  "$LOADGEN" --url "$SESAME_URL" --path /slack/events --secret "$SECRET" --users 100 --kind event \
    --rate "$base" --duration "$STEP_S" --warmup 0 > "$TMP/recovery.txt" 2>&1 || true
  grep '^RESULT' "$TMP/recovery.txt" | sed 's/^RESULT/RECOVERY/' | tee -a "$OUT"
  stop "$RSS_PID"
  say "rss during overload and recovery: max $(sort -n "$TMP/rss.txt" | tail -n1) MB"
  sleep 5
  say "outbox 5 s after the load: $(outbox) pending"
fi
say ""; say "## sesame log (first 20 lines)"; head -20 "$TMP/sesame.log" | tee -a "$OUT"
stop "$SESAME_PID"
fi

say ""; say "## summary (highest rate with ack p99 < ${P99_MS} ms, no errors)"
for kind in $KINDS; do
  b=$(best bolt "$kind"); s=$(best sesame "$kind")
  ratio=$(python3 -c "import sys; b,s=float(sys.argv[1]),float(sys.argv[2]); print(f'{s/b:.1f}' if b else 'inf')" "$b" "$s")
  say "RESULT kind=$kind bolt=$b/s sesame=$s/s ratio=${ratio}x sesame_p99_ms=$(best_p99 sesame "$kind") sesame_sink_kept_up=$(kept_up sesame "$kind") bolt_sink_kept_up=$(kept_up bolt "$kind")"
done
echo "full log: $OUT"
