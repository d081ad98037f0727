"""What a page visitor may choose: the model (any registered one) and, for deep models, the
refinement steps; and how long a job of each kind is expected to take.

Methods are loaded on first use and kept; a request with its own refinement setting gets a
shallow copy sharing the loaded network. Timings of finished jobs (seconds per megapixel,
per model, operation and refinement setting) are averaged so the page can show an estimate.
"""

from __future__ import annotations

import threading

from deepsteg.errors import DeepStegError
from deepsteg.methods import DeepModel, HidingMethod
from deepsteg.registry import REGISTRY, available, default_refine, load_model

#: Most refinement steps a visitor may ask for (each costs about one more pass of the model): 64, or a
#: registered model's own default where that is more (the page offers each model with its own).
MAX_REFINE = max([64, *(default_refine(name) or 0 for name, info in REGISTRY.items() if available(info))])
#: Weight of the newest job in the running average of seconds per megapixel.
_NEW = 0.5


class MethodChoices:
    """The served method plus every registered one, loaded on demand (thread-safe)."""

    def __init__(self, served: HidingMethod, passphrase: bytes | None = None):
        self.served = served
        self.passphrase = passphrase
        self._methods: dict[str, HidingMethod] = {served.name: served}
        self._rates: dict[str, float] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """Every name a request may give: the served model first, then the registry's (those whose
        weights are here: a superseded model's are only in a source checkout)."""
        return list(dict.fromkeys([self.served.name, *(n for n, info in REGISTRY.items() if available(info))]))

    def get(self, name: str | None, refine: int | None = None, passphrase: bytes | None = None) -> HidingMethod:
        """The method called ``name`` (None: the served one), with ``refine`` steps if it is a
        deep model and ``refine`` is given, keyed by ``passphrase`` if given (else the server's).
        DeepStegError for an unknown name or a bad setting."""
        name = name or self.served.name
        if name not in self.names():
            raise DeepStegError(f"unknown model {name!r}; one of {', '.join(self.names())}")
        with self._lock:
            if name not in self._methods:
                self._methods[name] = load_model(name, progress=False, passphrase=self.passphrase)
            method = self._methods[name]
        if passphrase:
            method = method.with_passphrase(passphrase)
        if refine is None or not isinstance(method, DeepModel):
            return method
        if not 0 <= refine <= MAX_REFINE:
            raise DeepStegError(f"refinement steps must be in 0..{MAX_REFINE}, got {refine}")
        return method.with_settings(refine=refine)

    @staticmethod
    def key(operation: str, method: HidingMethod) -> str:
        """``"hide:NAME:REFINE"`` or ``"reveal:NAME"``: what one timing is kept under."""
        if operation == "hide" and isinstance(method, DeepModel):
            return f"hide:{method.name}:{method.refine}"
        return f"{operation}:{method.name}"

    def record(self, operation: str, method: HidingMethod, seconds: float, pixels: int) -> None:
        """Fold one finished job into the running seconds-per-megapixel of its kind."""
        rate = seconds / max(pixels, 1) * 1e6
        k = self.key(operation, method)
        with self._lock:
            old = self._rates.get(k)
            self._rates[k] = rate if old is None else (1 - _NEW) * old + _NEW * rate

    def rates(self) -> dict[str, float]:
        """Seconds per megapixel measured so far, by :meth:`key`."""
        with self._lock:
            return dict(self._rates)
