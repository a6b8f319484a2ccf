#!/usr/bin/env bash
# The portal's browser tests: headless Chromium (Debian's package) driven by Playwright, signing in
# through a real OpenID Connect provider running locally (oidc-provider-mock), against Sesame built
# as target/debug/sesame (built first when missing). Installs what it needs on a fresh Debian 12
# machine: chromium and python3-venv with apt-get, the pinned PyPI packages into a virtualenv
# under target/. Screenshots of the main pages go to target/browser-artifacts/. Prints a summary
# and exits non-zero when a test fails. See docs/portal.md.
set -euo pipefail
cd "$(dirname "$0")/.."

# The versions the tests were last run with; change them together with docs/portal.md.
requirements=("oidc-provider-mock==0.3.4" "playwright==1.65.2" "pytest==9.2.0")

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
apt_updated=""
apt_install() {
    if [ -z "$apt_updated" ]; then
        $SUDO apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x /usr/bin/chromium ]; then
    echo "== installing chromium (Debian's package)"
    apt_install chromium
fi
. scripts/lib/common.sh
# Playwright drives the system's Chromium (executable_path); it never downloads a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
venv=target/browser-tests-venv
pinned_venv "$venv" 'import oidc_provider_mock, playwright, pytest' "${requirements[@]}"
need_sesame_binary

mkdir -p target/browser-artifacts
rm -f target/browser-artifacts/*.png
echo "== portal browser tests (Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'))"
status=0
PYTHONDONTWRITEBYTECODE=1 SESAME_BIN="$PWD/target/debug/sesame" CHROMIUM=/usr/bin/chromium \
    "$venv/bin/python" -m pytest tests/browser -q -rA --tb=short -c tests/browser/pytest.ini \
    --junitxml=target/browser-artifacts/results.xml || status=$?

# One closing line, counted from pytest's JUnit report.
summary=$("$venv/bin/python" - <<'PY' 2>/dev/null || echo "? tests, ? failed"
import xml.etree.ElementTree as ET
root = ET.parse("target/browser-artifacts/results.xml").getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
tests, bad = int(suite.get("tests", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
print(f"{tests} tests, {bad} failed")
PY
)
if [ "$status" -eq 0 ]; then
    echo "browser tests: PASS ($summary; screenshots in target/browser-artifacts/)"
else
    echo "browser tests: FAIL ($summary; see above, and target/browser-artifacts/)"
fi
exit "$status"
