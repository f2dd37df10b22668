"""Order validation at intake (the CEMO problem): one table of rules, each with a code."""
from .problems import Problem

__all__ = ["Problem"]
