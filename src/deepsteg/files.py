"""File-system safety for every output: atomic writes, outputs checked before any work, folders.

Every file DeepSteg writes goes through a temporary file in the same folder and a rename, so
no half-written output is ever left behind, and a killed run's temporaries are removed the
next time the same output is written.
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from deepsteg.errors import DeepStegError


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place.

    On any failure the temporary file is removed and nothing appears at ``path``; temporary
    files of ``path`` that a killed process left (``.NAME.*.tmp``) are removed first.
    """
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise DeepStegError(f"{p}: folder {folder} does not exist")
    if p.is_dir():
        raise DeepStegError(f"{p}: is a directory")
    for stale in folder.glob(f"{glob.escape('.' + p.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise DeepStegError(f"{p}: cannot write in {folder} ({e.strerror or e})") from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~umask)  # the permissions a plain open() would give, not mkstemp's 0600
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def check_output(output: str | os.PathLike | None, inputs: Sequence[str | os.PathLike] = (),
                 suffixes: Sequence[str] = ()) -> Path | None:
    """Refuse, before any work, an output file that is a folder, lies in a missing or
    unwritable folder, would overwrite one of ``inputs``, or (given ``suffixes``, e.g.
    ``(".png",)``) is named for another format. ``None`` (no output asked for) passes."""
    if output is None:
        return None
    out = Path(output)
    if suffixes and out.suffix.lower() not in suffixes:
        raise DeepStegError(f"{output}: images are written as {'/'.join(x.lstrip('.').upper() for x in suffixes)}; "
                            f"name the output {out.stem}{suffixes[0]}")
    for i in inputs:
        if Path(i).exists() and out.exists() and out.resolve() == Path(i).resolve():
            raise DeepStegError(f"{output}: output would overwrite the input {i}")
    if out.is_dir():
        raise DeepStegError(f"{output}: is a directory")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise DeepStegError(f"{output}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DeepStegError(f"{output}: cannot write in folder {folder} (permission denied)")
    return out


def ensure_dir(path: str | os.PathLike) -> Path:
    """Create the output folder ``path`` (and its parents); a clear error if it cannot be one."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise DeepStegError(f"{p}: exists and is not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DeepStegError(f"{p}: cannot create folder ({e.strerror or e})") from None
    return p
