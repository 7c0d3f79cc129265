// C2SP tlog-proof files (.tlog-proof), mirrors ledger/core/tlogproof.py:
//   c2sp.org/tlog-proof@v1 / [extra <base64>] / index <decimal> / <base64 hash>... / blank / note

import { decode } from "./b64.js";
import { malformed } from "./errors.js";
import { MAX_PROOF_LENGTH, leafHash, verifyInclusion } from "./merkle.js";
import { parseCheckpoint, parseNote } from "./note.js";

export const HEADER = "c2sp.org/tlog-proof@v1";

const bad = (why, zh) => malformed(`malformed tlog-proof: ${why}`, `tlog-proof 格式错误：${zh}`);

/** {index, hashes, checkpointNote, extra|null}; throws malformed (or bad_checkpoint for the note). */
export function parseTlogProof(text) {
  if (typeof text !== "string") throw bad("not text", "不是文本");
  const at = text.indexOf("\n\n");
  const head = at < 0 ? text : text.slice(0, at);
  const checkpointNote = at < 0 ? "" : text.slice(at + 2);
  const lines = head.split("\n");
  if (at < 0 || lines[0] !== HEADER) {
    throw bad(`first line must be ${HEADER} and a blank line must follow the proof`, `首行必须是 ${HEADER}，证明后须有空行`);
  }
  let position = 1;
  let extra = null;
  if (lines.length > 1 && lines[1].startsWith("extra ")) {
    try {
      extra = decode(lines[1].slice(6));
    } catch {
      throw bad("extra is not base64", "extra 不是 base64");
    }
    position = 2;
  }
  if (position >= lines.length) throw bad("no index line", "缺少 index 行");
  const line = lines[position];
  const digits = line.startsWith("index ") ? line.slice(6) : "";
  if (!/^(0|[1-9][0-9]*)$/.test(digits) || BigInt(digits) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw bad(`expected 'index <decimal>', got '${line.slice(0, 40)}'`, `应为 'index <十进制数>'，实为 '${line.slice(0, 40)}'`);
  }
  const hashLines = lines.slice(position + 1);
  if (hashLines.length > MAX_PROOF_LENGTH) throw bad("too many proof hashes", "证明哈希过多");
  const hashes = hashLines.map((h, i) => {
    let raw = new Uint8Array(0);
    try {
      raw = decode(h);
    } catch {
      /* below */
    }
    if (raw.length !== 32) throw bad(`proof line ${i + 1} is not base64 of 32 bytes`, `证明第 ${i + 1} 行不是 32 字节的 base64`);
    return raw;
  });
  parseCheckpoint(parseNote(checkpointNote).text);
  return { index: Number(digits), hashes, checkpointNote, extra };
}

/** Check a tlog-proof against a policy; the leaf is SHA-256(0x00 || extra). */
export async function verifyTlogProof(proof, policy) {
  const verified = await policy.check(proof.checkpointNote);
  if (proof.extra === null) {
    throw malformed("the proof has no extra data to compute the leaf hash from", "证明中没有可用于计算叶哈希的 extra 数据");
  }
  await verifyInclusion(await leafHash(proof.extra), proof.index, verified.size, proof.hashes, verified.root);
  return verified;
}
