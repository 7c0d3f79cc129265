// Verifying a receipt: a C2SP tlog-proof whose extra line is the entry (SPEC §5), as
// verify/receipt.py: 1. it parses and carries its entry; 2. its checkpoint meets the pinned
// policy; 3. SHA-256(0x00 || extra) is included at its index; 4. the entry is exactly its JCS
// bytes; 5. with a key chain (checked against the same policy) the signer was live at that
// index, may make that type and signed it — without one, a notice says the signer was not checked.

import { equal, fingerprint } from "./b64.js";
import { Report, malformed, proofError } from "./errors.js";
import { parseLoggedEntry } from "./entry.js";
import { checkSignerAt, foldKeychain, parseKeychain } from "./keychain.js";
import { leafHash, verifyInclusion } from "./merkle.js";
import { parseTlogProof } from "./tlogproof.js";

export async function verifyReceipt(receiptText, policy, keychainText = null) {
  const report = new Report();
  let proof, verified, entry;
  try {
    proof = parseTlogProof(receiptText);
    if (proof.extra === null) throw malformed("the receipt has no extra line holding the entry", "收据缺少记载条目的 extra 行");
    verified = await policy.check(proof.checkpointNote);
    await verifyInclusion(await leafHash(proof.extra), proof.index, verified.size, proof.hashes, verified.root);
    entry = parseLoggedEntry(proof.extra);
  } catch (error) {
    report.violation(error, "receipt");
    return report;
  }
  Object.assign(report.facts, describeEntry(entry, proof.index, verified));
  if (keychainText === null || keychainText === undefined) {
    report.notice("signer_not_checked", "inclusion checked, but not the signer: no key chain was given", "已验证收录，但未验证签名人：未提供密钥链", "signer");
    report.facts.signer_checked = false;
    return report;
  }
  await report.step("signer", async () => {
    const { checkpointNote, items } = parseKeychain(keychainText);
    const chain = await policy.check(checkpointNote);
    if (chain.size === verified.size && !equal(chain.root, verified.root)) {
      throw proofError(
        `FORK: the key chain's checkpoint and the receipt's both have size ${chain.size} but other roots`,
        `分叉：密钥链与收据的检查点大小同为 ${chain.size}，树根却不同`,
      );
    }
    if (chain.size <= proof.index) {
      throw malformed(`the key chain (size ${chain.size}) is older than the receipt's entry #${proof.index}`, `密钥链（大小 ${chain.size}）早于收据中的第 ${proof.index} 条`);
    }
    const record = await checkSignerAt(await foldKeychain(checkpointNote, items), entry, proof.index);
    report.facts.signer_checked = true;
    report.facts.signer_role = record.role;
  });
  return report;
}

export function describeEntry(entry, index, verified) {
  const facts = {
    origin: verified.origin,
    checkpoint_size: verified.size,
    fingerprint: fingerprint(verified.root),
    witnesses: verified.witnesses,
    index,
    id: entry.id,
    type: entry.type,
    at: entry.at,
    signer: entry.signer,
  };
  for (const name of ["unit", "fund", "amount_fen", "month"]) if (name in entry.body) facts[name] = entry.body[name];
  return facts;
}
