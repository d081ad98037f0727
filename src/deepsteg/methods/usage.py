"""How a trained model hides unless told otherwise: one record, held by the model catalogue.

The catalogue (:mod:`deepsteg.registry`) gives each registered model a :class:`Usage`;
:class:`~deepsteg.methods.DeepModel`, the CLI and the page read it from there. A model file given
by its path has no catalogue entry: its card (the ``card`` metadata inside the file, written by
``deepsteg export``) says the same things under the keys :meth:`Usage.from_card` reads. For a
registered model the card keeps its provenance only (the run, the recipe, the figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The channels a model can be trained to survive (``survives``).
CHANNELS = ("", "jpeg")


@dataclass(frozen=True)
class Usage:
    """``refine``: hide-time refinement steps; ``refine_cover_weight``: the cover's weight in a
    refinement through JPEG (None: :data:`~deepsteg.methods.refine.JPEG_REFINE_COVER_WEIGHT`);
    ``strength``: a conditioned network's strength in [0, 1] (None: the network's default);
    ``survives``: the channel the model is trained to survive (``"jpeg"``, or ``""`` for a
    lossless file only); ``keyed``: it hides the secret scrambled by a key from the passphrase,
    with a sealed header (:mod:`~deepsteg.methods.scramble`, :mod:`~deepsteg.methods.sealed`)."""

    refine: int = 0
    refine_cover_weight: float | None = None
    strength: float | None = None
    survives: str = ""
    keyed: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.refine, int) or self.refine < 0:
            raise ValueError(f"refine must be an int >= 0, got {self.refine!r}")
        if self.strength is not None and not 0 <= self.strength <= 1:
            raise ValueError(f"strength must be in [0, 1], got {self.strength!r}")
        if self.survives not in CHANNELS:
            raise ValueError(f"survives must be one of {CHANNELS}, got {self.survives!r}")

    @classmethod
    def from_card(cls, card: dict[str, Any]) -> Usage:
        """What a model file's card says (``default_refine``, ``refine_cover_weight``,
        ``default_strength``, and its training recipe's ``distort`` and ``scramble``)."""
        recipe = card.get("recipe") or {}
        weight, strength = card.get("refine_cover_weight"), card.get("default_strength")
        if strength is not None and (isinstance(strength, bool) or not isinstance(strength, (int, float))):
            raise ValueError(f"default_strength must be a number in [0, 1], got {strength!r}")
        return cls(refine=int(card.get("default_refine", 0)),
                   refine_cover_weight=None if weight is None else float(weight),
                   strength=None if strength is None else float(strength),
                   survives="jpeg" if "jpeg" in str(recipe.get("distort") or "").split(",") else "",
                   keyed=bool(recipe.get("scramble")))
