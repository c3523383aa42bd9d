"""Browser tests: the real server (``aisle run``, template generator) driven by Debian chromium.

Screenshots and the measured timings go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
QUERY = "wireless headphones under $100"

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` (make chromium)",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float, ready: str | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}: {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body = json.loads(r.read()) if ready else {}
                if body.get("engine_error"):
                    pytest.fail(f"the engine failed to start: {body['engine_error']}")
                if ready is None or body.get(ready):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout_s} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def host_page(data: Path, port: int, host_port: int, attrs: str = "") -> subprocess.Popen[bytes]:
    """Another origin's shop page embedding the widget, served by python's http.server."""
    site = data / "shop"
    site.mkdir()
    (site / "index.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Another shop</title>"
        "<link rel=icon href='data:,'></head><body><h1>Another shop</h1>"
        f"<script src='http://127.0.0.1:{port}/widget.js' {attrs} defer></script></body></html>"
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(host_port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(site),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("aisle-ui")
    port, host_port = free_port(), free_port()
    # Template generator (fast, deterministic); the real MiniLM-based NLU; no vector index (lexical
    # retrieval) so setting up takes seconds.
    outer = {k: v for k, v in os.environ.items() if not k.startswith("AISLE_")}  # no stray settings
    env = {
        **outer,
        "AISLE_DATA_DIR": str(data),
        "AISLE_GENERATOR_BACKEND": "template",
        "AISLE_EMBEDDER": "minilm",
        "AISLE_CORS_ORIGINS": json.dumps([f"http://127.0.0.1:{host_port}"]),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "OMP_NUM_THREADS": "1",
        "AISLE_CONFIG": str(data / "none.toml"),
    }
    log = (data / "server.log").open("wb")
    if os.environ.get("AISLE_UI_FAKE_SERVER"):  # UI development without the engine's models
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "test_ui_fakes:make_app",
            "--app-dir",
            str(ROOT / "tests"),
            "--port",
            str(port),
        ]
    else:
        subprocess.run(
            [sys.executable, "-m", "aisle", "ingest", "--demo", "--no-index", "--no-progress"],
            env=env,
            cwd=data,
            check=True,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=120,
        )
        cmd = [sys.executable, "-m", "aisle", "run", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, cwd=data, stdout=log, stderr=subprocess.STDOUT)
    host = host_page(data, port, host_port, "data-greeting='Hello from Aisle'")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/api/health", proc, 120, ready="engine_ready")
        wait_http(f"http://127.0.0.1:{host_port}/", host, 15)
        yield {
            "base": base,
            "host": f"http://127.0.0.1:{host_port}",
            "log": data / "server.log",
            "data": data,
        }
    finally:
        stop(host)
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def timings() -> Iterator[dict[str, Any]]:
    out: dict[str, Any] = {}
    yield out
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "ui-timings.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**old, **out}, indent=2))


def console_errors(page: Any) -> list[str]:
    errs: list[str] = []
    page.on("console", lambda m: errs.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errs.append(str(e)))
    return errs


def ask_shopper(page: Any, text: str) -> float:
    box = page.locator("#aisle-input textarea")
    box.fill(text)
    t0 = time.perf_counter()
    box.press("Enter")  # keyboard only: Enter sends
    page.wait_for_selector(".aisle-card", timeout=15000)
    return time.perf_counter() - t0


BOT = "#aisle-chat [data-testid='bot']"
USER = "#aisle-chat [data-testid='user']"


def wait_bot(page: Any, n: int = 1, timeout: int = 15000) -> None:
    """Wait for the n-th bot message to hold a real sentence."""
    page.wait_for_function(
        f'(() => {{ const m = document.querySelectorAll("{BOT}");'
        f" return m.length >= {n} && m[{n - 1}].innerText.trim().length > 10; }})()",
        timeout=timeout,
    )


def chat_text(page: Any) -> str:
    return str(page.locator("#aisle-chat").inner_text())


def _wait_event(data: Path, kind: str, product_id: str | None, timeout_s: float = 15) -> bool:
    import sqlite3

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        con = sqlite3.connect(data / "aisle.db")
        try:
            if con.execute(
                "SELECT 1 FROM events WHERE kind = ? AND product_id = ?", (kind, product_id)
            ).fetchone():
                return True
        finally:
            con.close()
        time.sleep(0.2)
    return False


def test_shopper_sees_cards_and_streamed_reply(
    server: dict[str, Any], browser: Any, timings: dict[str, Any]
) -> None:
    page = browser.new_page()
    errs = console_errors(page)
    page.goto(server["base"] + "/")
    page.wait_for_selector("#aisle-input textarea")
    elapsed = ask_shopper(page, QUERY)
    first = page.locator(".aisle-card").first
    assert re.search(r"\$\d", first.inner_text()) and first.locator("img").get_attribute("alt")
    wait_bot(page)
    assert page.locator(USER).first.inner_text().strip() == QUERY
    # The card's add-to-cart is recorded server-side with the tab's identity (ui.app.card_event).
    first.get_by_role("button", name=re.compile("^Add .* to cart$")).click()
    assert _wait_event(server["data"], "cart", first.get_attribute("data-pid"))
    page.screenshot(path=str(ARTIFACTS / "browser-shopper.png"), full_page=True)
    title = first.get_attribute("data-title")
    first.get_by_role(
        "button", name=re.compile("^More like ")
    ).click()  # asks the assistant for similar items
    page.wait_for_function(f'document.querySelectorAll("{USER}").length >= 2', timeout=15000)
    assert page.locator(USER).nth(1).inner_text().strip() == f"More like {title}"
    wait_bot(page, 2)
    timings["gradio_first_cards_s"] = round(elapsed, 3)
    assert errs == [], errs


def test_widget_on_another_origin(server: dict[str, Any], browser: Any, timings: dict[str, Any]) -> None:
    page = browser.new_page()
    errs = console_errors(page)
    sizes: dict[str, int] = {}

    def sized(resp: Any) -> None:
        if resp.url.endswith(("/widget.js", "/widget.css")):
            sizes[resp.url.rsplit("/", 1)[1]] = len(resp.body())

    page.on("response", sized)
    page.goto(server["host"] + "/")
    page.wait_for_selector(".aisle-w-bubble")
    # Keyboard only: Tab reaches the bubble, Enter opens it and focuses the input, Enter sends.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "aisle-w-bubble"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # focus visible
    page.keyboard.press("Enter")
    inp = page.get_by_role("textbox", name="Message")
    page.wait_for_function("document.activeElement.classList.contains('aisle-w-input')", timeout=5000)
    page.keyboard.type(QUERY)
    t0 = time.perf_counter()
    page.keyboard.press("Enter")
    page.wait_for_selector(".aisle-w-card", timeout=15000)
    elapsed = time.perf_counter() - t0
    page.wait_for_function(
        "document.querySelectorAll('.aisle-w-bot').length >= 2 && "
        "document.querySelectorAll('.aisle-w-bot')[1].textContent.length > 10",
        timeout=15000,
    )
    card = page.locator(".aisle-w-card").first
    assert card.locator("img").get_attribute("alt") and re.search(r"\$\d", card.inner_text())
    page.screenshot(path=str(ARTIFACTS / "browser-widget.png"))
    samples = [elapsed]
    for q in ("a bluetooth speaker under $80", "running shoes under $150", "a coffee maker"):
        page.wait_for_function("!document.querySelector('.aisle-w-send').disabled", timeout=15000)
        n = page.locator(".aisle-w-cards").count()
        inp.fill(q)
        t0 = time.perf_counter()
        inp.press("Enter")
        page.wait_for_function(f"document.querySelectorAll('.aisle-w-cards').length > {n}", timeout=15000)
        samples.append(time.perf_counter() - t0)
    samples.sort()
    timings["widget_first_cards_s"] = [round(x, 3) for x in samples]
    timings["widget_bytes"] = sizes
    assert sum(sizes.values()) < 30 * 1024 and set(sizes) == {"widget.js", "widget.css"}
    assert samples[len(samples) // 2] < 1.0, f"median time to first cards {samples}"
    assert errs == [], errs


def test_agent_reply_reaches_the_shopper(server: dict[str, Any], browser: Any) -> None:
    shopper = browser.new_context().new_page()
    shopper.goto(server["base"] + "/")
    box = shopper.locator("#aisle-input textarea")
    box.fill("I want to talk to a human agent please")
    box.press("Enter")
    wait_bot(shopper, timeout=30000)
    agent = browser.new_context().new_page()
    agent.goto(server["base"] + "/")
    agent.get_by_role("tab", name="Agent console").click()
    agent.locator("#agent-token input").fill("agent-demo-token")
    agent.locator("#agent-load").click()
    agent.wait_for_selector("#agent-queue table", timeout=30000)
    assert "handoff" in agent.locator("#agent-queue").inner_text()
    agent.locator("#agent-convo input").click()
    agent.get_by_role("option", name=re.compile("ticket #")).first.click()
    agent.wait_for_function(
        "document.querySelector('#agent-transcript').innerText.includes('human')", timeout=30000
    )
    reply = agent.locator("#agent-reply textarea")
    assert reply.input_value().strip()  # a suggested reply is drafted
    reply.fill("Hi, this is Sam from support. How can I help?")
    agent.locator("#agent-send").click()
    agent.wait_for_function(
        "document.querySelector('#agent-transcript').innerText.includes('Sam from support')", timeout=30000
    )
    agent.screenshot(path=str(ARTIFACTS / "browser-agent.png"), full_page=True)
    shopper.wait_for_function(
        "document.querySelector('#aisle-chat').innerText.includes('Sam from support')", timeout=30000
    )
    shopper.screenshot(path=str(ARTIFACTS / "browser-agent-shopper.png"), full_page=True)
    box.fill("Thanks Sam, my parcel is late")
    box.press("Enter")  # the console's transcript is live: the shopper's answer appears without a click
    agent.wait_for_function(
        "document.querySelector('#agent-transcript').innerText.includes('Thanks Sam')", timeout=30000
    )


def test_two_browsers_never_see_each_other(server: dict[str, Any], browser: Any) -> None:
    pages = [browser.new_context().new_page() for _ in range(2)]
    asks = ["a waterproof rain jacket", "a camping tent for two"]
    for p in pages:
        p.goto(server["base"] + "/")
        p.wait_for_selector("#aisle-input textarea")
    for p, q in zip(pages, asks, strict=True):
        p.locator("#aisle-input textarea").fill(q)
    for p in pages:  # both turns in flight at once
        p.locator("#aisle-input textarea").press("Enter")
    for p in pages:
        wait_bot(p)
    time.sleep(2.5)  # let a poll tick pass: nothing may leak in later either
    a, b = chat_text(pages[0]), chat_text(pages[1])
    assert asks[0] in a and asks[1] not in a
    assert asks[1] in b and asks[0] not in b


def test_server_log_is_clean(server: dict[str, Any]) -> None:
    text = server["log"].read_text(errors="replace")
    assert "Traceback" not in text, text[-2000:]
    shutil.copy(server["log"], ARTIFACTS / "browser-server.log")


def test_sse_time_to_first_products(server: dict[str, Any], timings: dict[str, Any]) -> None:
    """Loopback SSE, no browser: how soon the products event arrives after POST /api/chat."""
    import httpx

    asks = [
        "wireless headphones under $100",
        "a bluetooth speaker under $80",
        "running shoes under $150",
        "a coffee maker",
        "a mechanical keyboard",
        "a wireless mouse",
        "a smartwatch under $300",
        "a desk lamp",
        "a backpack for my laptop",
        "a blender under $100",
    ]
    samples = []
    with httpx.Client(base_url=server["base"], timeout=30) as c:
        for q in asks * 2:
            t0 = time.perf_counter()
            with c.stream(
                "POST", "/api/chat", json={"message": q}, headers={"Accept": "text/event-stream"}
            ) as r:
                assert r.status_code == 200
                for line in r.iter_lines():
                    if line == "event: products":
                        samples.append(time.perf_counter() - t0)
                        break
    samples.sort()
    assert len(samples) >= len(asks)  # most shopping asks return cards
    timings["sse_products_s"] = {
        "n": len(samples),
        "p50": round(samples[len(samples) // 2], 3),
        "p95": round(samples[int(len(samples) * 0.95) - 1], 3),
    }
