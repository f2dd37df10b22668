"""Order validation at intake (the CEMO problem): one table of rules, each with a code.

``orders.py`` imports ``problems`` from here while the rules import ``orders``, so the
rule and intake names are loaded on first use rather than at package import.
"""
from importlib import import_module

from .problems import Problem, Severity, errors, warnings

_LAZY = {
    "RULES": "rules", "RULE_TABLE": "rules", "Rule": "rules", "ValidationContext": "rules", "validate": "rules",
    "FORMAT_CODES": "intake_record", "ParsedIntake": "intake_record", "parse_intake": "intake_record",
    "flatten": "intake_record", "unflatten": "intake_record",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Problem", "Severity", "errors", "warnings", *_LAZY]
