"""A small declarative schema for entry bodies: it validates and it writes JSON Schema.

The catalogue declares each body once with these field types; the same
declaration checks a body strictly (unknown fields refused) and produces the
JSON Schema published under ``docs/schema/``, so the two can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ledger.core.errors import MalformedError, UnknownFieldError

MAX_SAFE_INTEGER = 2**53 - 1


class Field(Protocol):
    def check(self, value: Any, path: str) -> None: ...

    def json_schema(self) -> dict[str, Any]: ...


def _fail(path: str, en: str, zh: str) -> MalformedError:
    return MalformedError(f"body field '{path}': {en}", f"正文字段 '{path}'：{zh}")


@dataclass(frozen=True)
class Str:
    pattern: str | None = None
    max_length: int = 500
    description: str = ""

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, str):
            raise _fail(path, "must be a string", "必须是字符串")
        if not value or len(value) > self.max_length:
            raise _fail(
                path,
                f"must be 1 to {self.max_length} characters",
                f"长度应为 1 至 {self.max_length}",
            )
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise _fail(path, f"must match {self.pattern}", f"格式应符合 {self.pattern}")

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": self.max_length}
        if self.pattern is not None:
            out["pattern"] = f"^{self.pattern}$"
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Int:
    minimum: int = -MAX_SAFE_INTEGER
    maximum: int = MAX_SAFE_INTEGER
    description: str = ""

    def check(self, value: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, "must be an integer", "必须是整数")
        if not self.minimum <= value <= self.maximum:
            raise _fail(
                path,
                f"must be between {self.minimum} and {self.maximum}",
                f"应在 {self.minimum} 与 {self.maximum} 之间",
            )

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        if self.description:
            out["description"] = self.description
        return out


def Fen(description: str = "an amount in fen (1/100 yuan)") -> Int:
    """A positive amount of money in integer fen."""
    return Int(minimum=1, maximum=MAX_SAFE_INTEGER, description=description)


@dataclass(frozen=True)
class Bool:
    description: str = ""

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, bool):
            raise _fail(path, "must be true or false", "必须是 true 或 false")

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "boolean"}
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class Enum:
    values: tuple[str, ...]
    description: str = ""

    def check(self, value: Any, path: str) -> None:
        if value not in self.values or not isinstance(value, str):
            allowed = ", ".join(self.values)
            raise _fail(path, f"must be one of {allowed}", f"应为以下之一：{allowed}")

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string", "enum": list(self.values)}
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class ListOf:
    item: Field
    min_items: int = 0
    max_items: int = 10_000

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise _fail(path, "must be a list", "必须是列表")
        if not self.min_items <= len(value) <= self.max_items:
            raise _fail(
                path,
                f"must hold {self.min_items} to {self.max_items} items",
                f"应含 {self.min_items} 至 {self.max_items} 项",
            )
        for index, item in enumerate(value):
            self.item.check(item, f"{path}[{index}]")

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": self.item.json_schema(),
            "minItems": self.min_items,
            "maxItems": self.max_items,
        }


@dataclass(frozen=True)
class Obj:
    fields: Mapping[str, Field]
    optional: Sequence[str] = field(default_factory=tuple)
    description: str = ""

    def check(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            raise _fail(path or "body", "must be an object", "必须是对象")
        unknown = sorted(set(value) - set(self.fields))
        if unknown:
            where = f"{path}." if path else ""
            names = ", ".join(where + name for name in unknown)
            raise UnknownFieldError(f"unknown body field(s): {names}", f"未知正文字段：{names}")
        for name, spec in self.fields.items():
            child = f"{path}.{name}" if path else name
            if name in value:
                spec.check(value[name], child)
            elif name not in self.optional:
                raise _fail(child, "is required", "为必填项")

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "object",
            "properties": {name: spec.json_schema() for name, spec in self.fields.items()},
            "required": [name for name in self.fields if name not in self.optional],
            "additionalProperties": False,
        }
        if self.description:
            out["description"] = self.description
        return out
