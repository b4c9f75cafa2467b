"""Deterministic randomness keyed by *what* is drawn, not by *when*.

A person, vehicle or plate must come out the same wherever it is needed (its own
city's file, a vehicle owner, a face match) without the generator keeping every
record in memory. :func:`keyed` derives an independent stream from a key with
SplitMix64; :class:`Draws` hands out bounded integers from it. Sequential streams
(one per stage) use :func:`stage_random`, a ``random.Random`` seeded by text.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def mix64(x: int) -> int:
    """SplitMix64 finaliser: a fast, well-spread 64-bit hash of an integer."""
    x = (x + _GOLDEN) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def key_of(seed: int, *parts: int) -> int:
    h = mix64(seed & _MASK)
    for part in parts:
        h = mix64(h ^ (part & _MASK))
    return h


class Draws:
    """Bounded integers from a keyed SplitMix64 stream: 64-bit words pooled into one
    integer and divided out (a person's 18 draws take ~6 µs; seeding a Mersenne
    Twister per person would take more)."""

    __slots__ = ("_counter", "_pool", "_room")

    def __init__(self, key: int) -> None:
        self._counter = key
        self._pool = 0
        self._room = 1

    def below(self, n: int) -> int:
        """Uniform-enough integer in ``[0, n)`` for ``n`` far below 2**48."""
        if self._room < n << 16:
            self._counter = (self._counter + _GOLDEN) & _MASK
            self._pool = (self._pool << 64) | mix64(self._counter)
            self._room <<= 64
        self._pool, value = divmod(self._pool, n)
        self._room //= n
        return value

    def chance(self, percent: float) -> bool:
        return self.below(10_000) < percent * 100

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]


def keyed(seed: int, *parts: int) -> Draws:
    return Draws(key_of(seed, *parts))


def stage_random(seed: int, stage: str) -> random.Random:
    """A sequential stream per stage: changing one stage leaves the others' bytes alone."""
    return random.Random(f"lianfang-demo/{seed}/{stage}")


def text_key(text: str) -> int:
    """A stable integer for a short text (no ``hash()``: it is salted per process)."""
    h = 0
    for byte in text.encode():
        h = mix64(h ^ byte)
    return h


class Permutation:
    """A keyed bijection of ``[0, n)``: a 4-round (unbalanced) Feistel network on
    ``bit_length(n - 1)`` bits, cycle-walking back into range (under two rounds of
    walking on average). Unlike an affine map it leaves no visible stride between
    neighbouring indices, and like any bijection it never repeats a value."""

    __slots__ = ("_high", "_keys", "_low", "n")

    def __init__(self, n: int, key: int) -> None:
        if n < 2:
            raise ValueError("a permutation needs at least two values")
        bits = max(2, (n - 1).bit_length())
        self.n = n
        self._high, self._low = bits // 2, bits - bits // 2
        self._keys = tuple(mix64(key + r) for r in range(4))

    def __call__(self, x: int) -> int:
        n = self.n
        while True:
            high, low = self._high, self._low
            for k in self._keys:
                left, right = x >> low, x & ((1 << low) - 1)
                x = (right << high) | (left ^ (mix64(right ^ k) & ((1 << high) - 1)))
                high, low = low, high
            if x < n:
                return x
