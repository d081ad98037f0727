"""The web API through FastAPI's TestClient: exact LSB round trips, every bad input, limits."""

from __future__ import annotations

import io
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("fastapi", reason="the web extra is not installed (pip install 'deepsteg[web]')")
pytest.importorskip("httpx", reason="httpx (for FastAPI's TestClient) is not installed")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # newer Starlette prefers httpx2 for its test client
    from fastapi.testclient import TestClient

from deepsteg import LSB, __version__
from deepsteg.cli.main import main
from deepsteg.nets import ArchConfig, StegoNet
from deepsteg.pairs import fit_secret
from deepsteg.registry import DEFAULT_MODEL
from deepsteg.web.app import create_app
from deepsteg.weights import save_model
from tests.conftest import smooth_image


def png(a: np.ndarray, mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a, mode).save(buf, format="PNG")
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        return np.asarray(im)


@pytest.fixture
def pair():
    return smooth_image(40, 56, 1), smooth_image(40, 56, 2)


@pytest.fixture
def client():
    with TestClient(create_app("lsb4")) as c:
        yield c


def hide(client, cover: bytes, secret: bytes):
    return client.post("/api/hide", files={"cover": ("c.png", cover, "image/png"),
                                           "secret": ("s.png", secret, "image/png")})


def test_hide_then_reveal_lsb4_is_exact(client, pair):
    c, s = pair
    r = hide(client, png(c), png(s))
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["x-deepsteg-model"] == "lsb4" and "x-deepsteg-notes" not in r.headers
    stego = decode(r.content)
    lsb = LSB(4)
    assert np.array_equal(stego, lsb.hide(c, s))
    r = client.post("/api/reveal", files={"stego": ("stego.png", r.content, "image/png")})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert np.array_equal(decode(r.content), lsb.reveal(lsb.hide(c, s)))


def test_secret_of_another_size_and_alpha_cover_are_noted(client, pair):
    c, _ = pair
    big = smooth_image(80, 60, 9)
    rgba = np.dstack([c, np.full(c.shape[:2], 100, np.uint8)])
    r = hide(client, png(rgba, "RGBA"), png(big))
    assert r.status_code == 200
    notes = r.headers["x-deepsteg-notes"]
    assert "alpha channel dropped" in notes and "resized to the cover's 56x40" in notes
    assert np.array_equal(decode(r.content), LSB(4).hide(c, fit_secret(c, big)))


def test_a_model_file_is_served(tmp_path, pair):
    torch.manual_seed(0)
    path = tmp_path / "tiny.safetensors"
    save_model(StegoNet(ArchConfig(widths=(4, 2, 2), prep_layers=1, hide_layers=2, reveal_layers=2)), path)
    with TestClient(create_app(str(path))) as client:
        assert client.get("/healthz").json()["model"] == "tiny.safetensors"
        r = hide(client, png(pair[0]), png(pair[1]))
        assert r.status_code == 200 and decode(r.content).shape == (40, 56, 3)
        r = client.post("/api/reveal", files={"stego": ("s.png", r.content)})
        assert r.status_code == 200 and decode(r.content).shape == (40, 56, 3)


def test_codec_lsbm_is_served_with_its_passphrase():
    from skimage import data

    c = data.chelsea()[:96, :128]
    s = data.coffee()[:96, :128]
    with TestClient(create_app("codec-lsbm", passphrase=b"s3cret")) as client:
        r = hide(client, png(c), png(s))
        assert r.status_code == 200
        stego = decode(r.content)
        assert np.abs(stego.astype(int) - c).max() == 1
        r = client.post("/api/reveal", files={"stego": ("s.png", r.content)})
        assert r.status_code == 200 and decode(r.content).shape == (96, 128, 3)
        detail = assert_json_error(client.post("/api/reveal", files={"stego": ("c.png", png(c))}))
        assert "no hidden image found" in detail


def assert_json_error(r, status: int | None = None) -> str:
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    if status is not None:
        assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail and "Traceback" not in detail
    return detail


