"""PDQ hash values: hex <-> bits, the Hamming metric, and refusal of malformed input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.errors import ChorusError, InvalidSignalError
from chorus.fingerprint import bits_to_hex, hamming_distance, hex_to_bits, normalize_hex

hashes = st.binary(min_size=32, max_size=32).map(bytes.hex)
bit_vectors = st.lists(st.integers(0, 1), min_size=256, max_size=256)


@given(hashes)
def test_hex_bits_round_trip(value: str) -> None:
    bits = hex_to_bits(value)
    assert bits.shape == (256,)
    assert set(np.unique(bits)) <= {0, 1}
    assert bits_to_hex(bits) == value


@given(bit_vectors)
def test_bits_hex_round_trip(bits: list[int]) -> None:
    assert hex_to_bits(bits_to_hex(bits)).tolist() == bits


@given(hashes)
def test_most_significant_bit_first(value: str) -> None:
    assert hex_to_bits(value)[0] == int(value[0], 16) >> 3


@given(hashes, hashes, hashes)
def test_distance_is_a_metric(a: str, b: str, c: str) -> None:
    assert hamming_distance(a, a) == 0
    assert hamming_distance(a, b) == hamming_distance(b, a)
    assert 0 <= hamming_distance(a, b) <= 256
    assert (hamming_distance(a, b) == 0) == (a == b)
    assert hamming_distance(a, c) <= hamming_distance(a, b) + hamming_distance(b, c)


@given(hashes)
def test_distance_counts_differing_bits(a: str) -> None:
    flipped = bits_to_hex(1 - hex_to_bits(a))
    assert hamming_distance(a, flipped) == 256


@given(hashes)
def test_upper_case_and_whitespace_are_accepted(value: str) -> None:
    assert normalize_hex(f"  {value.upper()}\n") == value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "has 0"),
        ("abc", "has 3"),
        ("g" * 64, "only the characters"),
        ("0" * 63 + "-", "only the characters"),
        ("0" * 65, "has 65"),
        ("0x" + "0" * 62, "only the characters"),
    ],
)
def test_malformed_hex_is_refused_clearly(value: str, fragment: str) -> None:
    with pytest.raises(InvalidSignalError, match=fragment) as info:
        hex_to_bits(value)
    assert isinstance(info.value, ChorusError)


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidSignalError):
        normalize_hex(b"00" * 32)  # type: ignore[arg-type]


def test_bad_bit_vectors_are_refused() -> None:
    with pytest.raises(InvalidSignalError):
        bits_to_hex([0, 1] * 64)
    with pytest.raises(InvalidSignalError):
        bits_to_hex([2] * 256)
