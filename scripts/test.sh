#!/usr/bin/env bash
# Runs every test, on a fresh machine too: installs and starts what the tests need (PostgreSQL from
# Debian's packages), then checks formatting and lints and runs the whole test suite against SQLite
# and PostgreSQL. The README's test command; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_dir="${TMPDIR:-/tmp}/sesame-test-postgres-$$"
pg_port="${SESAME_TEST_POSTGRES_PORT:-55432}"
cleanup() { scripts/postgres.sh stop "$pg_dir"; }
trap cleanup EXIT

echo "== starting PostgreSQL for the store contract and API tests"
SESAME_TEST_POSTGRES_URL=$(scripts/postgres.sh start "$pg_dir" "$pg_port")
export SESAME_TEST_POSTGRES_URL
# Under CI a PostgreSQL test that cannot reach its server fails instead of skipping.
export CI="${CI:-true}"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test (SQLite and PostgreSQL)"
log="${TMPDIR:-/tmp}/sesame-test-$$.log"
cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line for the whole run (cargo prints one per test binary, the last often a doc-test
# binary with nothing in it).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "%d passed, %d failed\n", passed, failed }' "$log"
rm -f "$log"

# SCIM compliance: scim2-tester (PyPI) against a running Sesame with a SCIM token; installs
# python3-venv and scim2-tester itself. See docs/scim.md.
echo "== SCIM compliance (scim2-tester)"
scripts/scim-compliance.sh
