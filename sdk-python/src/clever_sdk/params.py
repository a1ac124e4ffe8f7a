"""A strategy's parameters: the JSON object the host passes to `init`."""

from __future__ import annotations

import json
import math
from typing import Any


class ParamError(ValueError):
    """A parameter is missing its type or the text is not a JSON object."""


def _not_json(constant: str):
    # Python's json reads NaN and Infinity; JSON (and the Rust SDK) does not.
    raise ValueError(f"{constant} is not a JSON number")


class Params:
    """Read parameters with a default and a clear error on the wrong type."""

    def __init__(self, values: dict[str, Any] | None = None):
        self.values: dict[str, Any] = dict(values or {})

    @staticmethod
    def parse(text: str) -> Params:
        """Parse JSON text; empty text means `{}`."""
        if not text.strip():
            return Params()
        try:
            value = json.loads(text, parse_constant=_not_json)
        except (json.JSONDecodeError, ValueError) as e:
            raise ParamError(f"parameters are not JSON: {e}") from None
        if not isinstance(value, dict):
            raise ParamError("parameters must be a JSON object")
        return Params(value)

    def get(self, key: str, default: Any = None) -> Any:
        """A raw value."""
        return self.values.get(key, default)

    def float_or(self, key: str, default: float) -> float:
        """A number, or `default` if absent."""
        if key not in self.values:
            return default
        v = self.values[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ParamError(f"parameter `{key}` must be a number, got {json.dumps(v)}")
        return float(v)

    def int_or(self, key: str, default: int) -> int:
        """A whole number (0 or more), or `default` if absent."""
        if key not in self.values:
            return default
        v = self.values[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ParamError(f"parameter `{key}` must be a whole number, got {json.dumps(v)}")
        return v

    def str_or(self, key: str, default: str) -> str:
        """A string, or `default` if absent."""
        if key not in self.values:
            return default
        v = self.values[key]
        if not isinstance(v, str):
            raise ParamError(f"parameter `{key}` must be a string, got {json.dumps(v)}")
        return v

    def check(self, declared: list[Parameter]) -> None:
        """Refuse a key `declared` does not list, or a value not of its kind,
        as the host does before a run (the native harness calls it)."""
        by_name = {p.name: p for p in declared}
        for key, value in self.values.items():
            p = by_name.get(key)
            if p is None:
                names = ", ".join(by_name)
                raise ParamError(f"`{key}` is not a parameter of this strategy (its parameters: {names})")
            if not _admits(p.kind, value):
                raise ParamError(f"`{key}` = {json.dumps(value)}: it is read as {_KINDS[p.kind]}")

    def flag_or(self, key: str, default: bool) -> bool:
        """`true` or `false`, or `default` if absent."""
        if key not in self.values:
            return default
        v = self.values[key]
        if not isinstance(v, bool):
            raise ParamError(f"parameter `{key}` must be true or false, got {json.dumps(v)}")
        return v

    def number(self, p: Parameter) -> float:
        """A declared number, or its default if absent."""
        return float(self.float_or(p.name, p._of(NUMBER)))

    def whole(self, p: Parameter) -> int:
        """A declared whole number (0 to 2^64 - 1), or its default if absent."""
        default = p._of(WHOLE)
        if p.name not in self.values:
            return default
        v = self.values[p.name]
        if not _admits(WHOLE, v):
            raise ParamError(f"parameter `{p.name}` must be a whole number of 0 or more, got {json.dumps(v)}")
        return int(v)

    def text(self, p: Parameter) -> str:
        """A declared string, or its default if absent."""
        return self.str_or(p.name, p._of(TEXT))

    def flag(self, p: Parameter) -> bool:
        """A declared flag, or its default if absent."""
        return self.flag_or(p.name, p._of(FLAG))


_U64 = 2**64


def _admits(kind: str, v: Any) -> bool:
    """Whether `v` is of `kind` as the host reads it: a whole number fits
    in 64 bits, and `2000.0` counts as one."""
    number = isinstance(v, (int, float)) and not isinstance(v, bool)
    if kind == WHOLE:
        if isinstance(v, float):
            return math.isfinite(v) and v.is_integer() and 0 <= v < _U64
        return number and 0 <= v < _U64
    return {NUMBER: number, TEXT: isinstance(v, str), FLAG: isinstance(v, bool)}[kind]


NUMBER, WHOLE, TEXT, FLAG = "number", "whole", "text", "flag"
_KINDS = {NUMBER: "a number", WHOLE: "a whole number of 0 or more", TEXT: "a string", FLAG: "true or false"}


class Parameter:
    """One parameter `init` reads, declared with its kind, default and a
    line of doc (WIT 1.3). Declare them in `Strategy.parameters()` and the
    host refuses a `--params` name no plugin declares (with the nearest
    one) or a value of the wrong kind before a run; read them with
    `params.number(STAKE)`, so the default is written once.

        STAKE = Parameter.number("stake", 2.0, "stake of each back")
    """

    __slots__ = ("name", "kind", "default", "doc")

    def __init__(self, name: str, kind: str, default: Any, doc: str):
        if kind not in _KINDS:
            raise ValueError(f"parameter `{name}`: no kind `{kind}` (number, whole, text or flag)")
        # A default the host could not read back refuses the whole plugin
        # at load: say so here instead.
        if kind == NUMBER:
            ok = _admits(NUMBER, default) and math.isfinite(default)
        elif kind == WHOLE:
            ok = isinstance(default, int) and _admits(WHOLE, default)
        else:
            ok = _admits(kind, default)
        if not ok:
            raise ValueError(f"parameter `{name}`: its default {default!r} is not {_KINDS[kind]}")
        self.name, self.kind, self.default, self.doc = name, kind, default, doc

    @staticmethod
    def number(name: str, default: float, doc: str) -> Parameter:
        """Any JSON number."""
        return Parameter(name, NUMBER, default, doc)

    @staticmethod
    def whole(name: str, default: int, doc: str) -> Parameter:
        """A whole number, 0 or more."""
        return Parameter(name, WHOLE, default, doc)

    @staticmethod
    def text(name: str, default: str, doc: str) -> Parameter:
        """A JSON string."""
        return Parameter(name, TEXT, default, doc)

    @staticmethod
    def flag(name: str, default: bool, doc: str) -> Parameter:
        """`true` or `false`."""
        return Parameter(name, FLAG, default, doc)

    def default_json(self) -> str:
        """The default as JSON text, as the host is told it."""
        return json.dumps(float(self.default) if self.kind == NUMBER else self.default)

    def _of(self, kind: str) -> Any:
        if self.kind != kind:
            raise ParamError(f"parameter `{self.name}` is declared {_KINDS[self.kind]}, read as {_KINDS[kind]}")
        return self.default

    def __repr__(self) -> str:
        return f"Parameter.{self.kind}({self.name!r}, {self.default!r}, {self.doc!r})"
