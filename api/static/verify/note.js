// Verifier keys (vkeys), C2SP signed notes, tlog-checkpoint bodies and tlog-cosignature/v1
// (Ed25519, key type 0x04) cosignatures — mirrors ledger/core/keys.py and ledger/core/note.py.
// A note is its text (ending in a newline), a blank line, then lines
// "— <key name> <base64(key id (4) || signature)>". A verifier looks only at lines whose key
// name and key id both match its key, and checks the first such line.

import { concat, decode, encode, equal, hex, sha256, utf8 } from "./b64.js";
import { VerifyError, checkpointError, signatureError } from "./errors.js";

export const KEY_TYPE_ED25519 = 0x01;
export const KEY_TYPE_COSIGNATURE = 0x04;
const SIGNATURE_PREFIX = "— ";
const MAX_SIGNATURES = 100;
const MAX_TREE_SIZE = (1n << 63n) - 1n;
const UNICODE_SPACES = new Set(
  "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000",
);

const keyFormat = (en, zh) => new VerifyError("key_format", en, zh);

export function isValidKeyName(name) {
  if (!name || name.includes("+")) return false;
  return ![...name].some((ch) => UNICODE_SPACES.has(ch) || ch.charCodeAt(0) < 0x20 || ch === "\x7f");
}

/** Whether this browser's WebCrypto verifies Ed25519 signatures. */
export async function ed25519Supported() {
  try {
    if (!globalThis.crypto || !crypto.subtle) return false;
    const pub = decode("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    const key = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
    return (await crypto.subtle.verify({ name: "Ed25519" }, key, new Uint8Array(64), new Uint8Array(0))) === false;
  } catch {
    return false;
  }
}

export async function keyId(name, type, publicKey) {
  return (await sha256(concat(utf8(name), new Uint8Array([0x0a, type]), publicKey))).slice(0, 4);
}

/** A parsed verifier key: name, type, 32-byte public key, 4-byte key id. */
export async function parseVkey(vkey) {
  const shown = `'${String(vkey).slice(0, 120)}'`;
  const parts = typeof vkey === "string" ? vkey.split("+") : [];
  if (parts.length < 3) throw keyFormat(`a vkey is <name>+<key id>+<key>: ${shown}`, `验证密钥格式应为 <名称>+<ID>+<密钥>：${shown}`);
  const [name, hexId] = parts;
  const encoded = parts.slice(2).join("+");
  if (!isValidKeyName(name)) throw keyFormat(`invalid key name '${name}'`, `密钥名称 '${name}' 无效`);
  if (!/^[0-9a-f]{8}$/.test(hexId)) throw keyFormat(`key id must be 8 lowercase hex digits: ${shown}`, `密钥 ID 必须是 8 位小写十六进制数字：${shown}`);
  let raw;
  try {
    raw = decode(encoded);
  } catch {
    throw keyFormat(`public key material is not base64: ${shown}`, `公钥不是 base64：${shown}`);
  }
  if (raw.length !== 33 || (raw[0] !== KEY_TYPE_ED25519 && raw[0] !== KEY_TYPE_COSIGNATURE)) {
    throw keyFormat(`a key is type 0x01 or 0x04 and 32 bytes: ${shown}`, `密钥须为 0x01 或 0x04 类型的 32 字节：${shown}`);
  }
  const type = raw[0];
  const publicKey = raw.slice(1);
  const id = await keyId(name, type, publicKey);
  if (hex(id) !== hexId) {
    throw keyFormat(`key id ${hexId} does not match the key (want ${hex(id)})`, `密钥 ID ${hexId} 与密钥不符（应为 ${hex(id)}）`);
  }
  return { name, type, publicKey, keyId: id, keyIdHex: hexId, text: vkey };
}

/** Raw Ed25519 verification; throws bad_signature. */
export async function verifyEd25519(vkey, signature, message) {
  let ok = false;
  try {
    const key = await crypto.subtle.importKey("raw", vkey.publicKey, { name: "Ed25519" }, false, ["verify"]);
    ok = signature.length === 64 && (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message));
  } catch {
    ok = false;
  }
  if (!ok) {
    throw signatureError(
      `signature by key ${vkey.name}+${vkey.keyIdHex} does not verify`,
      `密钥 ${vkey.name}+${vkey.keyIdHex} 的签名验证失败`,
    );
  }
}

// --- checkpoints ------------------------------------------------------------------------------

const cpError = (why, zh) => checkpointError(`malformed checkpoint: ${why}`, `检查点格式错误：${zh}`);

