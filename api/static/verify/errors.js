// Verification errors: a stable code (the Python verifier's LedgerError codes) and a message
// in English and Chinese. Every check throws a VerifyError; anything else thrown by malformed
// input is reported as "unverifiable", never as a crash.

export class VerifyError extends Error {
  constructor(code, en, zh) {
    super(en);
    this.code = code;
    this.en = en;
    this.zh = zh;
  }
}

export const malformed = (en, zh) => new VerifyError("malformed", en, zh);
export const proofError = (en, zh) => new VerifyError("bad_proof", en, zh);
export const checkpointError = (en, zh) => new VerifyError("bad_checkpoint", en, zh);
export const policyError = (en, zh) => new VerifyError("policy", en, zh);
export const signatureError = (en, zh) => new VerifyError("bad_signature", en, zh);

/** A report: the findings of one verification (violations and notices), like verify/report.py. */
export class Report {
  constructor() {
    this.findings = [];
    this.facts = {};
  }
  violation(error, where = "") {
    if (error instanceof VerifyError) {
      this.findings.push({ severity: "violation", code: error.code, en: error.en, zh: error.zh, where });
    } else {
      const text = String(error && error.message ? error.message : error);
      this.findings.push({
        severity: "violation",
        code: "unverifiable",
        en: `cannot be verified: ${text}`,
        zh: `无法验证：${text}`,
        where,
      });
    }
  }
  notice(code, en, zh, where = "") {
    this.findings.push({ severity: "notice", code, en, zh, where });
  }
  get violations() {
    return this.findings.filter((f) => f.severity === "violation");
  }
  get ok() {
    return this.violations.length === 0;
  }
  /** Run one step; a thrown error becomes a violation at `where`. Returns true if it passed. */
  async step(where, check) {
    try {
      await check();
      return true;
    } catch (error) {
      this.violation(error, where);
      return false;
    }
  }
}
