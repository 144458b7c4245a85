"""A cache of values built from objects, found again by the object's identity.

The hot path asks again and again for what it built from the same objects: the coprime normal of a
claim piece's constraint, its SMT-LIB text, a network's integer or matrix form. Keying by value
would hash long Fractions or whole weight matrices, which costs what the cache saves; keying by
`id()` alone would serve a dead object's value to a new object that got its id.
"""

from __future__ import annotations

from typing import Callable, Generic, Hashable, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ByObject(Generic[K, V]):
    """Values built from objects, kept with the object itself under its id (and a `tag` for values
    that also depend on something else), so a reused id never serves another object's value.
    Past `limit` entries the cache starts over: it bounds memory, and any entry can be rebuilt."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.entries: dict[tuple[int, Hashable], tuple[K, V]] = {}

    def get(self, obj: K, build: Callable[[K], V], tag: Hashable = None) -> V:
        key = (id(obj), tag)
        known = self.entries.get(key)
        if known is not None and known[0] is obj:
            return known[1]
        if len(self.entries) > self.limit:
            self.entries.clear()
        value = build(obj)
        self.entries[key] = (obj, value)
        return value
