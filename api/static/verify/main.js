// The verify page: reads ?policy= (a URL, or the policy text itself as a notice's QR code
// carries it) and ?bundle= (a URL, possibly on another host allowing CORS), runs the light
// statement verification, and shows the verdict in words and in #verdict[data-verdict].
// A receipt (and optionally a key chain) can be dropped on the page or chosen with a file input.

import { Policy } from "./policy.js";
import { ed25519Supported } from "./note.js";
import { verifyReceipt } from "./receipt.js";
import { verifyStatement } from "./statement.js";

const LANG = document.documentElement.lang.startsWith("zh") ? "zh" : "en";
const T = {
  zh: {
    checking: "正在核对……",
    ok: "已验证",
    okSub: "这份报表的签名、见证和数字都核对无误。",
    fail: "验证失败",
    failSub: "这份报表没有通过核对，请勿轻信其中的数字。以下是发现的问题：",
    unsupported: "此浏览器无法核对",
    unsupportedSub: "此浏览器的 WebCrypto 不支持 Ed25519 签名验证，因此无法在这里核对。请换用新版 Chrome、Edge、Firefox 或 Safari，或使用命令行工具 glasspocket-verify。这不是验证失败。",
    none: "请提供信任策略和报表证明包",
    noneSub: "扫描公告上的二维码，或在下面填写。",
    receiptOk: "收据已验证",
    unitPage: "查看本户账户",
    receiptFail: "收据验证失败",
    steps: { proof: "检查点、见证人与收录证明", signer: "签名人（密钥链）", consistency: "日志一致性", arithmetic: "报表算术（期初 + 收入 − 支出 = 期末）" },
    facts: { period: "期间", origin: "日志", checkpoint_size: "检查点大小", fingerprint: "账本指纹（与公示核对）", covered: "覆盖条目", signer: "签名人", witnesses: "见证人", index: "序号", type: "类型", at: "时间", unit: "房号", fund: "资金", amount_fen: "金额", month: "月份", signer_role: "签名人角色" },
    funds: { property: "物业服务资金", maintenance: "专项维修资金", public_revenue: "公共收益", community: "社区资金" },
    fundHead: ["资金", "期初", "收入", "支出", "期末"],
    notice: "提示",
    skipped: "（未核对：前一步已失败）",
    plain: {
      bad_proof: "报表与公开日志里的记录对不上：报表可能被改动过，或不是日志里的那一份。",
      bad_signature: "签名无效：这份内容不是签名人签下的原样，可能被改动或伪造。",
      bad_checkpoint: "日志检查点的签名无效：它不是您信任的日志签发的。",
      policy: "见证人联署不足，或不是您信任的日志：不能确认大家看到的是同一本账。",
      statement_mismatch: "报表里的数字对不上：按明细重新计算，结果与报表所写不同。",
      unknown_signer: "签名人在签署时不是有效的登记密钥。",
      role_not_allowed: "签名人的角色无权签发这类记录。",
      non_canonical: "记录的字节格式不规范，可能被改动过。",
      malformed: "文件格式不对或不完整。",
      fetch: "无法取得要核对的文件。",
    },
  },
  en: {
    checking: "Checking…",
    ok: "Verified",
    okSub: "This statement's signatures, witnesses and figures all check out.",
    fail: "Verification failed",
    failSub: "This statement did not pass the checks: do not rely on its figures. What was found:",
    unsupported: "This browser cannot check",
    unsupportedSub: "This browser's WebCrypto does not verify Ed25519 signatures, so nothing can be checked here. Use a recent Chrome, Edge, Firefox or Safari, or the glasspocket-verify command. This is not a failed verification.",
    none: "Give a trust policy and a statement bundle",
    noneSub: "Scan the QR code on the notice, or fill in the form below.",
    receiptOk: "Receipt verified",
    unitPage: "See this unit's account",
    receiptFail: "Receipt verification failed",
    steps: { proof: "Checkpoint, witnesses and inclusion proof", signer: "Signer (key chain)", consistency: "Log consistency", arithmetic: "Arithmetic (opening + in − out = closing)" },
    facts: { period: "Period", origin: "Log", checkpoint_size: "Checkpoint size", fingerprint: "Fingerprint (compare with the notice)", covered: "Entries covered", signer: "Signer", witnesses: "Witnesses", index: "Index", type: "Type", at: "Time", unit: "Unit", fund: "Fund", amount_fen: "Amount", month: "Month", signer_role: "Signer's role" },
    funds: { property: "Property fund", maintenance: "Maintenance fund", public_revenue: "Common revenue", community: "Community fund" },
    fundHead: ["Fund", "Opening", "In", "Out", "Closing"],
    notice: "Notice",
    skipped: " (not checked: an earlier step failed)",
    plain: {
      bad_proof: "The statement does not match what the public log holds: it may have been altered, or is not the one in the log.",
      bad_signature: "A signature is invalid: this is not what the signer signed; it may be altered or forged.",
      bad_checkpoint: "The log checkpoint's signature is invalid: it was not issued by the log you trust.",
      policy: "Not enough witnesses cosigned, or this is not the log you trust: no proof everyone sees the same books.",
      statement_mismatch: "The statement's figures do not add up: recomputed from its lines, they differ from what it states.",
      unknown_signer: "The signer was not a valid registered key when it signed.",
      role_not_allowed: "The signer's role may not issue this kind of record.",
      non_canonical: "The record's bytes are not in canonical form: it may have been altered.",
      malformed: "A file is malformed or incomplete.",
      fetch: "The files to check could not be fetched.",
    },
  },
}[LANG];

