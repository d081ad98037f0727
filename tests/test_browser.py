"""End to end in headless Chromium: `deepsteg serve` in a subprocess, the page driven by Playwright.

Hides one test-made image in another, downloads the stego PNG, reveals it from that file,
and checks the images and the PSNR figures the page shows against the exact LSB result.
Needs Debian's ``chromium`` and ``playwright`` for Python; no browser is ever downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deepsteg import LSB
from deepsteg.metrics import psnr
from deepsteg.registry import DEFAULT_MODEL
from tests.conftest import smooth_image

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install 'deepsteg[web]')")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright for Python is not installed")
CHROMIUM = "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("no Chromium found (Debian: apt-get install chromium)", allow_module_level=True)

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
pytestmark = pytest.mark.slow  # a server, a browser: `pytest -m 'not slow'` skips it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """``deepsteg serve --model lsb4`` on a free loopback port; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "deepsteg", "serve", "--model", "lsb4", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"deepsteg serve exited with {proc.returncode}:\n{proc.stdout.read()}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                    assert json.load(r)["model"] == "lsb4"
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("deepsteg serve did not answer /healthz within 60 s")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def wait_until(page, expression: str, timeout: float = 60.0) -> None:
    """Poll a JS expression from Python until it is true. (Playwright's wait_for_function
    evaluates a string predicate with eval inside the page, which the page's CSP forbids.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {expression}")
        time.sleep(0.05)


def read(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        return np.asarray(im)


def test_hide_download_reveal_in_chromium(server, browser, tmp_path):
    cover, secret = smooth_image(96, 128, 11), smooth_image(96, 128, 12)
    Image.fromarray(cover).save(tmp_path / "cover.png")
    Image.fromarray(secret).save(tmp_path / "secret.png")
    (tmp_path / "notes.txt").write_text("not an image")
    lsb = LSB(4)
    want_stego = lsb.hide(cover, secret)
    want_secret = lsb.reveal(want_stego)

    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/")
    wait_until(page, "document.getElementById('model-name').textContent === 'lsb4'")

    # a bad upload: no broken preview, and the server's message right under the Hide button
    page.set_input_files("#cover-input", str(tmp_path / "notes.txt"))
    wait_until(page, "document.querySelector('[data-for=cover] .drop-hint').textContent.includes('no preview')")
    assert page.is_hidden("#cover-preview")
    page.set_input_files("#secret-input", str(tmp_path / "secret.png"))
    page.click("#hide-btn")
    page.wait_for_selector("#hide-error:not([hidden])")
    assert "cover: not an image file" in page.inner_text("#hide-error")
    assert page.evaluate("document.getElementById('hide-error').previousElementSibling.id") == "hide-progress"

    page.set_input_files("#cover-input", str(tmp_path / "cover.png"))
    assert page.is_hidden("#hide-error")
    page.click("#hide-btn")
    page.wait_for_selector("#hide-result:not([hidden])")
    assert page.is_hidden("#hide-progress") and page.is_enabled("#hide-btn")
    assert page.inner_text("#psnr-hide-cover") == f"{psnr(cover, want_stego):.2f} dB"
    with page.expect_download() as dl:
        page.click("#stego-download")
    dl.value.save_as(tmp_path / "stego.png")
    stego = read(tmp_path / "stego.png")
    assert np.array_equal(stego, want_stego)
    residual = np.array(page.evaluate(
        "() => { const c = document.getElementById('residual-canvas');"
        " return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"),
        dtype=np.int64).reshape(96, 128, 4)
    assert np.array_equal(residual[..., :3], np.minimum(255, np.abs(stego.astype(np.int64) - cover) * 10))

    page.set_input_files("#stego-input", str(tmp_path / "stego.png"))
    page.click("#reveal-btn")
    page.wait_for_selector("#reveal-result:not([hidden])")
    with page.expect_download() as dl:
        page.click("#secret-download")
    dl.value.save_as(tmp_path / "revealed.png")
    revealed = read(tmp_path / "revealed.png")
    assert np.array_equal(revealed, want_secret)
    assert page.is_visible("#psnr-box")
    assert page.inner_text("#psnr-cover") == f"{psnr(cover, stego):.2f} dB"
    assert page.inner_text("#psnr-secret") == f"{psnr(secret, revealed):.2f} dB"
    assert psnr(secret, revealed) > 25

    # a failed reveal clears the earlier secret and says why next to the Reveal button
    page.set_input_files("#stego-input", str(tmp_path / "notes.txt"))
    page.click("#reveal-btn")
    page.wait_for_selector("#reveal-error:not([hidden])")
    assert page.is_hidden("#reveal-result") and "not an image file" in page.inner_text("#reveal-error")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "web-phone.png"), full_page=True)
    assert errors == []
    page.close()


def test_model_choice_progress_estimate_and_cancel(server, browser, tmp_path):
    """A deep model chosen on the page: the first hide measures its speed, the next one shows
    an estimate, and Cancel stops it with the page usable again."""
    cover, secret = smooth_image(192, 256, 21), smooth_image(192, 256, 22)
    Image.fromarray(cover).save(tmp_path / "cover.png")
    Image.fromarray(secret).save(tmp_path / "secret.png")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/")
    wait_until(page, "document.getElementById('model-select').options.length > 3")
    assert page.is_hidden("#refine-field")  # lsb4: nothing to tune
    page.select_option("#model-select", DEFAULT_MODEL)  # the default model, one pass
    assert page.is_visible("#refine-field") and page.input_value("#refine-input") == "0"
    page.set_input_files("#cover-input", str(tmp_path / "cover.png"))
    page.set_input_files("#secret-input", str(tmp_path / "secret.png"))
    page.click("#hide-btn")
    page.wait_for_selector("#hide-result:not([hidden])", timeout=120_000)
    assert float(page.inner_text("#psnr-hide-cover").split()[0]) > 36  # a real deep-model stego image
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-deep.png"), full_page=True)

    page.select_option("#model-select", "deepsteg-compact-v11")  # a refined hide: long enough to cancel
    page.fill("#refine-input", "8")
    page.click("#hide-btn")  # its first run measures its speed
    page.wait_for_selector("#hide-result:not([hidden])", timeout=120_000)
    page.click("#hide-btn")  # the same kind of job again: now with an estimate
    page.wait_for_selector("#hide-progress:not([hidden])")
    assert page.is_hidden("#hide-result")  # the previous result is cleared while this one runs
    wait_until(page, "document.getElementById('hide-progress-text').textContent.includes('left')"
                           " || document.getElementById('hide-progress-text').textContent.includes('almost')")
    page.click("#hide-cancel")
    page.wait_for_selector("#hide-error:not([hidden])")
    assert page.inner_text("#hide-error") == "Hide cancelled."
    assert page.is_hidden("#hide-progress") and page.is_enabled("#hide-btn") and page.is_hidden("#hide-result")
    assert errors == []
    page.close()


def test_cover_psnr_target_on_the_page(server, browser, tmp_path):
    """A cover PSNR typed in for lsb4 reaches the server: the stego image is at or above it and
    the page says which bits were chosen; the default model lands on it; an unconditioned network
    offers no such field."""
    cover, secret = smooth_image(96, 128, 31), smooth_image(96, 128, 32)
    Image.fromarray(cover).save(tmp_path / "cover.png")
    Image.fromarray(secret).save(tmp_path / "secret.png")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(server + "/")
    wait_until(page, "document.getElementById('model-select').options.length > 3")
    assert page.is_visible("#cover-psnr-field")  # lsb4 picks its bits for a target
    page.fill("#cover-psnr-input", "40")
    page.set_input_files("#cover-input", str(tmp_path / "cover.png"))
    page.set_input_files("#secret-input", str(tmp_path / "secret.png"))
    page.click("#hide-btn")
    page.wait_for_selector("#hide-result:not([hidden])", timeout=60_000)
    assert float(page.inner_text("#psnr-hide-cover").split()[0]) >= 40
    assert "nearest above 40 dB" in page.inner_text("#hide-notes")
    page.select_option("#model-select", DEFAULT_MODEL)  # the shipped model searches its strength
    assert page.is_visible("#cover-psnr-field")
    page.fill("#cover-psnr-input", "38")
    page.click("#hide-btn")
    page.wait_for_selector("#hide-result:not([hidden])", timeout=120_000)
    assert abs(float(page.inner_text("#psnr-hide-cover").split()[0]) - 38) <= 0.3
    assert "strength" in page.inner_text("#hide-notes")
    page.select_option("#model-select", "deepsteg-inn-v1")
    assert page.is_hidden("#cover-psnr-field")
