"""Resolve CloudFormation intrinsic functions offline.

Only what a template of this project uses: Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select,
Fn::Split, Fn::If and the condition functions. Anything else fails loudly rather than leaving an
unresolved dict where a string should be.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

NO_VALUE = object()
"""`AWS::NoValue`: the key holding it is dropped from its mapping or list."""

_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class IntrinsicError(ValueError):
    pass


class Resolver:
    """Turns template values into plain JSON values.

    `ref(logical_id)` and `get_att(logical_id, attribute)` answer for resources; parameters
    (pseudo parameters included) and conditions are looked up here.
    """

    def __init__(
        self,
        parameters: dict[str, Any],
        conditions: dict[str, Any],
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
    ) -> None:
        self._parameters = parameters
        self._condition_defs = conditions
        self._condition_values: dict[str, bool] = {}
        self._ref = ref
        self._get_att = get_att

    # ------------------------------------------------------------------ conditions
    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            if name not in self._condition_defs:
                raise IntrinsicError(f"unknown condition {name!r}")
            self._condition_values[name] = bool(self._condition_value(self._condition_defs[name]))
        return self._condition_values[name]

    def _condition_value(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = (self.resolve(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._condition_value(arg[0])
            if key == "Fn::And":
                return all(self._condition_value(a) for a in arg)
            if key == "Fn::Or":
                return any(self._condition_value(a) for a in arg)
        return self.resolve(node)

    # ------------------------------------------------------------------ values
    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            handler = self._FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
            if key.startswith("Fn::"):
                raise IntrinsicError(f"unsupported intrinsic function {key}")
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _fn_ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._parameters:
            return self._parameters[name]
        return self._ref(name)

    def _fn_get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        logical_id, attribute = (self.resolve(a) for a in arg)
        return self._get_att(logical_id, attribute)

    def _fn_sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            template, variables = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            template, variables = arg, {}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] not in self._parameters:
                logical_id, attribute = name.split(".", 1)
                return str(self._get_att(logical_id, attribute))
            return str(self._fn_ref(name))

        return _SUB_VARIABLE.sub(substitute, template)

    def _fn_join(self, arg: Any) -> str:
        delimiter, values = arg
        return str(delimiter).join(str(v) for v in self.resolve(values))

    def _fn_select(self, arg: Any) -> Any:
        index, values = arg
        return self.resolve(values)[int(self.resolve(index))]

    def _fn_split(self, arg: Any) -> list[str]:
        delimiter, value = arg
        return str(self.resolve(value)).split(delimiter)

    def _fn_if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    _FUNCTIONS: ClassVar[dict[str, Callable[[Resolver, Any], Any]]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _fn_join,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::If": _fn_if,
    }
