"""The calculator tool evaluates arithmetic from model output and nothing else."""

from __future__ import annotations

import pytest

from launcher.core.calculator import CalculatorError, evaluate, format_number


@pytest.mark.parametrize(
    ("expression", "shown"),
    [
        ("1 + 2 * 3", "7"),
        ("(17.5 * 3) / 4", "13.125"),
        ("2 ** 10", "1024"),
        ("2^10", "1024"),
        ("7 // 2 + 7 % 2", "4"),
        ("-3 + +4", "1"),
        ("sqrt(2) ** 2", "2"),
        ("round(pi, 4)", "3.1416"),
        ("max(3, 9, 4) - min(2, 8)", "7"),
        ("factorial(20)", "2432902008176640000"),
        ("log10(1000)", "3"),
        ("12 × 3 ÷ 4", "9"),
        ("0.1 + 0.2", "0.3"),
        ("2 ** 0.5", "1.41421356237"),
    ],
)
def test_arithmetic_is_evaluated(expression: str, shown: str) -> None:
    assert format_number(evaluate(expression)) == shown


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("__import__('os').system('true')", "unknown function"),
        ("open('/etc/passwd')", "unknown function"),
        ("x + 1", "unknown name 'x'"),
        ("(1).__class__", "only numbers"),
        ("'a' * 3", "only numbers"),
        ("[1, 2]", "only numbers"),
        ("1 / 0", "division by zero"),
        ("9 ** 9 ** 9", "exponents are limited"),
        ("10 ** 5000", "too large"),
        ("factorial(100000)", "factorial needs"),
        ("(-8) ** 0.5", "not a real number"),
        ("1 +", "is not an arithmetic expression"),
        ("", "empty"),
        ("1" * 600, "longer than 500"),
        ("True + 1", "only numbers"),
        ("sqrt(x=4)", "plain arguments"),
        ("1e308 * 10", "too large"),
    ],
)
def test_anything_else_is_refused_with_a_reason(expression: str, reason: str) -> None:
    with pytest.raises(CalculatorError, match=reason):
        evaluate(expression)
