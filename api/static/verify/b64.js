// Bytes: strict standard base64 (RFC 4648 §4, one canonical spelling), hex, UTF-8, SHA-256.

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LOOKUP = new Map([...ALPHABET].map((c, i) => [c, i]));

export function encode(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i];
    const b = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2] : 0;
    out += ALPHABET[a >> 2] + ALPHABET[((a & 3) << 4) | (b >> 4)];
    out += i + 1 < bytes.length ? ALPHABET[((b & 15) << 2) | (c >> 6)] : "=";
    out += i + 2 < bytes.length ? ALPHABET[c & 63] : "=";
  }
  return out;
}

/** Standard base64 with padding, in its canonical spelling; throws Error otherwise. */
export function decode(text) {
  if (typeof text !== "string" || text.length % 4 !== 0) throw new Error("not base64");
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const vals = [];
    for (let j = 0; j < 4; j++) {
      const ch = text[i + j];
      if (ch === "=" && i + 4 === text.length && j >= 4 - pad) vals.push(0);
      else if (LOOKUP.has(ch)) vals.push(LOOKUP.get(ch));
      else throw new Error("not base64");
    }
    const n = (vals[0] << 18) | (vals[1] << 12) | (vals[2] << 6) | vals[3];
    for (const byte of [(n >> 16) & 255, (n >> 8) & 255, n & 255]) if (o < out.length) out[o++] = byte;
  }
  if (encode(out) !== text) throw new Error("not canonical base64");
  return out;
}

/** Lenient base64 (Python's b64decode(validate=True): the alphabet and padding, any spelling). */
export function decodeLoose(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new Error("not base64");
  }
  const clean = text.replace(/=+$/, "");
  const out = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    value = (value << 6) | LOOKUP.get(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >> bits) & 255);
    }
  }
  return new Uint8Array(out);
}

export const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
export const utf8 = (text) => new TextEncoder().encode(text);
export const fromUtf8 = (bytes) => new TextDecoder("utf-8", { fatal: true }).decode(bytes);

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** The root's first 16 hex digits in groups of four, as the paper notice prints them. */
export const fingerprint = (root) => hex(root).slice(0, 16).match(/.{4}/g).join(" ");
