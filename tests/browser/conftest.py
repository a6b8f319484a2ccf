"""Fixtures for the portal's browser tests: a real OpenID Connect provider (oidc-provider-mock),
Sesame itself (target/debug/sesame with a throw-away SQLite database, the examples' flows and
directory, OIDC pointed at the provider) and headless Chromium driven by Playwright.

Run through scripts/browser-tests.sh, which installs what these need."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "target" / "browser-artifacts"
SESAME_BIN = Path(os.environ.get("SESAME_BIN", REPO / "target" / "debug" / "sesame"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CLIENT_ID = "sesame-portal"
CLIENT_SECRET = "browser-test-client-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within a minute:\n{log.read_text()}")


@pytest.fixture(scope="session")
def workdir():
    with tempfile.TemporaryDirectory(prefix="sesame-browser-") as d:
        yield Path(d)


@pytest.fixture(scope="session")
def provider(workdir):
    """The OpenID Connect provider. It signs ID tokens with RS256 and lets a test sign in as any
    subject; a subject it does not know gets the claim `email` equal to the subject."""
    port = free_port()
    log = workdir / "provider.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{issuer}/.well-known/openid-configuration", process, log, "the provider")
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


class Sesame:
    def __init__(self, base_url: str, config: Path):
        self.base_url = base_url
        self.config = config

    def url(self, path: str) -> str:
        return self.base_url + path

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(SESAME_BIN), "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"sesame {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout


@pytest.fixture(scope="session")
def sesame(workdir, provider):
    port = free_port()
    config = workdir / "sesame.toml"
    config.write_text(
        f"""
[server]
listen = "127.0.0.1:{port}"
public_url = "http://localhost:{port}"
[database]
url = "sqlite://{workdir}/sesame.db"
[flows]
dir = "{REPO}/examples/flows"
[directory]
file = "{REPO}/examples/directory.yaml"
[oidc]
issuer = "{provider}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
"""
    )
    log = workdir / "sesame.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(SESAME_BIN), "--config", str(config), "serve"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
    base = f"http://localhost:{port}"
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process, log, "Sesame")
        yield Sesame(base, config)
    finally:
        process.terminate()
        process.wait(timeout=20)
        (ARTIFACTS / "sesame.log").write_text(log.read_text())


@pytest.fixture(scope="session")
def browser():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def sign_in(browser, sesame: Sesame, email: str, path: str = "/catalog", mobile: bool = False):
    """A fresh browser context signed in as `email` through the provider's sign-in page."""
    viewport = {"width": 390, "height": 844} if mobile else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(sesame.url(path))
    # The provider's own page: type the subject and authorise.
    page.fill("input[name=sub]", email)
    submit(page, "button:has-text('Authorize')")
    page.wait_for_url(sesame.url(path))
    return context, page


def submit(page, selector: str) -> None:
    """Clicks a button that submits a form and waits until the page it leads to has loaded."""
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
