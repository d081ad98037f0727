"""The FastAPI app behind ``deepsteg serve``: the page, and hide/reveal over HTTP.

One model is loaded when the app is made and shared by all requests. Each upload is
copied into a temporary folder that is removed when the job ends, read with
:func:`deepsteg.images.read_image` (the CLI's checks), and processed in a worker thread
so the event loop stays free. Bad input gives a ``{"detail": ...}`` JSON 4xx answer.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, BinaryIO

import numpy as np
from anyio import from_thread
from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.middleware.trustedhost import TrustedHostMiddleware

from deepsteg.cancel import Cancelled
from deepsteg.errors import DeepStegError
from deepsteg.images import encode_png, read_image
from deepsteg.methods import DEFAULT_REFINE_STEPS, DeepModel, HidingMethod
from deepsteg.pairs import fit_secret
from deepsteg.registry import DEFAULT_MODEL, default_refine, list_models, load_model
from deepsteg.version import __version__
from deepsteg.web import BODY_TIMEOUT, MAX_JOBS, MAX_PENDING, MAX_PIXELS, MAX_UPLOAD_BYTES, QUEUE_TIMEOUT
from deepsteg.web.choices import MAX_REFINE, MethodChoices
from deepsteg.web.guard import Busy, Gone, InFlight, JobSlots, SecurityHeaders, UploadGuard

STATIC = Path(str(resources.files("deepsteg.web") / "static"))
PAGE_CSP = ("default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
            "frame-ancestors 'none'; form-action 'self'")


class ErrorBody(BaseModel):
    detail: str


PNG = {"content": {"image/png": {}}, "description": "an 8-bit RGB PNG image"}
ERRORS = {
    400: {"model": ErrorBody, "description": "not an image, truncated, too small or above the pixel limit"},
    413: {"model": ErrorBody, "description": "request body above the upload limit"},
    422: {"model": ErrorBody, "description": "a form field is missing"},
    503: {"model": ErrorBody, "description": "too many requests at once; retry later"},
}


def _read_upload(upload: BinaryIO, field: str, folder: Path, max_pixels: int, notes: list[str]) -> np.ndarray:
    path = folder / field
    upload.seek(0)
    with open(path, "wb") as f:
        shutil.copyfileobj(upload, f)
    try:
        return read_image(path, max_pixels, notes)
    except DeepStegError as e:
        message = str(e).replace(str(path), field).replace("--max-pixels", "deepsteg serve --max-pixels")
        raise DeepStegError(message) from None


def _png(image: np.ndarray, notes: list[str], model: str) -> Response:
    headers = {"X-DeepSteg-Model": model, "Cache-Control": "no-store"}
    if notes:
        headers["X-DeepSteg-Notes"] = "; ".join(notes)
    return Response(encode_png(image), media_type="image/png", headers=headers)


def _calibrate(choices: MethodChoices, method: HidingMethod, side: int = 96) -> None:
    """One small hide with the served deep model, so the page has an estimate before any job."""
    if not isinstance(method, DeepModel):
        return
    rng = np.random.default_rng(0)
    cover, secret = (rng.integers(0, 256, (side, side, 3), dtype=np.uint8) for _ in range(2))
    t0 = time.perf_counter()
    method.hide(cover, secret)
    choices.record("hide", method, time.perf_counter() - t0, side * side)


@dataclass
class _Service:
    """What the routes share: the served model, the choices, the job slots and the limits."""

    model: HidingMethod
    choices: MethodChoices
    slots: JobSlots
    limits: dict[str, int]
    tmp_dir: str | Path | None

    def job_hide(self, cover: BinaryIO, secret: BinaryIO, method: HidingMethod,
                 cover_psnr: float | None = None, passphrase_given: bool = False) -> Response:
        notes: list[str] = []
        if passphrase_given and not method.keyed:
            notes.append(f"{method.name} takes no passphrase: anyone with DeepSteg can reveal this stego image")
        with tempfile.TemporaryDirectory(prefix="deepsteg-web-", dir=self.tmp_dir) as d:
            c = _read_upload(cover, "cover", Path(d), self.limits["max_pixels"], notes)
            s = _read_upload(secret, "secret", Path(d), self.limits["max_pixels"], notes)
        s = fit_secret(c, s, notes=notes)
        t0 = time.perf_counter()
        stego = method.hide(c, s, cover_psnr=cover_psnr, notes=notes)
        self.choices.record("hide", method, time.perf_counter() - t0, c.shape[0] * c.shape[1])
        return _png(stego, notes, method.name)

    def job_reveal(self, stego: BinaryIO, method: HidingMethod, force: bool = False) -> Response:
        notes: list[str] = []
        with tempfile.TemporaryDirectory(prefix="deepsteg-web-", dir=self.tmp_dir) as d:
            st = _read_upload(stego, "stego", Path(d), self.limits["max_pixels"], notes)
        t0 = time.perf_counter()
        revealed = method.reveal(st, notes=notes, force=force)
        self.choices.record("reveal", method, time.perf_counter() - t0, st.shape[0] * st.shape[1])
        return _png(revealed, notes, method.name)

    def info(self) -> dict:
        listed = {m.name: m for m in list_models()}
        return {"serving": self.model.name, "default": DEFAULT_MODEL,
                "limits": {**self.limits, "max_refine": MAX_REFINE},
                "refine": self.model.refine if isinstance(self.model, DeepModel) else None,
                "default_refine": DEFAULT_REFINE_STEPS,
                "rates": self.choices.rates(),
                "models": [{"name": n, "kind": listed[n].kind if n in listed else "deep",
                            "description": listed[n].description if n in listed else "model file",
                            "targetable": listed[n].targetable if n in listed else self.model.targetable,
                            "keyed": listed[n].keyed if n in listed else bool(getattr(self.model, "keyed", False)),
                            "refine": self._refine_of(n)}
                           for n in self.choices.names()]}

    def _refine_of(self, name: str) -> int | None:
        """The refinement steps the model ``name`` hides with unless a request says otherwise."""
        if name == self.model.name:
            return self.model.refine if isinstance(self.model, DeepModel) else None
        return default_refine(name)


def create_app(model_name: str | None = None, *, max_pixels: int = MAX_PIXELS,
               max_upload_bytes: int = MAX_UPLOAD_BYTES, max_jobs: int = MAX_JOBS,
               max_pending: int = MAX_PENDING, queue_timeout: float = QUEUE_TIMEOUT,
               tmp_dir: str | Path | None = None, refine: int | None = None,
               passphrase: bytes | None = None, allowed_hosts: list[str] | None = None,
               body_timeout: float = BODY_TIMEOUT) -> FastAPI:
    """The app serving ``model_name`` (a registry name or ``.safetensors`` file; None: the
    registry default), hiding with ``refine`` refinement steps (deep models; None: the model's own) or with
    ``passphrase`` (keyed models and codec methods; None: the public one). ``allowed_hosts``: the only
    ``Host`` headers answered (guards against DNS rebinding; None: any). ``body_timeout``: seconds an
    upload's body may take (then 408). The served deep model is timed on a small image in the
    background, for the page's first estimate. Raises
    :class:`DeepStegError` for an unknown model."""
    model: HidingMethod = load_model(model_name, refine=refine, progress=False, passphrase=passphrase)
    choices = MethodChoices(model, passphrase)
    # timed in the background: the page answers at once, whatever the model's speed
    threading.Thread(target=_calibrate, args=(choices, model), name="calibrate", daemon=True).start()
    app = FastAPI(title="DeepSteg", version=__version__, docs_url=None, redoc_url=None,  # those load from a CDN
                  description="Hide a colour image inside another and reveal it again. "
                              f"Model: `{model.name}`. Uploads are multipart form fields; results are PNG.")
    slots, in_flight = JobSlots(max_jobs, queue_timeout), InFlight(max_pending)
    app.state.model, app.state.slots, app.state.in_flight, app.state.choices = model, slots, in_flight, choices
    app.add_middleware(UploadGuard, max_body=max_upload_bytes, in_flight=in_flight, body_timeout=body_timeout)
    if allowed_hosts is not None:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    app.add_middleware(SecurityHeaders)
    limits = {"max_pixels": max_pixels, "max_upload_bytes": max_upload_bytes, "max_jobs": max_jobs}
    _add_error_handlers(app)
    _add_routes(app, _Service(model, choices, slots, limits, tmp_dir))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


PASSPHRASE_HELP = ("the passphrase of a keyed model or codec method (default: the server's --passphrase-file, else "
                   "a public one)")


def _passphrase(text: str | None) -> bytes | None:
    """A form's passphrase as UTF-8 bytes; None when absent or empty."""
    return text.encode() if text else None


def _left(request: Request) -> Callable[[], bool]:
    """For a worker thread: has the client of ``request`` disconnected?"""
    return lambda: from_thread.run(request.is_disconnected)


def _add_error_handlers(app: FastAPI) -> None:
    """Every failure as ``{"detail": ...}`` JSON: 400 bad input, 422 bad form, 499 client gone,
    503 busy, 500 anything else (no traceback)."""

    @app.exception_handler(DeepStegError)
    async def bad_input(request: Request, exc: DeepStegError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Gone)
    @app.exception_handler(Cancelled)
    async def gone(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=499)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(x) for x in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', 'invalid')}"
                 for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})"}, status_code=500)


