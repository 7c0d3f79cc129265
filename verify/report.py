"""What a verification found: violations (non-zero exit) and notices (printed, exit unchanged).

Findings are collected, not raised, so a resident sees every problem at once,
each in their language (zh-CN or en, by LANG) with the entry or figure it concerns.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ledger.core.errors import LedgerError


def language(explicit: str | None = None) -> str:
    """'zh' or 'en': ``explicit``, else LC_ALL, LC_MESSAGES or LANG; Chinese where none is set."""
    value = (
        explicit
        or os.environ.get("LC_ALL")
        or os.environ.get("LC_MESSAGES")
        or os.environ.get("LANG")
        or "zh_CN"
    )
    return "zh" if value.lower().startswith("zh") else "en"


def fingerprint(root: bytes) -> str:
    """The root's first 16 hex digits in groups of four, as the paper notice prints them."""
    digits = root.hex()[:16]
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


# What malformed input may raise deep inside a check; reported as "unverifiable", never a crash.
UNEXPECTED_ERRORS = (ValueError, KeyError, TypeError, IndexError, AttributeError)


@dataclass(frozen=True)
class Finding:
    severity: str  # "violation" or "notice"
    code: str
    en: str
    zh: str
    where: str = ""

    def message(self, lang: str) -> str:
        text = self.zh if lang == "zh" else self.en
        if self.severity == "notice" or not self.where:
            return text  # notices name what they concern in their own words
        return f"{self.where}: {text}"

    def as_dict(self) -> dict[str, str]:
        return {
            "severity": self.severity,
            "code": self.code,
            "en": self.en,
            "zh": self.zh,
            "where": self.where,
        }


@dataclass
class Report:
    """The outcome of one verification: findings plus facts for the summary."""

    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def violation(self, error: LedgerError, where: str = "") -> None:
        self.findings.append(Finding("violation", error.code, error.en, error.zh, where))

    def unverifiable(self, exc: Exception, where: str = "") -> None:
        """Input the verifier could not process is never passed: it is a violation."""
        self.findings.append(
            Finding(
                "violation",
                "unverifiable",
                f"could not be checked ({type(exc).__name__}: {exc})",
                f"无法验证（{type(exc).__name__}：{exc}）",
                where,
            )
        )

    def notice(self, code: str, en: str, zh: str, where: str = "") -> None:
        self.findings.append(Finding("notice", code, en, zh, where))

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "violation"]

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "violations": [f.as_dict() for f in self.violations],
            "notices": [f.as_dict() for f in self.findings if f.severity == "notice"],
            "facts": self.facts,
        }
