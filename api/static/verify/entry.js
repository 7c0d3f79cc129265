// Entries: strict parsing of logged bytes (exactly their JCS form), the envelope and body
// checks, and the signature over "glasspocket/event/v1\n" || JCS(entry without sig) —
// mirrors ledger/core/entry.py and ledger/core/schema.py (the body schemas are generated
// into schemas.js from the same declarations).

import { concat, decode, decodeLoose, encode, equal, fromUtf8, utf8 } from "./b64.js";
import { VerifyError, malformed, signatureError } from "./errors.js";
import { jcsBytes, parseStrict } from "./jcs.js";
import { verifyEd25519 } from "./note.js";
import { TYPES } from "./schemas.js";

export const SIGNING_CONTEXT = utf8("glasspocket/event/v1\n");
export const MAX_ENTRY_BYTES = 16384;
const FIELDS = ["v", "community", "id", "type", "at", "body", "signer", "key_id", "sig"];
const AT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/;

const tooLarge = (en, zh) => new VerifyError("too_large", en, zh);
const unknownField = (en, zh) => new VerifyError("unknown_field", en, zh);
const fieldError = (name, en, zh) => malformed(`field '${name}': ${en}`, `字段 '${name}'：${zh}`);

/** Bytes from a log: at most 16 KiB, strict JSON, a valid entry, exactly its JCS form. */
export function parseLoggedEntry(data) {
  if (data.length > MAX_ENTRY_BYTES) {
    throw tooLarge(`logged entry is ${data.length} bytes, over ${MAX_ENTRY_BYTES}`, `日志条目 ${data.length} 字节，超过上限 ${MAX_ENTRY_BYTES}`);
  }
  let text;
  try {
    text = fromUtf8(data);
  } catch {
    throw malformed("not UTF-8", "不是 UTF-8 编码");
  }
  const entry = parseEntry(parseStrict(text));
  if (!equal(jcsBytes(entry), data)) {
    throw new VerifyError(
      "non_canonical",
      `entry ${entry.id}: logged bytes are not its canonical (JCS) form`,
      `条目 ${entry.id}：日志中的字节不是其规范（JCS）形式`,
    );
  }
  return entry;
}

/** A submission: any JSON serialization of an entry. */
export const parseEntryJson = (text) => parseEntry(parseStrict(text));

