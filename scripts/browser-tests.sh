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
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "== installing python3-venv"
    apt_install python3 python3-venv
fi

venv=target/browser-tests-venv
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${requirements[*]}" ] \
    || ! "$venv/bin/python" -c 'import oidc_provider_mock, playwright, pytest' 2>/dev/null; then
    echo "== installing ${requirements[*]} into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    # Playwright drives the system's Chromium (executable_path); it never downloads a browser.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "${requirements[@]}"
    echo "${requirements[*]}" >"$stamp"
fi

if [ ! -x target/debug/sesame ]; then
    echo "== building target/debug/sesame"
    cargo build -p sesame --locked
fi

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
