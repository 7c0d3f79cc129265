// Runs the browser verifier's modules (api/static/verify/*.js) under node against the same
// vectors as the Python verifier; prints one JSON summary line and exits 1 on any mismatch.
// Usage: node run_vectors.mjs --rfc6962 DIR --golden DIR [--statements cases.json]...

import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const V = new URL("../../api/static/verify/", import.meta.url);
const { decodeLoose } = await import(new URL("b64.js", V));
const { verifyConsistency, verifyInclusion } = await import(new URL("merkle.js", V));
const { Policy } = await import(new URL("policy.js", V));
const { parseLoggedEntry, parseEntryJson, verifyEntrySignature } = await import(new URL("entry.js", V));
const { parseVkey, ed25519Supported } = await import(new URL("note.js", V));
const { verifyReceipt } = await import(new URL("receipt.js", V));
const { verifyStatement } = await import(new URL("statement.js", V));
const { jcsBytes, parseStrict } = await import(new URL("jcs.js", V));
const { encode } = await import(new URL("b64.js", V));

const args = { statements: [] };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, "");
  if (key === "statements") args.statements.push(process.argv[i + 1]);
  else args[key] = process.argv[i + 1];
}

const results = {};
const failures = [];
const count = (kind, name, ok, detail) => {
  results[kind] = results[kind] || { passed: 0, failed: 0 };
  results[kind][ok ? "passed" : "failed"] += 1;
  if (!ok) failures.push(`${kind}/${name}: ${detail}`);
};
const load = (path) => JSON.parse(readFileSync(path, "utf8"));
const codeOf = async (fn) => {
  try {
    await fn();
    return "ok";
  } catch (e) {
    return e.code || `exception: ${e.message}`;
  }
};
function walk(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? walk(path) : path.endsWith(".json") ? [path] : [];
    })
    .sort();
}

async function rfc6962(dir) {
  for (const path of walk(join(dir, "inclusion"))) {
    const c = load(path);
    const got = await codeOf(() =>
      verifyInclusion(decodeLoose(c.leafHash || ""), c.leafIdx, c.treeSize, (c.proof || []).map(decodeLoose), decodeLoose(c.root || "")),
    );
    const ok = c.wantErr ? got === "bad_proof" : got === "ok";
    count("rfc6962_inclusion", relative(dir, path), ok, `wantErr=${c.wantErr} got ${got}`);
  }
  for (const path of walk(join(dir, "consistency"))) {
    const c = load(path);
    const got = await codeOf(() =>
      verifyConsistency(c.size1, c.size2, (c.proof || []).map(decodeLoose), decodeLoose(c.root1 || ""), decodeLoose(c.root2 || "")),
    );
    const ok = c.wantErr ? got === "bad_proof" : got === "ok";
    count("rfc6962_consistency", relative(dir, path), ok, `wantErr=${c.wantErr} got ${got}`);
  }
}

async function golden(dir) {
  const keys = load(join(dir, "keys.json"));
  const community = await Promise.all(keys.keys.filter((k) => k.role !== null).map((k) => parseVkey(k.vkey)));
  for (const path of walk(join(dir, "entries"))) {
    const v = load(path);
    const got = await codeOf(async () => {
      const entry = "entry_bytes_b64" in v ? parseLoggedEntry(decodeLoose(v.entry_bytes_b64)) : parseEntryJson(v.submission);
      const key = community.find((k) => k.name === entry.signer && k.keyIdHex === entry.key_id);
      if (!key) throw { code: "unknown_signer" };
      await verifyEntrySignature(entry, key);
    });
    count("golden_entries", relative(dir, path), got === v.expect, `want ${v.expect} got ${got}`);
  }
  for (const path of walk(join(dir, "checkpoints"))) {
    const v = load(path);
    const got = await codeOf(async () => (await Policy.parse(v.policy)).check(v.checkpoint));
    count("golden_checkpoints", relative(dir, path), got === v.expect, `want ${v.expect} got ${got}`);
  }
  for (const path of walk(join(dir, "receipts"))) {
    const v = load(path);
    const report = await verifyReceipt(v.receipt, await Policy.parse(v.policy), v.keychain);
    const codes = report.violations.map((f) => f.code);
    const notices = report.findings.filter((f) => f.severity === "notice").map((f) => f.code);
    const want = v.expect === "ok" ? [] : [v.expect];
    const ok = JSON.stringify(codes) === JSON.stringify(want) && JSON.stringify(notices) === JSON.stringify(v.notices);
    count("golden_receipts", relative(dir, path), ok, `want ${want}/${v.notices} got ${codes}/${notices}`);
  }
  const log = load(join(dir, "log.json"));
  const verified = await (await Policy.parse(log.policy)).check(log.checkpoint);
  count("golden_log", "log.json", verified.size === log.entries.length, `size ${verified.size}`);
}

// A case's bundle and policy are texts, or file names beside cases.json.
const textOrFile = (base, value) => (existsSync(join(base, value)) ? readFileSync(join(base, value), "utf8") : value);

async function statements(path) {
  const base = dirname(path);
  for (const c of load(path)) {
    let verdict;
    let codes = [];
    try {
      const report = await verifyStatement(textOrFile(base, c.bundle), await Policy.parse(textOrFile(base, c.policy)));
      verdict = report.ok ? "ok" : "fail";
      codes = report.violations.map((f) => f.code);
    } catch (e) {
      verdict = "fail";
      codes = [e.code || e.message];
    }
    // The reason of a failing case is the code of a violation the Python verifier reports.
    const ok = verdict === c.want && (c.want === "ok" || !c.reason || codes.includes(c.reason));
    count("statements", `${c.name}`, ok, `want ${c.want} (${c.reason}) got ${verdict} ${JSON.stringify(codes)}`);
  }
}

// JCS cases: [{input: JSON text, want: base64 of the RFC 8785 bytes (Python rfc8785) | null}].
async function jcs(path) {
  load(path).forEach((c, i) => {
    let got;
    try {
      got = encode(jcsBytes(parseStrict(c.input)));
    } catch (e) {
      got = null;
    }
    count("jcs", `${i}`, got === c.want, `input ${c.input.slice(0, 80)} want ${c.want} got ${got}`);
  });
}

if (!(await ed25519Supported())) {
  console.log(JSON.stringify({ error: "WebCrypto Ed25519 is not available in this node" }));
  process.exit(2);
}
if (args.rfc6962) await rfc6962(args.rfc6962);
if (args.golden) await golden(args.golden);
for (const path of args.statements) if (existsSync(path)) await statements(path);
if (args.jcs) await jcs(args.jcs);
// A browser whose WebCrypto lacks Ed25519 must be detected (the page then says "unsupported").
if (args.golden) {
  const importKey = crypto.subtle.importKey.bind(crypto.subtle);
  crypto.subtle.importKey = async (...a) => {
    throw new DOMException("Unrecognized name", "NotSupportedError");
  };
  count("unsupported", "no-ed25519", (await ed25519Supported()) === false, "Ed25519 reported as supported");
  crypto.subtle.importKey = importKey;
}
console.log(JSON.stringify({ results, failures }));
process.exit(failures.length ? 1 : 0);