export function parseEntry(obj) {
  if (!isObject(obj)) throw malformed("an entry is a JSON object", "条目必须是 JSON 对象");
  const size = jcsBytes(obj).length;
  if (size > MAX_ENTRY_BYTES) {
    throw tooLarge(`entry is ${size} bytes in canonical form, over ${MAX_ENTRY_BYTES}`, `条目规范形式为 ${size} 字节，超过上限 ${MAX_ENTRY_BYTES}`);
  }
  const extra = Object.keys(obj).filter((k) => !FIELDS.includes(k)).sort();
  if (extra.length) throw unknownField(`unknown field(s): ${extra.join(", ")}`, `未知字段：${extra.join(", ")}`);
  const missing = FIELDS.filter((k) => !(k in obj));
  if (missing.length) throw malformed(`missing field(s): ${missing.join(", ")}`, `缺少字段：${missing.join(", ")}`);
  checkEnvelope(obj);
  checkValue(TYPES[obj.type].body, obj.body, "");
  return obj;
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function checkEnvelope(obj) {
  if (obj.v !== 1) throw fieldError("v", "format version must be 1", "格式版本必须为 1");
  for (const name of ["community", "id", "type", "at", "signer", "key_id", "sig"]) {
    if (typeof obj[name] !== "string") throw fieldError(name, "must be a string", "必须是字符串");
  }
  if (!isObject(obj.body)) throw fieldError("body", "must be an object", "必须是对象");
  const checks = [
    ["community", /^[a-z0-9][a-z0-9-]{1,62}$/, "[a-z0-9][a-z0-9-]{1,62}"],
    ["id", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "a lower-case hyphenated UUID"],
    ["key_id", /^[0-9a-f]{8}$/, "8 lower-case hex digits"],
    ["signer", /^[^\s+]+$/u, "a key name without spaces or '+'"],
  ];
  for (const [name, re, what] of checks) {
    if (!re.test(obj[name])) throw fieldError(name, `must be ${what}`, `格式应为 ${what}`);
  }
  parseAt(obj.at);
  let raw = null;
  try {
    raw = decodeLoose(obj.sig);
  } catch {
    throw fieldError("sig", "must be standard base64", "必须是标准 base64");
  }
  if (raw.length !== 64 || encode(raw) !== obj.sig) {
    throw fieldError("sig", "must be the canonical base64 of 64 bytes", "必须是 64 字节签名的规范 base64");
  }
  if (!Object.hasOwn(TYPES, obj.type)) throw fieldError("type", `unknown entry type '${obj.type}'`, `未知条目类型 '${obj.type}'`);
}

/** An RFC 3339 time with whole seconds and a zone; returns epoch milliseconds. */
export function parseAt(value) {
  const bad = () =>
    malformed(`'at' must be RFC 3339 with whole seconds and a zone, got '${value}'`, `'at' 必须是带时区、精确到秒的 RFC 3339 时间，收到 '${value}'`);
  if (!AT_RE.test(value)) throw bad();
  const [y, mo, d, h, mi, s] = value.slice(0, 19).split(/[-T:]/).map(Number);
  const days = new Date(Date.UTC(y, mo - 1, d)).getUTCDate();
  const zone = value.slice(19);
  const zoneOk = zone === "Z" || (Number(zone.slice(1, 3)) < 24 && Number(zone.slice(4, 6)) < 60);
  if (mo < 1 || mo > 12 || days !== d || h > 23 || mi > 59 || s > 59 || y < 1 || !zoneOk) {
    throw malformed(`'at' is not a real date and time: '${value}'`, `'at' 不是有效的日期时间：'${value}'`);
  }
  return Date.parse(value);
}

// --- bodies (ledger/core/schema.py) ---------------------------------------------------------------

const bodyError = (path, en, zh) => malformed(`body field '${path}': ${en}`, `正文字段 '${path}'：${zh}`);
const codePoints = (s) => [...s].length;

function checkValue(schema, value, path) {
  if (schema.type === "object") return checkObject(schema, value, path);
  if (schema.type === "array") {
    if (!Array.isArray(value)) throw bodyError(path, "must be a list", "必须是列表");
    if (value.length < schema.minItems || value.length > schema.maxItems) {
      throw bodyError(path, `must hold ${schema.minItems} to ${schema.maxItems} items`, `应含 ${schema.minItems} 至 ${schema.maxItems} 项`);
    }
    value.forEach((item, i) => checkValue(schema.items, item, `${path}[${i}]`));
  } else if (schema.enum) {
    if (typeof value !== "string" || !schema.enum.includes(value)) {
      const allowed = schema.enum.join(", ");
      throw bodyError(path, `must be one of ${allowed}`, `应为以下之一：${allowed}`);
    }
  } else if (schema.type === "string") {
    if (typeof value !== "string") throw bodyError(path, "must be a string", "必须是字符串");
    if (!value || codePoints(value) > schema.maxLength) {
      throw bodyError(path, `must be 1 to ${schema.maxLength} characters`, `长度应为 1 至 ${schema.maxLength}`);
    }
    if (schema.pattern && !new RegExp(schema.pattern, "u").test(value)) {
      throw bodyError(path, `must match ${schema.pattern}`, `格式应符合 ${schema.pattern}`);
    }
  } else if (schema.type === "integer") {
    if (typeof value !== "number" || !Number.isInteger(value)) throw bodyError(path, "must be an integer", "必须是整数");
    if (value < schema.minimum || value > schema.maximum) {
      throw bodyError(path, `must be between ${schema.minimum} and ${schema.maximum}`, `应在 ${schema.minimum} 与 ${schema.maximum} 之间`);
    }
  } else if (schema.type === "boolean") {
    if (typeof value !== "boolean") throw bodyError(path, "must be true or false", "必须是 true 或 false");
  }
}

function checkObject(schema, value, path) {
  if (!isObject(value)) throw bodyError(path || "body", "must be an object", "必须是对象");
  if (!schema.properties) return; // a free-form object (a statement's figures)
  const unknown = Object.keys(value).filter((k) => !Object.hasOwn(schema.properties, k)).sort();
  if (unknown.length) {
    const names = unknown.map((n) => (path ? `${path}.${n}` : n)).join(", ");
    throw unknownField(`unknown body field(s): ${names}`, `未知正文字段：${names}`);
  }
  for (const [name, spec] of Object.entries(schema.properties)) {
    const child = path ? `${path}.${name}` : name;
    if (Object.hasOwn(value, name)) checkValue(spec, value[name], child);
    else if (schema.required.includes(name)) throw bodyError(child, "is required", "为必填项");
  }
}

// --- signatures -------------------------------------------------------------------------------------

/** The bytes the signer signs. */
export function signingInput(entry) {
  const unsigned = Object.fromEntries(FIELDS.filter((k) => k !== "sig").map((k) => [k, entry[k]]));
  return concat(SIGNING_CONTEXT, jcsBytes(unsigned));
}

/** Check entry.sig with the key; throws bad_signature. */
export async function verifyEntrySignature(entry, key) {
  if (key.name !== entry.signer || key.keyIdHex !== entry.key_id) {
    throw new VerifyError(
      "bad_signature",
      `entry ${entry.id}: key ${key.name}/${key.keyIdHex} is not the named signer`,
      `条目 ${entry.id}：密钥 ${key.name}/${key.keyIdHex} 不是所署签名人`,
    );
  }
  try {
    await verifyEd25519(key, decode(entry.sig), signingInput(entry));
  } catch {
    throw signatureError(`entry ${entry.id}: the signature of ${entry.signer} does not verify`, `条目 ${entry.id}：${entry.signer} 的签名验证不通过`);
  }
}

export const signerRoles = (type) => TYPES[type].roles;