def test_every_bad_input_gives_a_json_4xx(client, pair):
    c, s = pair
    good = png(s)
    whole = png(c)
    cases = {
        "not an image": (b"this is not an image at all", "not an image file"),
        "empty": (b"", "empty file"),
        "truncated": (whole[: len(whole) // 2], "cannot decode image"),
        "1x1": (png(np.zeros((1, 1, 3), np.uint8)), "too small"),
    }
    for name, (data, expected) in cases.items():
        detail = assert_json_error(hide(client, data, good), 400)
        assert detail.startswith("cover: ") and expected in detail, (name, detail)
        detail = assert_json_error(client.post("/api/reveal", files={"stego": ("x.png", data)}), 400)
        assert detail.startswith("stego: ") and expected in detail, (name, detail)
    detail = assert_json_error(client.post("/api/hide", files={"cover": ("c.png", whole)}), 422)
    assert "secret" in detail
    assert_json_error(client.post("/api/reveal", content=b"plain text", headers={"content-type": "text/plain"}))
    assert_json_error(client.post("/api/reveal", data={"stego": "a string, not a file"}))


def test_pixel_and_upload_limits(pair):
    c, s = pair
    with TestClient(create_app("lsb4", max_pixels=1000)) as client:
        detail = assert_json_error(hide(client, png(c), png(s)), 400)
        assert "2,240 pixels is above the limit of 1,000" in detail
    with TestClient(create_app("lsb4", max_upload_bytes=4096)) as client:
        big = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
        detail = assert_json_error(hide(client, png(big), png(s)), 413)
        assert "above the limit of 4,096 bytes" in detail

        def chunks():  # no Content-Length: the limit applies while the body streams in
            yield b"--b\r\nContent-Disposition: form-data; name=\"stego\"; filename=\"s.png\"\r\n\r\n"
            for _ in range(8):
                yield bytes(1024)

        r = client.post("/api/reveal", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
        assert "content-length" not in r.request.headers
        assert_json_error(r, 413)
        assert client.get("/healthz").status_code == 200


def test_temporary_folder_is_emptied(tmp_path, pair):
    folder = tmp_path / "tmp"
    folder.mkdir()
    with TestClient(create_app("lsb4", tmp_dir=folder)) as client:
        assert hide(client, png(pair[0]), png(pair[1])).status_code == 200
        assert_json_error(hide(client, b"junk", png(pair[1])), 400)
        assert client.post("/api/reveal", files={"stego": ("s.png", png(pair[0]))}).status_code == 200
    assert list(folder.iterdir()) == []


def test_twenty_concurrent_hides_all_succeed():
    cover, secret = smooth_image(256, 256, 3), smooth_image(256, 256, 4)
    expected = LSB(4).hide(cover, secret)
    body_c, body_s = png(cover), png(secret)
    with TestClient(create_app("lsb4", max_jobs=2)) as client:
        with ThreadPoolExecutor(max_workers=20) as pool:
            results = list(pool.map(lambda _: hide(client, body_c, body_s), range(20)))
        assert client.app.state.in_flight.count == 0
    assert [r.status_code for r in results] == [200] * 20
    assert all(np.array_equal(decode(r.content), expected) for r in results)


def test_busy_server_answers_503(pair):
    body = {"stego": ("s.png", png(pair[0]))}
    app = create_app("lsb4", max_jobs=1, max_pending=1, queue_timeout=30)
    with TestClient(app) as client:
        app.state.slots.slots.acquire()  # the one job slot is taken
        waiting = []
        t = threading.Thread(target=lambda: waiting.append(client.post("/api/reveal", files=body)))
        t.start()
        deadline = time.monotonic() + 10
        while app.state.in_flight.count < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        r = client.post("/api/reveal", files=body)
        assert r.status_code == 503 and r.headers["retry-after"] == "5"
        assert "too many requests" in r.json()["detail"]
        app.state.slots.slots.release()
        t.join(20)
        assert waiting[0].status_code == 200
    app = create_app("lsb4", max_jobs=1, queue_timeout=0.2)
    with TestClient(app) as client:
        app.state.slots.slots.acquire()
        r = client.post("/api/reveal", files=body)
        app.state.slots.slots.release()
        assert r.status_code == 503 and "no free slot" in r.json()["detail"]
        assert client.post("/api/reveal", files=body).status_code == 200


def test_page_models_health_and_openapi(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert 'id="hide-btn"' in page.text and "/static/app.js" in page.text and "http" not in page.text.split("<body>")[0]
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
    info = client.get("/api/models").json()
    assert info["serving"] == "lsb4" and info["default"] == DEFAULT_MODEL
    assert {"lsb1", "lsb4"} <= {m["name"] for m in info["models"]}
    assert info["limits"]["max_upload_bytes"] > 0 and info["limits"]["max_pixels"] > 0
    assert client.get("/healthz").json() == {"status": "ok", "model": "lsb4", "version": __version__}
    spec = client.get("/openapi.json").json()
    for path in ("/api/hide", "/api/reveal"):
        op = spec["paths"][path]["post"]
        assert "image/png" in op["responses"]["200"]["content"] and "413" in op["responses"]
    assert "/api/models" in spec["paths"] and "/healthz" in spec["paths"]
    assert client.get("/docs").status_code == 404  # FastAPI's page loads from a CDN: not served


def test_security_headers_cross_origin_uploads_and_host_allow_list(pair):
    c, s = pair
    with TestClient(create_app("lsb4")) as client:
        for r in (client.get("/"), client.get("/api/models"), client.get("/static/app.js"),
                  client.post("/api/reveal", files={"stego": ("s.png", b"junk")})):
            assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        files = {"stego": ("s.png", png(c))}
        r = client.post("/api/reveal", files=files, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403 and "cross-origin" in r.json()["detail"]
        assert client.post("/api/reveal", files=files, headers={"Origin": "null"}).status_code == 403
        assert client.post("/api/reveal", files=files, headers={"Origin": "http://testserver"}).status_code == 200
        assert client.post("/api/reveal", files=files).status_code == 200  # no Origin: not a browser page
    app = create_app("lsb4", allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app) as client:  # Host: testserver, as a rebinding attacker's name would be
        assert client.get("/healthz").status_code == 400
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        assert client.get("/healthz").status_code == 200


def test_a_job_whose_client_left_is_dropped_not_run():
    from deepsteg.web.guard import Gone, JobSlots

    slots, ran = JobSlots(1, 1.0), []
    with pytest.raises(Gone):
        slots.run(ran.append, 1, gone=lambda: True)
    assert slots.run(ran.append, 2, gone=lambda: False) is None and ran == [2]
    assert slots.slots.acquire(timeout=0.1)  # the slot was given back both times


def test_serve_allowed_hosts_default_and_malloc_settings(monkeypatch):
    import deepsteg.malloc as malloc
    from deepsteg.cli.serve import LOOPBACK_HOSTS, allowed_hosts

    assert allowed_hosts("127.0.0.1", None) == LOOPBACK_HOSTS
    assert allowed_hosts("0.0.0.0", None) is None
    assert allowed_hosts("0.0.0.0", "steg.example, 10.0.0.5") == ["steg.example", "10.0.0.5"]
    malloc.limit_arenas()  # the real glibc call, wherever the tests run
    malloc.keep_working_memory()
    calls = []
    monkeypatch.setattr(malloc, "_mallopt", lambda option, value: calls.append((option, value)))
    malloc.keep_working_memory()
    malloc.limit_arenas(3)
    monkeypatch.setenv("DEEPSTEG_MALLOC_ARENAS", "0")
    malloc.limit_arenas()
    assert calls == [(malloc.M_MMAP_THRESHOLD, 32 << 20), (malloc.M_TRIM_THRESHOLD, 256 << 20),
                     (malloc.M_ARENA_MAX, 3)]


def test_serve_command_refuses_bad_models(capsys):
    assert main(["serve", "--model", "no-such-model", "--port", "0"]) == 2
    assert "unknown model 'no-such-model'" in capsys.readouterr().err


def test_running_work_stops_when_the_client_leaves():
    """A refinement in progress checks between its steps and stops once the client has gone."""
    from deepsteg.cancel import Cancelled
    from deepsteg.methods import DeepModel
    from deepsteg.web.guard import JobSlots

    torch.manual_seed(0)
    model = DeepModel(StegoNet(ArchConfig(widths=(4, 2, 2), prep_layers=1, hide_layers=2, reveal_layers=2)),
                      precision="fp32", refine=20, progress=False)
    c, s = smooth_image(40, 56, 1), smooth_image(40, 56, 2)
    checks = []

    def gone() -> bool:  # the client leaves after the job has started
        checks.append(1)
        return len(checks) > 3

    with pytest.raises(Cancelled):
        JobSlots(1, 1.0).run(model.hide, c, s, gone=gone)
    assert 3 < len(checks) < 20  # stopped within a step of the client leaving, long before 20 steps
    assert JobSlots(1, 1.0).run(model.hide, c, s, gone=lambda: False).shape == (40, 56, 3)


def test_hide_at_a_cover_psnr_target(client, pair):
    from deepsteg.metrics import psnr

    c, s = pair
    files = {"cover": ("c.png", png(c), "image/png"), "secret": ("s.png", png(s), "image/png")}
    r = client.post("/api/hide", files=files, data={"model": "lsb4", "cover_psnr": "40"})
    assert r.status_code == 200 and "nearest above 40 dB" in r.headers["x-deepsteg-notes"]
    chosen = r.headers["x-deepsteg-notes"].split(":")[0]  # the bits it chose, to reveal with
    assert psnr(c, decode(r.content)) >= 40 and chosen.startswith("lsb")
    r = client.post("/api/hide", files=files, data={"model": "deepsteg-inn-v1", "cover_psnr": "40"})
    assert r.status_code == 400 and "one fixed strength" in r.json()["detail"]
    models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert models["lsb4"]["targetable"] and models["codec-lsbm"]["targetable"]
    assert not models["deepsteg-inn-v1"]["targetable"] and models["deepsteg-inn-cond-v1"]["targetable"]
    # each model's own refinement, which the page puts in its field when the model is picked
    assert models["lsb4"]["refine"] is None and models["deepsteg-inn-v1"]["refine"] == 0


def test_the_page_field_keys_the_default_model_and_a_wrong_passphrase_finds_nothing():
    cover, secret = smooth_image(64, 96, 1), smooth_image(64, 96, 2)
    with TestClient(create_app("lsb4")) as client:
        files = {"cover": ("c.png", png(cover), "image/png"), "secret": ("s.png", png(secret), "image/png")}
        r = client.post("/api/hide", files=files, data={"model": DEFAULT_MODEL, "passphrase": "open sesame"})
        assert r.status_code == 200
        stego = {"stego": ("st.png", r.content, "image/png")}
        ok = client.post("/api/reveal", files=stego, data={"model": DEFAULT_MODEL, "passphrase": "open sesame"})
        assert ok.status_code == 200 and decode(ok.content).shape == (64, 96, 3)
        for data in ({"model": DEFAULT_MODEL, "passphrase": "open sesame!"}, {"model": DEFAULT_MODEL}):
            r = client.post("/api/reveal", files=stego, data=data)
            assert r.status_code == 400 and "no hidden image found" in r.json()["detail"]
        forced = client.post("/api/reveal", files=stego, data={"model": DEFAULT_MODEL, "force": "true"})
        assert forced.status_code == 200 and "forced" in forced.headers["X-DeepSteg-Notes"]
        models = {m["name"]: m for m in client.get("/api/models").json()["models"]}
        assert models[DEFAULT_MODEL]["keyed"] and models["codec-lsbm"]["keyed"] and not models["lsb4"]["keyed"]


def _drip(sock, first: bytes, byte: bytes, seconds: float) -> tuple[bytes, float]:
    """Send ``first``, then one ``byte`` every 0.2 s for up to ``seconds``; what the server answered
    and after how long it closed the connection (``seconds`` if it never did)."""
    sock.sendall(first)
    sock.settimeout(0.2)
    start, answer = time.monotonic(), b""
    while time.monotonic() - start < seconds:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            chunk = None
        except OSError:  # reset: the server closed with our bytes unread
            return answer, time.monotonic() - start
        if chunk == b"":
            return answer, time.monotonic() - start
        answer += chunk or b""
        try:
            sock.sendall(byte)
        except OSError:
            return answer, time.monotonic() - start
    return answer, seconds


def test_slow_clients_are_dropped_while_another_request_is_served():
    import json
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "deepsteg", "serve", "--model", "lsb4", "--port", str(port),
                             "--body-timeout", "2", "--header-timeout", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    assert json.load(r)["status"] == "ok"
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
                time.sleep(0.2)
        body = socket.create_connection(("127.0.0.1", port))
        header = socket.create_connection(("127.0.0.1", port))
        with ThreadPoolExecutor(2) as pool, body, header:
            slow_body = pool.submit(_drip, body, b"POST /api/hide HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                    b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000\r\n\r\n"
                                    b'--x\r\nContent-Disposition: form-data; name="cover"; filename="c.png"\r\n\r\n',
                                    b"a", 10.0)
            slow_header = pool.submit(_drip, header, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X", 10.0)
            time.sleep(0.5)
            with urllib.request.urlopen(url, timeout=5) as r:  # served meanwhile
                assert r.status == 200
            for slow in (slow_body, slow_header):  # each dropped at its 2 s deadline, not before
                answer, closed_after = slow.result()
                assert 1.5 < closed_after < 8
                assert answer == b"" or b" 408 " in answer.split(b"\r\n")[0]
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_served_model_is_timed_in_the_background(monkeypatch):
    import deepsteg.web.app as web_app

    started, release = threading.Event(), threading.Event()

    def slow_calibration(choices, method, side=96):
        started.set()
        release.wait(30)

    monkeypatch.setattr(web_app, "_calibrate", slow_calibration)
    try:
        with TestClient(create_app("lsb4")) as client:  # returns while the timing still runs
            assert started.wait(5) and not release.is_set()
            assert client.get("/healthz").status_code == 200
    finally:
        release.set()


def test_the_server_accepts_the_pages_own_settings_for_every_model(seeded_salts):
    """The page sends each model with the refinement steps /api/models lists for it; the server takes
    every one (a robust model's default of more steps than a visitor would type included)."""
    cover, secret = png(smooth_image(192, 192, 3)), png(smooth_image(192, 192, 4))  # codec-qim needs room
    with TestClient(create_app(DEFAULT_MODEL)) as client:
        info = client.get("/api/models").json()
        assert info["limits"]["max_refine"] >= max(m["refine"] or 0 for m in info["models"])
        for m in info["models"]:
            fields = {"model": m["name"]}
            if m["kind"] == "deep":
                fields["refine"] = str(m["refine"])
            r = client.post("/api/hide", data=fields, files={"cover": ("c.png", cover, "image/png"),
                                                             "secret": ("s.png", secret, "image/png")})
            assert r.status_code == 200, (m["name"], r.text)
            assert r.headers["X-DeepSteg-Model"] == m["name"]


def test_a_passphrase_for_a_method_without_a_key_and_the_public_one_get_notes(client, pair):
    c, s = pair
    r = client.post("/api/hide", data={"passphrase": "mine"},
                    files={"cover": ("c.png", png(c), "image/png"), "secret": ("s.png", png(s), "image/png")})
    assert r.status_code == 200 and "lsb4 takes no passphrase" in r.headers["x-deepsteg-notes"]
    r = client.post("/api/hide", data={"model": "codec-lsbm"},
                    files={"cover": ("c.png", png(c), "image/png"), "secret": ("s.png", png(s), "image/png")})
    assert r.status_code == 200 and "public passphrase" in r.headers["x-deepsteg-notes"]
