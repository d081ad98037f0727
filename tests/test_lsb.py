import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from deepsteg import LSB, load_model

pair = st.integers(2, 9).flatmap(
    lambda h: st.tuples(arrays(np.uint8, (h, 5, 3)), arrays(np.uint8, (h, 5, 3))))


@settings(max_examples=60, deadline=None)
@given(pair, st.integers(1, 7))
def test_lsb_round_trip_is_exact(cs, k):
    cover, secret = cs
    m = LSB(k)
    stego = m.hide(cover, secret)
    assert stego.dtype == np.uint8 and stego.shape == cover.shape
    # the cover keeps its 8-k high bits, the low bits are the secret's k high bits
    assert np.array_equal(stego >> k, cover >> k)
    assert np.array_equal(stego & ((1 << k) - 1), secret >> (8 - k))
    revealed = m.reveal(stego)
    # the secret's k high bits come back; the missing bits are filled with their midpoint
    expected = ((secret >> (8 - k)) << (8 - k)) + (1 << (7 - k))
    assert np.array_equal(revealed, expected.astype(np.uint8))
    assert np.abs(revealed.astype(int) - secret.astype(int)).max() <= (1 << (7 - k))


def test_lsb_known_values():
    c = np.full((2, 2, 3), 0b10110110, np.uint8)
    s = np.full((2, 2, 3), 0b11010011, np.uint8)
    m = load_model("lsb4")
    assert m.hide(c, s)[0, 0, 0] == 0b10111101
    assert m.reveal(m.hide(c, s))[0, 0, 0] == 0b11011000


def test_lsb_rejects_bad_bits():
    with pytest.raises(ValueError):
        LSB(0)
