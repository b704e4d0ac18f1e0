"""JSON Schema derived from Python types, so that the OpenAPI document's bodies come from the same
TypedDicts the code names (:mod:`gateway.api_models`) rather than from a second, hand-written copy.

A TypedDict becomes a named component (``#/components/schemas/<Name>``): its keys are required unless
marked ``NotRequired``. ``Annotated[T, {...}]`` adds JSON Schema keywords
(bounds, patterns, a description) to ``T``; ``Literal`` is an ``enum``; ``X | None`` allows null.
"""

from __future__ import annotations

import types
from typing import (
    Annotated,
    Any,
    Literal,
    NotRequired,
    Required,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

Schema = dict[str, Any]
_SCALARS: dict[Any, Schema] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    type(None): {"type": "null"},
}


class SchemaRegistry:
    """The components a document's schemas refer to, filled in as types are first met."""

    def __init__(self) -> None:
        self.components: dict[str, Schema] = {}

    def ref(self, name: str) -> Schema:
        return {"$ref": f"#/components/schemas/{name}"}

    def schema(self, tp: Any) -> Schema:
        if tp is Any or tp is object:
            return {}
        if isinstance(tp, type) and tp in _SCALARS:
            return dict(_SCALARS[tp])
        if is_typeddict(tp):
            return self._typeddict(tp)
        origin, args = get_origin(tp), get_args(tp)
        if origin in (NotRequired, Required):  # TypedDict key markers: __required_keys__ says
            return self.schema(args[0])
        if origin is Annotated:
            return {**self.schema(args[0]), **args[1]}
        if origin is Literal:
            return {"enum": list(args)}
        if origin in (Union, types.UnionType):
            return self._union(args)
        if origin is list:
            return {"type": "array", "items": self.schema(args[0]) if args else {}}
        if origin is dict or tp is dict:
            values = self.schema(args[1]) if args else {}
            return {"type": "object", **({"additionalProperties": values} if values else {})}
        raise TypeError(f"No JSON Schema for {tp!r}")

    def _union(self, args: tuple[Any, ...]) -> Schema:
        options = [a for a in args if a is not type(None)]
        nullable = len(options) < len(args)
        if len(options) == 1:
            inner = self.schema(options[0])
            if not nullable:
                return inner
            if "type" in inner and isinstance(inner["type"], str) and "$ref" not in inner:
                return {**inner, "type": [inner["type"], "null"]}
            return {"anyOf": [inner, {"type": "null"}]}
        schemas = [self.schema(a) for a in options]
        return {"anyOf": [*schemas, {"type": "null"}] if nullable else schemas}

    def _typeddict(self, tp: Any) -> Schema:
        name = tp.__name__
        if name not in self.components:
            self.components[name] = {}  # a placeholder first: a type may refer to itself
            hints = get_type_hints(tp, include_extras=True)
            schema: Schema = {
                "type": "object",
                "properties": {key: self.schema(hint) for key, hint in hints.items()},
            }
            # Not __required_keys__: under postponed annotations it cannot see NotRequired.
            required = [key for key, hint in hints.items() if _is_required(hint, tp.__total__)]
            if required:
                schema["required"] = required
            if tp.__doc__ and not tp.__doc__.startswith(f"{name}("):
                schema["description"] = " ".join(tp.__doc__.split())
            self.components[name] = schema
        return self.ref(name)


def _is_required(hint: Any, total: bool) -> bool:
    origin = get_origin(hint)
    return origin is Required or (total and origin is not NotRequired)
