"""The rule engine's vocabulary: categories, severities, rules, findings and the evaluation they add up to."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from forensics.analysers.common import jsonable
from forensics.analysers.results import AnalysisResult


class Category(enum.StrEnum):
    INTEGRITY = "integrity"
    STRUCTURE = "structure"
    METADATA = "metadata"
    PROVENANCE = "provenance"
    SYNTHETIC_MEDIA = "synthetic_media"


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Observation:
    """What a rule saw: the exact fields/offsets it looked at and a plain-language sentence quoting them."""

    evidence: dict[str, Any]
    explanation: str


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    category: Category
    severity: Severity
    looks_at: str
    innocent_explanation: str
    check: Callable[[AnalysisResult], Iterable[Observation]] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Finding:
    rule_id: str
    title: str
    category: Category
    severity: Severity
    evidence: dict[str, Any]
    explanation: str
    innocent_explanation: str

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)


@dataclass(frozen=True)
class Evaluation:
    verdict_code: str
    verdict_sentence: str
    findings: list[Finding]
    ruleset_version: str

    def to_dict(self) -> dict[str, Any]:
        return jsonable(self)


class RuleBook:
    """Collects the rules a module declares with @book.rule(...), in declaration order."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []

    def rule(
        self,
        rule_id: str,
        title: str,
        category: Category,
        severity: Severity,
        *,
        looks_at: str,
        innocent: str,
    ) -> Callable[
        [Callable[[AnalysisResult], Iterable[Observation]]], Callable[[AnalysisResult], Iterable[Observation]]
    ]:
        def register(check: Callable[[AnalysisResult], Iterable[Observation]]):
            self.rules.append(Rule(rule_id, title, category, severity, looks_at, innocent, check))
            return check

        return register
