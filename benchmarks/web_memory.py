"""Resident memory of `deepsteg serve` under bursts of requests, with and without the arena cap.

Run by hand (never in CI)::

    .venv/bin/python benchmarks/web_memory.py --requests 260 --model lsb4

Starts the server in a subprocess (``--model``), sends ``--requests`` hide + reveal requests
in bursts of ``--burst`` concurrent clients with 512x384 images, and samples the server's
resident memory (VmRSS, /proc) before, after every burst and at the end. Runs twice: as
`deepsteg serve` runs (glibc malloc arenas capped at 2) and with the cap turned off
(``DEEPSTEG_MALLOC_ARENAS=0``), in the same invocation. Prints one table.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image


def _png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:384, 0:512]
    img = np.stack([(x * (1 + c) + y * (3 - c) + rng.integers(0, 20, x.shape)) % 256 for c in range(3)], -1)
    buf = io.BytesIO()
    Image.fromarray(img.astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _multipart(fields: dict[str, bytes]) -> tuple[bytes, str]:
    boundary = "deepstegbenchmarkboundary"
    parts = []
    for name, data in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.png"\r\n'
                     "Content-Type: image/png\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _post(url: str, fields: dict[str, bytes]) -> bytes:
    body, kind = _multipart(fields)
    req = urllib.request.Request(url, data=body, headers={"Content-Type": kind}, method="POST")
    with urllib.request.urlopen(req, timeout=300) as r:
        return r.read()


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(model: str, requests: int, burst: int, arenas_capped: bool) -> list[float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DEEPSTEG_MALLOC_ARENAS": "2" if arenas_capped else "0"}
    proc = subprocess.Popen([sys.executable, "-m", "deepsteg", "serve", "--model", model, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                    json.load(r)
                    break
            except OSError:
                time.sleep(0.1)
        samples = [_rss_mib(proc.pid)]
        images = [_png(i) for i in range(8)]
        done = 0
        with ThreadPoolExecutor(burst) as pool:
            while done < requests:
                n = min(burst, requests - done)

                def one(i: int) -> None:
                    stego = _post(f"{url}/api/hide", {"cover": images[i % 8], "secret": images[(i + 3) % 8]})
                    _post(f"{url}/api/reveal", {"stego": stego})

                list(pool.map(one, range(done, done + n)))
                done += n
                samples.append(_rss_mib(proc.pid))
        return samples
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="lsb4")
    ap.add_argument("--requests", type=int, default=260, help="hide + reveal pairs in all")
    ap.add_argument("--burst", type=int, default=20, help="concurrent clients per burst")
    a = ap.parse_args()
    print(f"deepsteg serve --model {a.model}: {a.requests} hide + reveal pairs of 512x384 PNG images in bursts "
          f"of {a.burst}; resident memory of the server (MiB)")
    print(f"{'malloc arenas':16} {'start':>7} {'peak':>7} {'end':>7} {'end - start':>12}")
    for capped in (True, False):
        s = run(a.model, a.requests, a.burst, capped)
        label = "capped at 2" if capped else "glibc default"
        print(f"{label:16} {s[0]:7.0f} {max(s):7.0f} {s[-1]:7.0f} {s[-1] - s[0]:12.0f}", flush=True)


if __name__ == "__main__":
    main()
