// Light verification of a statement bundle (glasspocket/statement-bundle@v1, SPEC §5),
// step by step as verify/statement.py items 1-6:
// 1. the bundle parses and names its format;
// 2. its proof's checkpoint meets the pinned policy and the statement entry (equal to the
//    proof's extra line) is included at its index;
// 3. the entry is a statement.published in canonical bytes, with the id and `at` its period
//    fixes and `end` equal to its own index;
// 4. the key chain (same checkpoint) shows the signer live at that index, of a role that may
//    publish statements, and the signature valid;
// 5. covered_consistency proves the covered tree a prefix of the checkpoint; `previous`
//    (needed unless start is 0) meets the policy, holds the previous statement and is consistent;
// 6. the arithmetic holds (ledger/core/statements.py arithmetic_errors, identity for identity).

import { concat, decodeLoose, equal, fingerprint, hex, utf8 } from "./b64.js";
import { Report, VerifyError, malformed, proofError } from "./errors.js";
import { leafHash, verifyConsistency, verifyInclusion } from "./merkle.js";
import { parseLoggedEntry } from "./entry.js";
import { checkSignerAt, foldKeychain, parseKeychain } from "./keychain.js";
import { parseTlogProof } from "./tlogproof.js";

export const BUNDLE_FORMAT = "glasspocket/statement-bundle@v1";
const LAST_DAY = { 1: "03-31", 2: "06-30", 3: "09-30", 4: "12-31" };
const NAMESPACE_URL = "6ba7b8119dad11d180b400c04fd430c8";

export function statementAt(period) {
  return `${period.slice(0, 4)}-${LAST_DAY[period[5]]}T23:59:59+08:00`;
}

/** UUID v5 (namespace URL) of "glasspocket/statement/<community>/<period>". */
export async function statementId(community, period) {
  const ns = Uint8Array.from(NAMESPACE_URL.match(/../g).map((h) => parseInt(h, 16)));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", concat(ns, utf8(`glasspocket/statement/${community}/${period}`))));
  const b = digest.slice(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = hex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function figureError(entry, path, stated, computed, how) {
  const money = path.endsWith("_fen");
  const s = money ? showFen(stated) : show(stated);
  const c = money ? showFen(computed) : show(computed);
  return new VerifyError(
    "statement_mismatch",
    `statement ${entry.body.period}: figure ${path}: stated ${s}, ${how} ${c}`,
    `${entry.body.period} 报表：数字 ${path}：报表为 ${s}，重算为 ${c}`,
  );
}

/** An amount in fen as "¥1,234.56 (123456 fen)"; anything else as it is. */
function showFen(v) {
  if (!(typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v)))) return show(v);
  const n = BigInt(v);
  const a = n < 0n ? -n : n;
  const yuan = `${n < 0n ? "-" : ""}¥${(a / 100n).toLocaleString("en-US")}.${String(a % 100n).padStart(2, "0")}`;
  return `${yuan} (${n})`;
}

const show = (v) => (typeof v === "string" ? `'${v}'` : typeof v === "bigint" ? v.toString() : JSON.stringify(v));

function hashes(items) {
  if (!Array.isArray(items)) throw malformed("a proof is a list of base64 hashes", "证明须为 base64 哈希列表");
  try {
    return items.map(decodeLoose);
  } catch {
    throw malformed("a proof hash is not base64", "证明哈希不是 base64");
  }
}

/** Verify a bundle (text) against a parsed Policy; returns a Report. */
export async function verifyStatement(bundleText, policy) {
  const report = new Report();
  let bundle, entry, index, verified;
  try {
    bundle = parseBundle(bundleText);
    ({ entry, index, verified } = await checkEntryProof(bundle, policy));
  } catch (error) {
    report.violation(error, "bundle");
    return report;
  }
  const body = entry.body;
  Object.assign(report.facts, {
    origin: verified.origin,
    checkpoint_size: verified.size,
    fingerprint: fingerprint(verified.root),
    period: body.period,
    covered: `[${body.start}, ${body.end})`,
    signer: entry.signer,
    witnesses: verified.witnesses,
    figures: body.figures,
  });
  await report.step("signer", () => checkSigner(bundle, policy, verified, entry, index));
  await report.step("covered", () => checkCovered(bundle, verified, entry));
  await report.step("previous", () => checkPrevious(bundle, policy, verified, entry));
  for (const [path, stated, computed] of arithmeticErrors(body.figures)) {
    report.violation(figureError(entry, path, stated, computed, "lines give"), path);
  }
  report.facts.full = false;
  return report;
}

function parseBundle(text) {
  let bundle;
  try {
    bundle = typeof text === "string" ? JSON.parse(text) : text;
  } catch {
    bundle = null;
  }
  if (bundle === null || typeof bundle !== "object" || bundle.format !== BUNDLE_FORMAT) {
    throw malformed(`not a statement bundle (format ${BUNDLE_FORMAT})`, `不是报表证明包（${BUNDLE_FORMAT}）`);
  }
  return bundle;
}

