"""The forensic rule engine: deterministic rules over an AnalysisResult, adding up to a verdict."""

from .catalogue import RULES, RULESET_VERSION, ruleset_version
from .engine import VERDICTS, evaluate
from .model import Category, Evaluation, Finding, Rule, Severity

__all__ = [
    "RULES",
    "RULESET_VERSION",
    "VERDICTS",
    "Category",
    "Evaluation",
    "Finding",
    "Rule",
    "Severity",
    "evaluate",
    "ruleset_version",
]
