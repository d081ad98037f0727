"""Syndrome-trellis codes: exact round trips, the least cost, and efficiency near the bound."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from deepsteg.methods import stc


@pytest.mark.parametrize("rate", [0.02, 0.1, 0.25, 0.5])
def test_the_message_comes_back_at_every_rate_and_seed(rate):
    for seed in range(10):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(2000, 6000))
        m = int(rate * n)
        lsb = rng.integers(0, 2, n).astype(np.uint8)
        message = rng.integers(0, 2, m).astype(np.uint8)
        y = stc.embed(lsb, rng.exponential(1.0, n), message, h=8)
        assert np.array_equal(stc.extract(y, m, h=8), message), (rate, seed)


def test_long_covers_are_cut_into_segments_that_each_carry_their_share(monkeypatch):
    monkeypatch.setattr(stc, "SEGMENT", 1000)
    rng = np.random.default_rng(0)
    n, m = 4500, 700
    lsb = rng.integers(0, 2, n).astype(np.uint8)
    message = rng.integers(0, 2, m).astype(np.uint8)
    assert len(stc._segments(n, m)) == 5
    y = stc.embed(lsb, rng.exponential(1.0, n), message, h=7)
    assert np.array_equal(stc.extract(y, m, h=7), message)


def test_the_trellis_finds_the_cheapest_bits_with_that_syndrome():
    rng = np.random.default_rng(1)
    for _ in range(15):
        n, h = int(rng.integers(8, 13)), int(rng.integers(2, 5))
        m = int(rng.integers(2, n // 2 + 1))
        lsb = rng.integers(0, 2, n).astype(np.uint8)
        message = rng.integers(0, 2, m).astype(np.uint8)
        cost = rng.exponential(1.0, n)
        y = stc.embed(lsb, cost, message, h)
        best = min(cost[np.array(c) != lsb].sum() for c in itertools.product((0, 1), repeat=n)
                   if np.array_equal(stc.extract(np.array(c, dtype=np.uint8), m, h), message))
        assert cost[y != lsb].sum() == pytest.approx(best)


def test_too_long_a_message_is_refused():
    with pytest.raises(ValueError, match="at most one message bit per two"):
        stc.embed(np.zeros(10, np.uint8), np.ones(10), np.zeros(6, np.uint8))


def test_efficiency_is_within_ten_percent_of_the_bound_with_hill_costs():
    """HILL's costs of a photo's channels (in a random order, as the stealth mode embeds) at 0.1 bits per value."""
    data = pytest.importorskip("skimage.data")
    from deepsteg.methods.stealth import hill_costs

    photo = data.astronaut()[128:384, 128:384]
    rng = np.random.default_rng(0)
    cost = np.concatenate([np.minimum(*hill_costs(photo[..., c])).ravel() for c in range(3)])
    lsb = (np.moveaxis(photo, -1, 0).ravel() & 1).astype(np.uint8)
    order = rng.permutation(cost.size)
    cost, lsb = cost[order], lsb[order]
    m = cost.size // 10
    message = rng.integers(0, 2, m).astype(np.uint8)
    y = stc.embed(lsb, cost, message)
    assert np.array_equal(stc.extract(y, m), message)
    efficiency = stc.bound_distortion(cost, m) / cost[y != lsb].sum()
    assert 0.9 <= efficiency <= 1.0


def test_changes_are_plus_or_minus_one_and_never_leave_the_range():
    rng = np.random.default_rng(2)
    values = np.concatenate([np.zeros(300), np.full(300, 255), rng.integers(0, 256, 2400)]).astype(np.uint8)
    plus = np.where(values == 255, stc.WET, rng.exponential(1.0, values.size))
    minus = np.where(values == 0, stc.WET, rng.exponential(1.0, values.size))
    message = rng.integers(0, 2, 600).astype(np.uint8)
    out = stc.embed_lsb(values, plus, minus, message, h=8)
    step = out.astype(int) - values
    assert set(np.unique(step)) <= {-1, 0, 1}
    assert np.array_equal(stc.extract(out & 1, message.size, h=8), message)
    assert (step[values == 0] >= 0).all() and (step[values == 255] <= 0).all()
    cheaper_plus = plus <= minus
    assert (step[(step != 0) & cheaper_plus] == 1).all() and (step[(step != 0) & ~cheaper_plus] == -1).all()


def test_the_bound_matches_the_binary_entropy_for_equal_costs():
    n, m = 10000, 1000
    changes = stc.bound_distortion(np.ones(n), m)
    assert stc.binary_entropy(np.array([changes / n]))[0] * n == pytest.approx(m, rel=1e-6)
