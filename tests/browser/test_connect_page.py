"""The connect page in a real browser (headless Chromium at a phone's viewport) against the local hub."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from itsdangerous import URLSafeSerializer
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from hub.connect import links
from local.hub import LocalHub
from tests.connect.test_push import create_link, create_session, post_event

WAIT_S = 10
"""Generous: the bench measures the latency (target ≤ 1 s); this only proves the update arrives."""
REDRAWN = (NoSuchElementException, StaleElementReferenceException)
"""What a wait outlasts: the page redraws its sessions on every update, so an element looked up a moment ago may
be gone or replaced by the time it is read."""
QR_STRING = (
    "2@Xq9vR1bT8Lk3mZ0pW7sY4nH6cJ2dF5gA1eQ8uI3oP9tK,ZmFrZS1rZXktMDEyMzQ1Njc4OQ==,c2lnbmVkLWlkZW50aXR5,ABCDEF123456=="
)


@pytest.fixture(scope="module")
def hub():
    with LocalHub(port=0) as running:
        yield running


def _console_errors(browser) -> list[dict]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def _status_text(browser) -> str:
    return browser.find_element(By.ID, "status").text


def _decode_qr(png: bytes, tmp_path: Path) -> str:
    image = tmp_path / "qr.png"
    image.write_bytes(png)
    return subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True, check=True
    ).stdout.rstrip("\n")


@pytest.mark.skipif(
    shutil.which("zbarimg") is None, reason="zbarimg (Debian zbar-tools) is not installed: `make tools` installs it"
)
def test_the_page_shows_the_qr_then_connected_by_push_alone(hub: LocalHub, browser, tmp_path: Path) -> None:
    session = create_session(hub, "browser-1")
    browser.get(create_link(hub, "browser-1") + "?poll=off")  # no polling: every update below comes by push
    wait = WebDriverWait(browser, WAIT_S, ignored_exceptions=REDRAWN)
    wait.until(lambda b: b.find_element(By.ID, "channel").text == "Live updates on.")
    assert "initializing" in _status_text(browser).lower()
    assert browser.find_element(By.ID, "status").get_attribute("aria-live") == "polite"

    post_event(hub, session, {"event": "qr", "data": {"qr": QR_STRING}})
    image = wait.until(ready.visibility_of_element_located((By.CSS_SELECTOR, ".qr-image")))
    wait.until(lambda b: image.get_attribute("complete") == "true" and int(image.get_attribute("naturalWidth")) > 0)
    assert image.size["width"] >= 256, "large enough to scan from a screen"
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), "fits a phone"
    assert _decode_qr(image.screenshot_as_png, tmp_path) == QR_STRING
    assert "1 of 3" in browser.find_element(By.CSS_SELECTOR, ".qr-help").text

    post_event(hub, session, {"event": "connected", "data": {"phoneNumber": "6281234", "displayName": "Ada"}})
    wait.until(
        lambda b: b.find_element(By.CSS_SELECTOR, ".session").get_attribute("data-status") == "session_connected"
    )
    assert "connected" in _status_text(browser).lower()
    assert (
        browser.find_element(By.CSS_SELECTOR, ".phone").text,
        browser.find_element(By.CSS_SELECTOR, ".name").text,
    ) == ("6281234", "Ada")
    assert not browser.find_elements(By.CSS_SELECTOR, ".qr:not([hidden])")
    assert _console_errors(browser) == []


def test_the_page_falls_back_to_polling_without_push(hub: LocalHub, browser, monkeypatch) -> None:
    session = create_session(hub, "browser-poll")
    monkeypatch.setenv("CONNECT_WEBSOCKET_URL", "")  # the status route then offers no push channel
    browser.get(create_link(hub, "browser-poll"))
    wait = WebDriverWait(browser, WAIT_S, ignored_exceptions=REDRAWN)
    wait.until(lambda b: "every few seconds" in b.find_element(By.ID, "channel").text)
    post_event(hub, session, {"event": "ready", "data": {}})
    wait.until(
        lambda b: b.find_element(By.CSS_SELECTOR, ".session").get_attribute("data-status") == "session_connected"
    )
    assert _console_errors(browser) == []


def test_an_open_page_is_told_its_link_was_revoked(hub: LocalHub, browser) -> None:
    create_session(hub, "browser-revoke")
    browser.get(create_link(hub, "browser-revoke") + "?poll=off")
    wait = WebDriverWait(browser, WAIT_S, ignored_exceptions=REDRAWN)
    wait.until(lambda b: b.find_element(By.ID, "channel").text == "Live updates on.")
    reply = requests.delete(
        f"{hub.base_url}/api/whatsapp/session/browser-revoke/connect-link",
        headers={"X-API-Key": hub.dev_api_key},
        timeout=10,
    )
    assert reply.status_code == 200
    wait.until(lambda b: "revoked" in _status_text(b))
    assert not browser.find_elements(By.CSS_SELECTOR, ".session")
    assert _console_errors(browser) == []


def _tampered_for(token: str, session_id: str) -> str:
    """Session A's token with its payload rewritten to name session B (A's signature kept). The payload may be
    compressed (itsdangerous then starts it with a dot): its own (de)serializer reads and writes it."""
    payload, signature = token.rsplit(".", 1)
    serializer = URLSafeSerializer("unused")
    claims = serializer.load_payload(payload.encode())
    claims["s"] = session_id
    return f"{serializer.dump_payload(claims).decode()}.{signature}"


def test_expired_forged_and_cross_session_links_are_refused(hub: LocalHub, browser) -> None:
    create_session(hub, "browser-a")
    create_session(hub, "browser-b")
    url_a = create_link(hub, "browser-a")
    base, token_a = url_a.rsplit("/", 1)
    expired, _ = links.issue(hub.dev_tenant_id, session_id="browser-a", ttl_s=-1)
    forged = token_a[:-4] + ("AAAA" if not token_a.endswith("AAAA") else "BBBB")
    cases = {
        "expired": (expired, "expired"),
        "forged": (forged, "not valid"),
        "A for B": (_tampered_for(token_a, "browser-b"), "not valid"),
    }
    for name, (token, words) in cases.items():
        browser.get(f"{base}/{token}")
        text = WebDriverWait(browser, WAIT_S, ignored_exceptions=REDRAWN).until(
            lambda b: b.find_element(By.CSS_SELECTOR, "[role=alert]").text
        )
        assert words in text, (name, text)
        assert "browser-b" not in browser.page_source and "browser-a" not in browser.page_source
    unexpected = [e for e in _console_errors(browser) if not re.search(r"status of 4(01|10)", e["message"])]
    assert unexpected == [], "only the refused documents' own HTTP status may be logged"
    for token, _ in cases.values():
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{hub.sockets.websocket_url}?token={token}", open_timeout=5)
        assert refused.value.response.status_code in (401, 410)
