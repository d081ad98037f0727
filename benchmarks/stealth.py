"""The stealth mode's honest table: payload, cover and secret PSNR, and what the warden's detectors make of it.

    python benchmarks/stealth.py --covers ../shared/data/val --payloads 0.02,0.05,0.1 \
        --warden results/warden.json --json results/stealth.json --plot docs/stealth.png

* Quality: each stealth payload over the validation protocol (``--covers`` paired as ``deepsteg eval
  --protocol`` pairs them), from PNG files.
* Detection: P_E of CRM + FLD and of the CNN, from the results file of ``deepsteg detect --rich``
  (``--warden``), where each method was measured on covers without JPEG traces.
* Other methods: their protocol figures from the ``deepsteg eval --json`` files given with ``--eval``.
* Speed: a 768x512 stealth hide and reveal in this process (median of ``--runs``), on this CPU.

Prints one table and writes a JSON file and a plot of P_E against the secret's PSNR.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from deepsteg.evaluation.run import evaluate_method
from deepsteg.images import png_roundtrip
from deepsteg.methods.stealth import DEFAULT_PAYLOAD, Stealth
from deepsteg.pairs import load_pairs
from deepsteg.report import figure, text_table

PASSPHRASE = b"benchmark passphrase"
BARS = {"crm": 0.30, "cnn": 0.25}


def protocol(covers: str, payloads: list[float]) -> dict[str, dict]:
    """Cover and secret PSNR (dB, means) of stealth at each payload over the validation protocol."""
    pairs = load_pairs(covers, protocol=True)
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for p in payloads:
            method = Stealth(passphrase=PASSPHRASE, payload=p, name=f"stealth-{p:g}")
            r = evaluate_method(method, pairs, Path(d))
            out[method.name] = {"pairs": len(pairs), "cover_psnr": r["cover"]["psnr"], "secret_psnr": r["secret"]["psnr"],
                                "worst_secret_psnr": r["worst_secret_psnr"]}
    return out


def speed(runs: int) -> dict[str, float]:
    """Seconds for a 768x512 hide and reveal at the default payload (median of ``runs``)."""
    from skimage import data

    cover = np.asarray(Image.fromarray(data.astronaut()).resize((768, 512), Image.Resampling.BOX))
    secret = np.asarray(Image.fromarray(data.coffee()).resize((768, 512), Image.Resampling.BOX))
    method = Stealth(passphrase=PASSPHRASE)
    method.reveal(png_roundtrip(method.hide(cover[:200, :200], secret[:200, :200])))  # compile the trellis
    hides, reveals = [], []
    for _ in range(runs):
        t = time.perf_counter()
        stego = png_roundtrip(method.hide(cover, secret))
        hides.append(time.perf_counter() - t)
        t = time.perf_counter()
        method.reveal(stego)
        reveals.append(time.perf_counter() - t)
    return {"hide_s": statistics.median(hides), "reveal_s": statistics.median(reveals), "runs": runs}


def others(eval_files: list[str]) -> dict[str, dict]:
    """Protocol figures of other methods from ``deepsteg eval --json`` files, by method label."""
    out = {}
    for f in eval_files:
        for r in json.loads(Path(f).read_text())["results"]:
            out[r["method"]] = {"cover_psnr": r["cover"]["psnr"], "secret_psnr": r["secret"]["psnr"], "from": f}
    return out


def merged(files: list[str]) -> dict:
    """The first warden results file, each method's entry completed by the later files' (their CNN figures)."""
    first, *rest = [json.loads(Path(f).read_text()) for f in files]
    for later in rest:
        for name, row in later["methods"].items():
            first["methods"].setdefault(name, {}).update({k: v for k, v in row.items() if k == "cnn"})
    return first


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(report: dict) -> str:
    warden = report["warden"]["methods"]
    rows = []
    for name in dict.fromkeys([*report["protocol"], *warden]):
        q, w = report["protocol"].get(name, {}), warden.get(name, {})
        rows.append([name, _fmt(w.get("payload_bpc"), ".3f"), _fmt(q.get("cover_psnr"), ".2f"),
                     _fmt(q.get("secret_psnr"), ".2f"), _fmt(w.get("pe"), ".3f"),
                     _fmt(w.get("cnn", {}).get("pe"), ".3f")])
    w = report["warden"]
    notes = ["payload: bits per channel value carried (on the warden's covers); PSNR: validation protocol, PNG files",
             f"P_E: CRM + FLD and the SRNet-class CNN, trained on {w['train_pairs']} pairs of covers without JPEG "
             f"traces, tested on {w['test_pairs']} pairs of other photos (0.5 = blind)"]
    return text_table(["method", "payload", "cover dB", "secret dB", "CRM P_E", "CNN P_E"], rows, notes)


def plot(report: dict, path: str) -> None:
    warden = report["warden"]["methods"]
    points = sorted((q["secret_psnr"], warden[n]) for n, q in report["protocol"].items() if n in warden)
    with figure(path, figsize=(5.5, 4.0)) as (fig, ax):
        x = [p for p, _ in points]
        ax.plot(x, [w["pe"] for _, w in points], "o-", label="colour rich model + FLD ensemble")
        cnn = [(p, w["cnn"]["pe"]) for p, w in points if "cnn" in w]
        if cnn:
            ax.plot(*zip(*cnn), "s--", label="SRNet-class CNN")
        for p, w in points:
            ax.annotate(f"{w['payload_bpc']:.3f} bpc", (p, w["pe"]), textcoords="offset points", xytext=(4, 6),
                        fontsize=7)
        ax.axhline(0.5, color="grey", lw=0.6, ls=":")
        ax.set(xlabel="secret PSNR on the validation protocol (dB)", ylabel="detector error P_E (0.5 = blind)",
               ylim=(0, 0.55), title="stealth: detectability against what comes back")
        ax.legend(fontsize=7, loc="lower left")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--covers", required=True)
    p.add_argument("--payloads", default=f"0.02,{DEFAULT_PAYLOAD},0.1")
    p.add_argument("--warden", required=True, action="append",
                   help="results JSON of deepsteg detect --rich (repeatable: a later file's methods add to or "
                        "complete an earlier one's, e.g. a CNN run)")
    p.add_argument("--eval", action="append", default=[], help="deepsteg eval --json files of other methods")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", required=True)
    p.add_argument("--plot")
    args = p.parse_args(argv)
    payloads = [float(t) for t in args.payloads.split(",")]
    report = {"cpu": platform.processor() or platform.machine(), "protocol": protocol(args.covers, payloads),
              "others": others(args.eval), "warden": merged(args.warden), "speed_768x512": speed(args.runs)}
    report["protocol"].update({k: v for k, v in report["others"].items() if k not in report["protocol"]})
    print(table(report))
    s = report["speed_768x512"]
    print(f"768x512 stealth hide + reveal: {s['hide_s']:.2f} + {s['reveal_s']:.2f} s (median of {s['runs']})")
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    if args.plot:
        plot(report, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
