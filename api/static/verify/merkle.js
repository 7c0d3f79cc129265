// RFC 6962 / RFC 9162 Merkle tree hashes and proof verification (mirrors ledger/core/merkle.py).
// leaf = SHA-256(0x00 || entry), node = SHA-256(0x01 || left || right). Proofs are checked by
// RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), with the preconditions of
// transparency-dev/merkle: a consistency proof from size 0 is refused, one between equal
// sizes must be empty and the roots equal. Sizes and indices are Numbers ≤ 2^53 − 1 or BigInts.

import { concat, equal, sha256 } from "./b64.js";
import { proofError } from "./errors.js";

export const HASH_SIZE = 32;
export const MAX_PROOF_LENGTH = 64;

export const leafHash = (data) => sha256(concat(new Uint8Array([0]), data));
export const nodeHash = (left, right) => sha256(concat(new Uint8Array([1]), left, right));

function checkHashList(proof) {
  if (proof.length > MAX_PROOF_LENGTH) {
    throw proofError(
      `proof has ${proof.length} hashes, more than any tree needs`,
      `证明包含 ${proof.length} 个哈希，超出任何树所需`,
    );
  }
  proof.forEach((h, position) => {
    if (h.length !== HASH_SIZE) {
      throw proofError(
        `proof hash ${position} is ${h.length} bytes, not 32`,
        `证明中第 ${position} 个哈希长度为 ${h.length} 字节，而不是 32`,
      );
    }
  });
}

function wrongLength(kind, a, b, got) {
  const zh = kind === "inclusion" ? "包含" : "一致性";
  return proofError(
    `${kind} proof for (${a}, ${b}) has the wrong number of hashes (${got})`,
    `(${a}, ${b}) 的${zh}证明哈希数量不对（${got} 个）`,
  );
}

function shiftUntilOdd(fn, sn) {
  while ((fn & 1n) === 0n && fn !== 0n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  return [fn, sn];
}

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2). */
export async function rootFromInclusionProof(leaf, index, size, proof) {
  const idx = BigInt(index);
  const n = BigInt(size);
  if (!(idx >= 0n && idx < n)) {
    throw proofError(`index ${index} is outside a tree of size ${size}`, `序号 ${index} 超出大小为 ${size} 的树`);
  }
  if (leaf.length !== HASH_SIZE) {
    throw proofError(`leaf hash is ${leaf.length} bytes, not 32`, `叶哈希长度为 ${leaf.length} 字节，而不是 32`);
  }
  checkHashList(proof);
  let fn = idx;
  let sn = n - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw wrongLength("inclusion", index, size, proof.length);
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      [fn, sn] = shiftUntilOdd(fn, sn);
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw wrongLength("inclusion", index, size, proof.length);
  return r;
}

/** Throws bad_proof unless `leaf` is at `index` in the tree (`size`, `root`). */
export async function verifyInclusion(leaf, index, size, proof, root) {
  const computed = await rootFromInclusionProof(leaf, index, size, proof);
  if (!equal(computed, root)) {
    throw proofError(
      `inclusion proof for index ${index} does not lead to the root of tree size ${size}`,
      `序号 ${index} 的包含证明与大小为 ${size} 的树根不符`,
    );
  }
}

/** Throws bad_proof unless the tree (size1, root1) is a prefix of (size2, root2). */
export async function verifyConsistency(size1, size2, proof, root1, root2) {
  const m = BigInt(size1);
  const n = BigInt(size2);
  if (m < 0n || n < m) {
    throw proofError(`size2 (${size2}) < size1 (${size1}): a log never shrinks`, `新大小 ${size2} 小于旧大小 ${size1}：日志不会缩小`);
  }
  if (m === 0n) {
    throw proofError(
      "a consistency proof from the empty tree proves nothing and is refused",
      "从空树出发的一致性证明没有意义，拒绝接受",
    );
  }
  if (m === n) {
    if (proof.length) throw proofError("sizes are equal but the proof is not empty", "大小相同但证明不为空");
    if (!equal(root1, root2)) {
      throw proofError(`two different roots for the same size ${size1}`, `同一大小 ${size1} 出现两个不同的树根`);
    }
    return;
  }
  checkHashList(proof);
  const [first, second] = await rootsFromConsistencyProof(m, n, proof, root1);
  if (!equal(first, root1)) {
    throw proofError(
      `consistency proof ${size1} -> ${size2} does not lead to the old root`,
      `${size1} -> ${size2} 的一致性证明与旧树根不符`,
    );
  }
  if (!equal(second, root2)) {
    throw proofError(
      `consistency proof ${size1} -> ${size2} does not lead to the new root`,
      `${size1} -> ${size2} 的一致性证明与新树根不符`,
    );
  }
}

/** RFC 9162 §2.1.4.2 steps 1-7 for 0 < size1 < size2: the (old, new) roots it leads to. */
async function rootsFromConsistencyProof(m, n, proof, root1) {
  if (!proof.length) throw proofError("consistency proof is empty", "一致性证明为空");
  const path = (m & (m - 1n)) === 0n ? [root1, ...proof] : [...proof];
  let fn = m - 1n;
  let sn = n - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw wrongLength("consistency", m, n, proof.length);
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      [fn, sn] = shiftUntilOdd(fn, sn);
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw wrongLength("consistency", m, n, proof.length);
  return [fr, sr];
}