const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
};
const yuan = (fen, symbol = "¥") => {
  const n = BigInt(fen);
  const sign = n < 0n ? "−" : "";
  const a = n < 0n ? -n : n;
  return `${sign}${symbol}${(a / 100n).toLocaleString("en-US")}.${String(a % 100n).padStart(2, "0")}`;
};

/** Query parameters decoded without turning '+' into a space (vkeys hold '+'). */
function params() {
  const out = {};
  for (const part of location.search.replace(/^\?/, "").split("&")) {
    if (!part) continue;
    const at = part.indexOf("=");
    const key = decodeURIComponent(at < 0 ? part : part.slice(0, at));
    try {
      out[key] = decodeURIComponent(at < 0 ? "" : part.slice(at + 1));
    } catch {
      out[key] = part.slice(at + 1);
    }
  }
  return out;
}

const isUrl = (value) => /^(https?:\/\/|\/)/i.test(value.trim());

async function fetchText(url, what) {
  let response;
  try {
    response = await fetch(url, { mode: "cors", cache: "no-store" });
  } catch (e) {
    throw { code: "fetch", en: `could not fetch the ${what.en} (${url}): ${e.message}`, zh: `无法获取${what.zh}（${url}）：${e.message}` };
  }
  if (!response.ok) throw { code: "fetch", en: `could not fetch the ${what.en} (${url}): HTTP ${response.status}`, zh: `无法获取${what.zh}（${url}）：HTTP ${response.status}` };
  return response.text();
}

function setVerdict(node, verdict, title, sub) {
  node.dataset.verdict = verdict;
  node.className = `verdict verdict-${verdict}`;
  const mark = { ok: "✓", fail: "✗", unsupported: "!", pending: "…", none: "?" }[verdict] || "";
  node.replaceChildren(el("span", { class: "mark", "aria-hidden": "true" }, mark), el("span", { class: "words" }, el("strong", {}, title), el("span", { class: "sub" }, sub)));
}

const message = (f) => (LANG === "zh" ? f.zh : f.en);

function stepOf(where) {
  if (where === "signer") return "signer";
  if (where === "covered" || where === "previous") return "consistency";
  if (where === "bundle" || where === "policy" || where === "fetch") return "proof";
  return "arithmetic";
}

function showFindings(list, findings) {
  const plain = [...new Set(findings.filter((f) => f.severity === "violation").map((f) => T.plain[f.code]).filter(Boolean))];
  list.replaceChildren(
    ...plain.map((text) => el("li", { class: "plain" }, el("strong", {}, text))),
    ...findings.map((f) =>
      el("li", { class: f.severity, "data-code": f.code }, f.severity === "notice" ? `${T.notice}${LANG === "zh" ? "：" : ": "}` : "", message(f)),
    ),
  );
}

function showSteps(report) {
  const failed = new Set(report.violations.map((f) => stepOf(f.where)));
  const reached = !report.violations.some((f) => f.where === "bundle");
  $("steps").replaceChildren(
    ...Object.entries(T.steps).map(([key, label]) => {
      const state = failed.has(key) ? "fail" : key === "proof" || reached ? "ok" : "skipped";
      return el("li", { class: `step step-${state}` }, el("span", { class: "tick", "aria-hidden": "true" }, { ok: "✓", fail: "✗", skipped: "–" }[state]), label, state === "skipped" ? T.skipped : "");
    }),
  );
}

function showFacts(dl, facts) {
  dl.replaceChildren();
  const heading = dl.previousElementSibling;
  const any = Object.keys(T.facts).some((key) => key in facts);
  if (heading && heading.tagName === "H2") heading.hidden = !any;
  for (const [key, label] of Object.entries(T.facts)) {
    if (!(key in facts)) continue;
    let value = facts[key];
    if (key === "amount_fen") value = yuan(value);
    if (Array.isArray(value)) value = value.join(", ");
    dl.append(el("dt", {}, label), el("dd", {}, String(value)));
  }
}

