"""Evaluate the rule catalogue against an AnalysisResult and reduce the findings to a verdict."""

from __future__ import annotations

from forensics.analysers.results import AnalysisResult

from .catalogue import RULES, ruleset_version
from .model import SEVERITY_RANK, Evaluation, Finding, Rule, Severity

VERDICTS = {
    "compromised": "Integrity compromised",
    "attention": "Potential integrity anomalies detected",
    "ok": "No obvious signs of tampering detected",
}


def evaluate(result: AnalysisResult) -> Evaluation:
    """Run every rule; findings come back ordered by severity, then rule id, then the order each rule found them."""
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(_findings_of(rule, result))
    findings.sort(key=lambda finding: (SEVERITY_RANK[finding.severity], finding.rule_id))
    code = _verdict_code(findings)
    return Evaluation(
        verdict_code=code, verdict_sentence=VERDICTS[code], findings=findings, ruleset_version=ruleset_version()
    )


def _findings_of(rule: Rule, result: AnalysisResult) -> list[Finding]:
    return [
        Finding(
            rule_id=rule.id,
            title=rule.title,
            category=rule.category,
            severity=rule.severity,
            evidence=observation.evidence,
            explanation=observation.explanation,
            innocent_explanation=rule.innocent_explanation,
        )
        for observation in rule.check(result)
    ]


def _verdict_code(findings: list[Finding]) -> str:
    severities = {finding.severity for finding in findings}
    if Severity.CRITICAL in severities:
        return "compromised"
    if Severity.WARNING in severities:
        return "attention"
    return "ok"