/** A checkpoint body, strictly: three lines (origin, size, base64 root), no extension lines. */
export function parseCheckpoint(text) {
  if (!text.endsWith("\n")) throw cpError("it does not end with a newline", "未以换行结尾");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length !== 3) {
    throw cpError(
      `${lines.length} lines, want 3 (origin, size, root; no extension lines)`,
      `有 ${lines.length} 行，应为 3 行（来源、大小、树根；不允许扩展行）`,
    );
  }
  const [origin, sizeText, rootText] = lines;
  if (!origin || [...origin].some((c) => c.charCodeAt(0) < 0x20)) throw cpError("empty or invalid origin line", "来源行为空或无效");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) {
    throw cpError(`size '${sizeText}' is not a canonical decimal`, `大小 '${sizeText}' 不是规范的十进制数`);
  }
  const big = BigInt(sizeText);
  if (big > MAX_TREE_SIZE) throw cpError(`size ${sizeText} is too large`, `大小 ${sizeText} 过大`);
  let root = new Uint8Array(0);
  try {
    root = decode(rootText);
  } catch {
    /* reported below */
  }
  if (root.length !== 32) throw cpError(`root '${rootText}' is not base64 of 32 bytes`, `树根 '${rootText}' 不是 32 字节的 base64`);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw cpError(`size ${sizeText} is too large`, `大小 ${sizeText} 过大`);
  return { origin, size: Number(big), root };
}

// --- signed notes -----------------------------------------------------------------------------

const noteError = (why, zh) => checkpointError(`malformed signed note: ${why}`, `签名文本格式错误：${zh}`);

function checkNoteCharacters(text) {
  for (const c of text) {
    if (c.charCodeAt(0) < 0x20 && c !== "\n") throw noteError("control character other than newline", "含有换行以外的控制字符");
  }
}

export function parseSignatureLine(line) {
  checkNoteCharacters(line);
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    throw noteError(`line '${line.slice(0, 40)}' is not a signature line`, `'${line.slice(0, 40)}' 不是签名行`);
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(" ");
  const name = space < 0 ? rest : rest.slice(0, space);
  const encoded = space < 0 ? "" : rest.slice(space + 1);
  let raw = new Uint8Array(0);
  try {
    raw = decode(encoded);
  } catch {
    /* reported below */
  }
  if (!isValidKeyName(name) || raw.length < 5) {
    throw noteError(`bad signature line '${line.slice(0, 60)}'`, `签名行 '${line.slice(0, 60)}' 无效`);
  }
  return { name, keyHash: raw.slice(0, 4), signature: raw.slice(4) };
}

/** Split a signed note into its text (with its final newline) and signature lines. */
export function parseNote(data) {
  if (typeof data !== "string") throw noteError("not text", "不是文本");
  checkNoteCharacters(data);
  const split = data.lastIndexOf("\n\n");
  if (split < 0) throw noteError("no blank line before the signatures", "签名前没有空行");
  const text = data.slice(0, split + 1);
  const block = data.slice(split + 2);
  if (!block || !block.endsWith("\n")) throw noteError("no signature lines, or no final newline", "没有签名行，或未以换行结尾");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw noteError(`more than ${MAX_SIGNATURES} signatures`, `签名超过 ${MAX_SIGNATURES} 个`);
  return { text, signatures: lines.map(parseSignatureLine), raw: data };
}

export function cosignatureMessage(checkpointText, timestamp) {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

export function cosignatureTimestamp(sig) {
  if (sig.signature.length !== 72) {
    throw signatureError(
      `cosignature by ${sig.name} is ${sig.signature.length} bytes, want 72`,
      `${sig.name} 的见证签名长度为 ${sig.signature.length} 字节，应为 72`,
    );
  }
  let t = 0n;
  for (const b of sig.signature.slice(0, 8)) t = (t << 8n) | BigInt(b);
  if (t > MAX_TREE_SIZE) {
    throw signatureError(`cosignature by ${sig.name} has timestamp ${t} beyond 2^63-1`, `${sig.name} 的见证签名时间戳 ${t} 超过 2^63-1`);
  }
  return t;
}

/** The first signature line whose key name and key id both match the key. */
export function findSignature(note, vkey) {
  return note.signatures.find((s) => s.name === vkey.name && equal(s.keyHash, vkey.keyId)) || null;
}

/** Check the key's signature on the note (a cosignature for type 0x04 keys). */
export async function verifyNoteSignature(note, vkey) {
  const sig = findSignature(note, vkey);
  if (sig === null) {
    throw signatureError(`no signature by key ${vkey.name}+${vkey.keyIdHex} on the note`, `文本上没有密钥 ${vkey.name}+${vkey.keyIdHex} 的签名`);
  }
  if (vkey.type === KEY_TYPE_COSIGNATURE) {
    const t = cosignatureTimestamp(sig);
    await verifyEd25519(vkey, sig.signature.slice(8), cosignatureMessage(note.text, t));
  } else {
    await verifyEd25519(vkey, sig.signature, utf8(note.text));
  }
  return sig;
}

export const formatRoot = (root) => encode(root);