def _add_routes(app: FastAPI, svc: _Service) -> None:
    @app.post("/api/hide", response_class=Response, responses={200: PNG, **ERRORS},
              summary="Hide the secret image inside the cover image")
    async def hide(request: Request,
                   cover: Annotated[UploadFile, File(description="cover image (PNG, JPEG, WebP, AVIF, ...)")],
                   secret: Annotated[UploadFile, File(description="secret image, resized to the cover's size")],
                   model: Annotated[str | None, Form(description="a registered model (default: the served one)")] = None,
                   refine: Annotated[int | None, Form(description=f"refinement steps of a deep model, 0..{MAX_REFINE}")] = None,
                   cover_psnr: Annotated[float | None, Form(
                       description="hide at this cover PSNR in dB (LSB, codec-lsbm, models conditioned on a strength)"
                   )] = None,
                   passphrase: Annotated[str | None, Form(description=PASSPHRASE_HELP)] = None,
                   ) -> Response:
        """Returns the stego image as PNG, of the cover's size. Notes (alpha dropped, secret
        resized) come in the ``X-DeepSteg-Notes`` header. A request whose client has gone
        before a job slot is free is dropped."""
        key = _passphrase(passphrase)
        method = await run_in_threadpool(svc.choices.get, model, refine, key)
        return await run_in_threadpool(
            lambda: svc.slots.run(svc.job_hide, cover.file, secret.file, method, cover_psnr, key is not None,
                                  gone=_left(request)))

    @app.post("/api/reveal", response_class=Response, responses={200: PNG, **ERRORS},
              summary="Reveal the secret image hidden in a stego image")
    async def reveal(request: Request,
                     stego: Annotated[UploadFile, File(description="stego image, as PNG (lossless)")],
                     model: Annotated[str | None, Form(description="the model it was hidden with")] = None,
                     passphrase: Annotated[str | None, Form(description=PASSPHRASE_HELP)] = None,
                     force: Annotated[bool, Form(description="a keyed model: reveal even where the header does not "
                                                             "check out (a note says so)")] = False,
                     ) -> Response:
        """Returns the revealed secret image as PNG; a keyed model's stego image without the right
        passphrase gets 400 "no hidden image found" unless ``force``."""
        method = await run_in_threadpool(svc.choices.get, model, None, _passphrase(passphrase))
        return await run_in_threadpool(
            lambda: svc.slots.run(svc.job_reveal, stego.file, method, force, gone=_left(request)))

    @app.get("/api/models", summary="The model being served, the registry, the limits and measured speeds")
    async def models() -> dict:
        return svc.info()

    @app.get("/healthz", summary="Liveness check")
    async def healthz() -> dict:
        return {"status": "ok", "model": svc.model.name, "version": __version__}

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": PAGE_CSP,
                                                            "Cache-Control": "no-cache"})
