"""A strategy's parameters: the JSON object the host passes to `init`."""

from __future__ import annotations

import json
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
