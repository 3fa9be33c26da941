"""A safe arithmetic evaluator for the model's calculator tool (no `eval`, bounded work).

Models are poor at arithmetic and good at asking for it. The expression comes
from model output, which is untrusted text: it is parsed with `ast` and only
numbers, arithmetic operators, parentheses, a few named constants and a short
list of math functions are evaluated. Anything else (names, attributes,
calls of other functions, comprehensions, strings) is refused, and powers and
factorials are bounded so that "9**9**9" cannot hang the launcher.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Final

MAX_EXPRESSION_CHARS: Final = 500
MAX_EXPONENT: Final = 10_000
MAX_MAGNITUDE: Final = 1e308
MAX_DEPTH: Final = 50

Number = int | float

_BINARY: Final[dict[type[ast.operator], Callable[[Number, Number], Number]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}
_CONSTANTS: Final[dict[str, float]] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _factorial(n: Number) -> Number:
    if n != int(n) or n < 0 or n > 450:
        raise CalculatorError("factorial needs a whole number from 0 to 450")
    return math.factorial(int(n))


_FUNCTIONS: Final[dict[str, Callable[..., Number]]] = {
    "sqrt": math.sqrt,
    "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x),
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "exp": math.exp,
    "ln": math.log,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "degrees": math.degrees,
    "radians": math.radians,
    "factorial": _factorial,
    "min": min,
    "max": max,
    "hypot": math.hypot,
}


class CalculatorError(ValueError):
    """An expression that cannot be evaluated; the message says why (for the model)."""


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression. Raises CalculatorError."""
    text = expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
    if not text:
        raise CalculatorError("the expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(f"the expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise CalculatorError(f"{expression!r} is not an arithmetic expression") from None
    try:
        value = _eval(tree.body, 0)
    except ZeroDivisionError:
        raise CalculatorError("division by zero") from None
    except OverflowError:
        raise CalculatorError("the result is too large") from None
    except (ValueError, TypeError) as exc:
        if isinstance(exc, CalculatorError):
            raise
        raise CalculatorError(f"math error: {exc}") from None
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        raise CalculatorError("the result is not a finite number")
    return value


def format_number(value: Number) -> str:
    """A result as a person (and a model) reads it: whole numbers exact, others to 12 digits."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def _eval(node: ast.AST, depth: int) -> Number:
    if depth > MAX_DEPTH:
        raise CalculatorError("the expression is nested too deeply")
    depth += 1
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CalculatorError("only numbers can be calculated")
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _eval(node.operand, depth)
        return -operand if isinstance(node.op, ast.USub) else +operand
    if isinstance(node, ast.BinOp):
        left = _eval(node.left, depth)
        right = _eval(node.right, depth)
        if isinstance(node.op, ast.Pow):
            return _power(left, right)
        func = _BINARY.get(type(node.op))
        if func is None:
            raise CalculatorError("only + - * / // % and ** are supported")
        return _checked(func(left, right))
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise CalculatorError(f"unknown name {node.id!r} (known: pi, e, tau)")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            known = ", ".join(sorted(_FUNCTIONS))
            raise CalculatorError(f"unknown function (known: {known})")
        if node.keywords:
            raise CalculatorError("functions take plain arguments only")
        args = [_eval(arg, depth) for arg in node.args]
        return _checked(_FUNCTIONS[node.func.id](*args))
    raise CalculatorError("only numbers, arithmetic and math functions can be calculated")


def _power(base: Number, exponent: Number) -> Number:
    if abs(exponent) > MAX_EXPONENT:
        raise CalculatorError(f"exponents are limited to {MAX_EXPONENT:,}")
    if isinstance(base, int) and isinstance(exponent, int) and exponent >= 0:
        # Exact integer powers: bound the size of the result before computing it.
        if base not in (0, 1, -1) and exponent * math.log10(abs(base)) > 1000:
            raise CalculatorError("the result is too large")
        return int(base**exponent)
    return _checked(float(base) ** float(exponent))


def _checked(value: Number) -> Number:
    if isinstance(value, complex):
        raise CalculatorError("the result is not a real number")
    if isinstance(value, float) and abs(value) > MAX_MAGNITUDE:
        raise CalculatorError("the result is too large")
    if isinstance(value, int) and value.bit_length() > 3400:
        raise CalculatorError("the result is too large")
    return value
