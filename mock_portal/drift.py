"""Dynamic element ids and class names, as React-style apps render them (`:r2b:`, `btn-x7f3a1`).

With no drift seed, ids and classes are stable and readable. With a seed, every render gets new
ones, while labels (`<label for>` follows its input), roles and `data-testid`s stay stable. The
stylesheets select classes by prefix (`[class|=name]`) so pages look the same either way.
"""

from __future__ import annotations

import hashlib


class Drift:
    def __init__(self, seed: int | None, render: int) -> None:
        self._seed = seed
        self._render = render

    def _hash(self, name: str, kind: str) -> str:
        return hashlib.blake2s(f"{self._seed}:{self._render}:{kind}:{name}".encode()).hexdigest()

    @property
    def active(self) -> bool:
        return self._seed is not None

    def id(self, name: str) -> str:
        if self._seed is None:
            return name.replace("_", "-")
        return f":r{int(self._hash(name, 'id')[:6], 16) % 46656:x}{self._hash(name, 'id')[6:8]}:"

    def cls(self, name: str) -> str:
        if self._seed is None:
            return name
        return f"{name}-{self._hash(name, 'cls')[:6]}"