function showFunds(figures, bad = new Set()) {
  const funds = figures && figures.funds;
  if (!funds || typeof funds !== "object") return;
  const head = el("tr", {}, ...T.fundHead.map((h) => el("th", { scope: "col" }, h)));
  const rows = Object.entries(funds).map(([name, f]) => {
    const cells = ["opening_fen", "in_fen", "out_fen", "closing_fen"].map((k) => {
      try {
        return el("td", bad.has(`funds.${name}.${k}`) ? { class: "bad", title: "✗" } : {}, yuan(f[k], ""));
      } catch {
        return el("td", {}, "?");
      }
    });
    return el("tr", {}, el("th", { scope: "row" }, T.funds[name] || name), ...cells);
  });
  $("funds").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
  $("funds-box").hidden = false;
}

async function loadPolicy(value) {
  const text = isUrl(value) ? await fetchText(value, { en: "trust policy", zh: "信任策略" }) : value;
  return { text, policy: await Policy.parse(text) };
}

async function checkStatement(p) {
  const verdict = $("verdict");
  setVerdict(verdict, "pending", T.checking, "");
  let report;
  try {
    const { policy } = await loadPolicy(p.policy);
    const bundleText = await fetchText(p.bundle, { en: "statement bundle", zh: "报表证明包" });
    report = await verifyStatement(bundleText, policy);
  } catch (e) {
    const fake = { violations: [{ where: "fetch" }], findings: [{ severity: "violation", code: e.code || "error", en: e.en || String(e), zh: e.zh || String(e) }], facts: {} };
    report = { ...fake, ok: false };
  }
  if (report.ok) setVerdict(verdict, "ok", T.ok, T.okSub);
  else setVerdict(verdict, "fail", T.fail, T.failSub);
  document.title = `${report.ok ? T.ok : T.fail} · ${document.title}`;
  showFindings($("findings"), report.findings);
  showSteps(report);
  showFacts($("facts"), report.facts);
  showFunds(report.facts.figures, new Set(report.violations.map((f) => f.where)));
  $("details").hidden = false;
}

async function receiptFiles(files) {
  let receiptText = null;
  let keychainText = null;
  for (const file of files) {
    const text = await file.text();
    if (text.startsWith("c2sp.org/tlog-proof@v1")) receiptText = text;
    else if (text.includes("glasspocket/keychain@v1")) keychainText = text;
  }
  await checkReceipt(receiptText, keychainText);
}

async function checkReceipt(receiptText, keychainText) {
  const node = $("receipt-verdict");
  node.hidden = false;
  setVerdict(node, "pending", T.checking, "");
  let report;
  try {
    if (receiptText === null) throw { code: "malformed", en: "no .tlog-proof receipt among the files", zh: "所选文件中没有 .tlog-proof 收据" };
    const { policy } = await loadPolicy($("policy-input").value.trim());
    report = await verifyReceipt(receiptText, policy, keychainText);
  } catch (e) {
    report = { ok: false, findings: [{ severity: "violation", code: e.code || "error", en: e.en || String(e), zh: e.zh || String(e) }], facts: {} };
  }
  setVerdict(node, report.ok ? "ok" : "fail", report.ok ? T.receiptOk : T.receiptFail, "");
  showFindings($("receipt-findings"), report.findings);
  showFacts($("receipt-facts"), report.facts);
  unitLink(report);
}

/** After a verified receipt of a unit's entry, a link to that unit's page on this log's site. */
function unitLink(report) {
  const facts = report.facts || {};
  const match = /\/c\/([^/]+)\/log$/.exec(facts.origin || "");
  if (!report.ok || !facts.unit || !match) return;
  const link = document.createElement("a");
  link.href = `/c/${encodeURIComponent(match[1])}/units/${encodeURIComponent(facts.unit)}`;
  link.textContent = T.unitPage;
  link.id = "unit-link";
  $("receipt-facts").after(link);
}

function wireReceipts() {
  const drop = $("drop");
  const input = $("receipt-file");
  input.addEventListener("change", () => input.files.length && receiptFiles([...input.files]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) receiptFiles([...e.dataTransfer.files]);
  });
}

async function main() {
  const p = params();
  if (p.policy) $("policy-input").value = p.policy;
  if (p.bundle) $("bundle-input").value = p.bundle;
  if (!(await ed25519Supported())) {
    setVerdict($("verdict"), "unsupported", T.unsupported, T.unsupportedSub);
    $("receipt-box").hidden = true;
    return;
  }
  wireReceipts();
  if (p.policy && p.bundle) await checkStatement(p);
  else if (p.policy && p.receipt) $("verdict").hidden = true;
  else setVerdict($("verdict"), "none", T.none, T.noneSub);
  if (p.policy && p.receipt) {
    // ?receipt=URL[&keychain=URL]: a unit's page links its receipts here.
    let receipt = null;
    let keychain = null;
    try {
      receipt = await fetchText(p.receipt, { en: "receipt", zh: "收据" });
      if (p.keychain) keychain = await fetchText(p.keychain, { en: "key chain", zh: "密钥链" });
    } catch {
      /* reported as a missing receipt */
    }
    await checkReceipt(receipt, keychain);
  }
}

main();