async function checkEntryProof(bundle, policy) {
  const proof = parseTlogProof(bundle.proof);
  const data = decodeLoose(bundle.entry);
  if (proof.extra === null || !equal(proof.extra, data)) {
    throw malformed("the proof's extra line is not the bundle's entry", "证明的 extra 行与报表条目不符");
  }
  const verified = await policy.check(proof.checkpointNote);
  await verifyInclusion(await leafHash(data), proof.index, verified.size, proof.hashes, verified.root);
  const entry = parseLoggedEntry(data);
  if (entry.type !== "statement.published") {
    throw malformed(`the bundle holds a ${entry.type}, not a statement`, `证明包中是 ${entry.type}，不是报表`);
  }
  const period = entry.body.period;
  const wants = [
    ["id", entry.id, await statementId(entry.community, period)],
    ["at", entry.at, statementAt(period)],
    ["end", entry.body.end, proof.index],
  ];
  for (const [name, got, want] of wants) {
    if (got !== want) throw figureError(entry, name, got, want, "the rules give");
  }
  return { entry, index: proof.index, verified };
}

async function checkSigner(bundle, policy, verified, entry, index) {
  const { checkpointNote, items } = parseKeychain(bundle.keychain);
  const chain = await policy.check(checkpointNote);
  if (chain.size !== verified.size || !equal(chain.root, verified.root)) {
    throw proofError("the key chain is for another checkpoint than the statement's proof", "密钥链对应的检查点与报表证明的检查点不同");
  }
  await checkSignerAt(await foldKeychain(checkpointNote, items), entry, index);
}

async function checkCovered(bundle, verified, entry) {
  const coveredRoot = decodeLoose(entry.body.covered_root);
  await verifyConsistency(entry.body.end, verified.size, hashes(bundle.covered_consistency), coveredRoot, verified.root);
}

async function checkPrevious(bundle, policy, verified, entry) {
  const previous = bundle.previous;
  const start = entry.body.start;
  if (start === 0) {
    if (previous !== null && previous !== undefined) {
      throw malformed("the first statement (start 0) has no previous checkpoint", "首期报表（起点 0）不应附上期检查点");
    }
    return;
  }
  if (previous === null || typeof previous !== "object" || Array.isArray(previous)) {
    throw malformed(`the statement starts at ${start}: the previous statement's checkpoint is needed`, `报表起点为 ${start}：须附上期报表的检查点`);
  }
  const before = await policy.check(previous.checkpoint);
  if (before.size <= start) {
    throw proofError(
      `the previous checkpoint (size ${before.size}) does not hold the previous statement (#${start})`,
      `上期检查点（大小 ${before.size}）不包含上期报表（第 ${start} 条）`,
    );
  }
  await verifyConsistency(before.size, verified.size, hashes(previous.consistency), before.root, verified.root);
}

// --- arithmetic (ledger/core/statements.py arithmetic_errors) ---------------------------------------

function num(value) {
  if (typeof value !== "number" || !Number.isInteger(value)) throw new TypeError(`not an integer: ${JSON.stringify(value)}`);
  return BigInt(value);
}

function field(obj, key) {
  if (obj === null || typeof obj !== "object" || !Object.hasOwn(obj, key)) throw new TypeError(`missing '${key}'`);
  return obj[key];
}

function total(obj) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new TypeError("not an object of amounts");
  return Object.values(obj).reduce((a, v) => a + num(v), 0n);
}

/** [(figure path, stated, what its lines give)] for every identity that does not hold. */
export function arithmeticErrors(figs) {
  const errors = [];
  const expect = (path, stated, computed) => {
    if (!(typeof stated === "number" && Number.isInteger(stated) && BigInt(stated) === computed)) errors.push([path, stated, computed]);
  };
  try {
    for (const [fund, f] of Object.entries(field(figs, "funds"))) {
      expect(`funds.${fund}.in_fen`, field(f, "in_fen"), total(field(f, "inflows")));
      expect(`funds.${fund}.out_fen`, field(f, "out_fen"), total(field(f, "outflows")));
      expect(`funds.${fund}.closing_fen`, field(f, "closing_fen"), num(field(f, "opening_fen")) + num(field(f, "in_fen")) - num(field(f, "out_fen")));
    }
    const trust = field(figs, "trust");
    const prop = field(field(figs, "funds"), "property");
    expect("trust.income_fen", field(trust, "income_fen"), num(field(prop, "in_fen")));
    expect("trust.costs_fen", field(trust, "costs_fen"), num(field(prop, "out_fen")) - num(field(trust, "remuneration_fen")) - num(field(trust, "refunded_fen")));
    expect("trust.surplus_fen", field(trust, "surplus_fen"), num(field(trust, "income_fen")) - num(field(trust, "costs_fen")) - num(field(trust, "remuneration_fen")));
    const common = field(figs, "common_revenue");
    expect("common_revenue.net_fen", field(common, "net_fen"), num(field(common, "gross_fen")) - num(field(common, "costs_fen")));
    const donations = field(figs, "donations");
    expect("donations.total_fen", field(donations, "total_fen"), num(field(donations, "unrestricted_fen")) + total(field(donations, "restricted")));
    expect(
      "maintenance.subaccounts_total_fen",
      field(field(figs, "maintenance"), "subaccounts_total_fen"),
      num(field(field(field(figs, "funds"), "maintenance"), "closing_fen")),
    );
    const bank = field(figs, "bank");
    if (!Array.isArray(bank)) throw new TypeError("bank is not a list");
    bank.forEach((line, i) => {
      expect(`bank[${i}].difference_fen`, field(line, "difference_fen"), num(field(line, "balance_fen")) - num(field(line, "books_fen")));
    });
  } catch (error) {
    errors.push(["figures", `malformed (${error.message})`, "a complete set of figures"]);
  }
  return errors;
}
