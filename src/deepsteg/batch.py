"""Folder-wide hide and reveal: a progress bar, bad files skipped and reported, resumable.

``deepsteg hide --covers ... --secrets ...`` and ``deepsteg reveal FOLDER`` call these.

Outputs are ``OUT_DIR/<input name>.png``; an output that already exists is kept and its
input skipped, so an interrupted batch continues where it stopped. Reading the next
images and writing the previous result run in a worker thread beside the network, which
uses both cores.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from deepsteg.errors import DeepStegError
from deepsteg.files import ensure_dir
from deepsteg.images import read_image, write_png
from deepsteg.methods import HidingMethod
from deepsteg.methods.keys import PUBLIC_NOTE
from deepsteg.pairs import find_images

#: What :func:`deepsteg.files.atomic_write` names its temporary files while writing an output PNG.
STALE_TEMPORARIES = ".*.png.*.tmp"


def _out_dir(path: str | Path, inputs: list) -> Path:
    """The output folder: created if needed, never one of the input folders or inside one,
    writable (checked before any work), and cleared of the temporary files a killed run left."""
    out = Path(path).resolve()
    for i in inputs:
        src = Path(i).resolve()
        if out == src or src in out.parents:
            raise DeepStegError(f"{path}: the output folder must be outside the input folder {i}")
    ensure_dir(out)
    if not os.access(out, os.W_OK | os.X_OK):
        raise DeepStegError(f"{path}: cannot write in this folder (permission denied)")
    stale = list(out.glob(STALE_TEMPORARIES))
    for f in stale:
        f.unlink(missing_ok=True)
    if stale:
        print(f"note: removed {len(stale)} temporary files an interrupted run left in {path}", file=sys.stderr)
    return out


def _unique_stems(paths: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for p in paths:
        if p.stem in seen:
            raise DeepStegError(f"{seen[p.stem]} and {p} would both be written as {p.stem}.png")
        seen[p.stem] = p


def _run(jobs: list[tuple[str, Path, list[Path]]], work: Callable, desc: str, max_pixels: int) -> int:
    """``jobs``: (name, output path, input paths). ``work(*arrays)`` -> uint8 image."""
    todo = [j for j in jobs if not j[1].exists()]
    if len(todo) < len(jobs):
        print(f"note: {len(jobs) - len(todo)} outputs exist already and are kept", file=sys.stderr)
    failed: list[str] = []

    def load(job):
        return [read_image(p, max_pixels) for p in job[2]]

    with ThreadPoolExecutor(max_workers=2) as pool:
        writes: list[Future] = []
        nxt = pool.submit(load, todo[0]) if todo else None
        for i, job in enumerate(tqdm(todo, desc=desc, unit="img", file=sys.stderr)):
            current, nxt = nxt, (pool.submit(load, todo[i + 1]) if i + 1 < len(todo) else None)
            try:
                assert current is not None
                arrays = current.result()
                try:
                    result = work(*arrays)
                except DeepStegError as e:  # e.g. nothing hidden in this image
                    raise DeepStegError(f"{job[2][0]}: {e}") from None
            except DeepStegError as e:
                failed.append(str(e))
                tqdm.write(f"skipped: {e}", file=sys.stderr)
                continue
            writes.append(pool.submit(write_png, result, job[1]))
        for f in writes:
            f.result()
    done = len(todo) - len(failed)
    print(f"{done} written, {len(jobs) - len(todo)} kept, {len(failed)} skipped", file=sys.stderr)
    return 2 if failed else 0


def hide_folders(method: HidingMethod, covers_dir: str | Path, secrets_dir: str | Path, out_dir: str | Path,
                 max_pixels: int, cover_psnr: float | None = None) -> int:
    """Hide the i-th secret of ``secrets_dir`` in the i-th cover of ``covers_dir`` (sorted), each
    stego image written as ``OUT_DIR/<cover name>.png``. Returns 0, or 2 if any file was skipped."""
    covers, secrets = find_images(covers_dir), find_images(secrets_dir)
    if not covers or not secrets:
        raise DeepStegError("no images in --covers or --secrets")
    if len(covers) != len(secrets):
        print(f"note: {len(covers)} covers and {len(secrets)} secrets: hiding the first "
              f"{min(len(covers), len(secrets))} pairs", file=sys.stderr)
    out = _out_dir(out_dir, [covers_dir, secrets_dir])
    _unique_stems(covers[:len(secrets)])
    jobs = [(c.stem, out / f"{c.stem}.png", [c, s]) for c, s in zip(covers, secrets)]

    if method.public_passphrase:
        print(f"note: hide: {method.name}: {PUBLIC_NOTE}", file=sys.stderr)

    def hide(cover, secret):  # hide() resizes the secret itself; the public passphrase is noted once, above
        return method.hide(cover, secret, cover_psnr=cover_psnr, notes=[])

    return _run(jobs, hide, "hiding", max_pixels)


def reveal_folder(method: HidingMethod, stegos_dir: str | Path, out_dir: str | Path, max_pixels: int,
                  force: bool = False) -> int:
    """Reveal every image of ``stegos_dir`` into ``OUT_DIR/<name>.png`` (``force``: see
    :meth:`HidingMethod.reveal`). Returns 0, or 2 if any was skipped."""
    stegos = find_images(stegos_dir)
    if not stegos:
        raise DeepStegError(f"{stegos_dir}: no images")
    out = _out_dir(out_dir, [stegos_dir])
    _unique_stems(stegos)
    jobs = [(p.stem, out / f"{p.stem}.png", [p]) for p in stegos]
    def reveal(stego):
        return method.reveal(stego, force=force)

    return _run(jobs, reveal, "revealing", max_pixels)
