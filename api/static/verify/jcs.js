// RFC 8785 JSON Canonicalization Scheme, and the strict JSON parser entries need
// (no floats, no NaN, no duplicate keys, integers within ±(2^53 − 1)), mirroring
// ledger/core/entry.py loads_strict.

import { malformed } from "./errors.js";
import { utf8 } from "./b64.js";

export const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

function serializeString(s) {
  // ES JSON.stringify is exactly RFC 8785 §3.2.2.2 for strings.
  return JSON.stringify(s);
}

function serialize(value) {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw malformed("NaN or Infinity is not JSON", "NaN 或 Infinity 不是合法 JSON");
    // RFC 8785 §3.2.2.3: the ES Number serialization (Number.prototype.toString), -0 as 0.
    return Object.is(value, -0) ? "0" : String(value);
  }
  if (typeof value === "string") return serializeString(value);
  if (Array.isArray(value)) return "[" + value.map(serialize).join(",") + "]";
  if (typeof value === "object") {
    // Sort by UTF-16 code units: JS string comparison is exactly that.
    const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return "{" + keys.map((k) => serializeString(k) + ":" + serialize(value[k])).join(",") + "}";
  }
  throw malformed(`value cannot be canonicalised: ${typeof value}`, `数据无法规范化：${typeof value}`);
}

/** The canonical JSON text of a value (RFC 8785). */
export const canonicalize = (value) => serialize(value);
/** The canonical UTF-8 bytes of a value. */
export const jcsBytes = (value) => utf8(serialize(value));

// --- strict parsing ---------------------------------------------------------------------------

const WS = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

class Parser {
  constructor(text) {
    this.s = text;
    this.i = 0;
  }
  fail(what, zh) {
    return malformed(`not JSON: ${what} at ${this.i}`, `不是合法 JSON：位置 ${this.i} ${zh}`);
  }
  ws() {
    while (this.i < this.s.length && WS.has(this.s[this.i])) this.i++;
  }
  value() {
    this.ws();
    const c = this.s[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    for (const [word, val] of [["true", true], ["false", false], ["null", null]]) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return val;
      }
    }
    for (const word of ["NaN", "Infinity", "-Infinity"]) {
      if (this.s.startsWith(word, this.i)) throw malformed(`${word} is not JSON`, `${word} 不是合法 JSON`);
    }
    throw this.fail("unexpected character", "字符无效");
  }
  object() {
    this.i++;
    const out = {};
    const seen = new Set();
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') throw this.fail("expected a key", "应为字段名");
      const key = this.string();
      if (seen.has(key)) throw malformed(`duplicate key '${key}'`, `重复的字段 '${key}'`);
      seen.add(key);
      this.ws();
      if (this.s[this.i++] !== ":") throw this.fail("expected ':'", "应为 ':'");
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.ws();
      const c = this.s[this.i++];
      if (c === "}") return out;
      if (c !== ",") throw this.fail("expected ',' or '}'", "应为 ',' 或 '}'");
    }
  }
  array() {
    this.i++;
    const out = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s[this.i++];
      if (c === "]") return out;
      if (c !== ",") throw this.fail("expected ',' or ']'", "应为 ',' 或 ']'");
    }
  }
  string() {
    this.i++;
    let out = "";
    for (;;) {
      if (this.i >= this.s.length) throw this.fail("unterminated string", "字符串未结束");
      const c = this.s[this.i++];
      if (c === '"') return out;
      if (c < " ") throw this.fail("control character in a string", "字符串含控制字符");
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      if (e in ESCAPES) out += ESCAPES[e];
      else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i, this.i + 4))) {
        out += String.fromCharCode(parseInt(this.s.slice(this.i, this.i + 4), 16));
        this.i += 4;
      } else throw this.fail("bad escape", "转义无效");
    }
  }
  number() {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) throw this.fail("bad number", "数字无效");
    this.i += m[0].length;
    if (m[2] !== undefined || m[3] !== undefined) {
      throw malformed(
        `floating-point number ${m[0]} is not allowed (money is integer fen)`,
        `不允许浮点数 ${m[0]}（金额一律以整数“分”表示）`,
      );
    }
    const big = BigInt(m[0]);
    if (big > BigInt(MAX_SAFE_INTEGER) || big < -BigInt(MAX_SAFE_INTEGER)) {
      throw malformed(`integer ${m[0]} is outside ±(2^53 − 1)`, `整数 ${m[0]} 超出 ±(2^53 − 1)`);
    }
    return Number(big);
  }
}

/** JSON without floats, NaN or duplicate keys; integers within ±(2^53 − 1). */
export function parseStrict(text) {
  const p = new Parser(text);
  const value = p.value();
  p.ws();
  if (p.i !== text.length) throw p.fail("extra data", "多余数据");
  return value;
}
