// Key chains (glasspocket/keychain@v1): the key history of a log, provable without the log.
// Mirrors ledger/core/keychain.py: every item's inclusion is checked against the chain's
// checkpoint, then the key entries are folded with the key rules (founding keys, key
// registration and revocation, committee approvals of treasurer/trustee keys, the
// charter's committee quorum), so a signer can be checked live at an index with its role.

import { decodeLoose } from "./b64.js";
import { VerifyError, malformed } from "./errors.js";
import { parseStrict } from "./jcs.js";
import { leafHash, verifyInclusion } from "./merkle.js";
import { KEY_TYPE_ED25519, parseCheckpoint, parseNote, parseVkey } from "./note.js";
import { parseLoggedEntry, signerRoles, verifyEntrySignature } from "./entry.js";

export const KEYCHAIN_FORMAT = "glasspocket/keychain@v1";
const KEY_TYPES = new Set(["community.founded", "key.registered", "key.revoked", "approval.signed", "charter.amended"]);
const REGISTRARS = {
  treasurer: ["committee"],
  trustee: ["committee"],
  owner: ["committee", "treasurer"],
  authority: ["authority"],
  committee: ["committee"],
};

const unknownSigner = (en, zh) => new VerifyError("unknown_signer", en, zh);
const roleNotAllowed = (en, zh) => new VerifyError("role_not_allowed", en, zh);
const violation = (entry, en, zh, code = "rule_violation") => new VerifyError(code, `entry ${entry.id}: ${en}`, `条目 ${entry.id}：${zh}`);

/** {checkpointNote, items: [{index, entryBytes, proof}]}; strict about the shape. */
export function parseKeychain(text) {
  const data = parseStrict(text);
  const bad = () => malformed("not a glasspocket key chain", "不是 glasspocket 密钥链文件");
  const keys = (o) => Object.keys(o).sort().join(",");
  if (data === null || typeof data !== "object" || data.format !== KEYCHAIN_FORMAT) throw bad();
  if (keys(data) !== "checkpoint,entries,format" || typeof data.checkpoint !== "string" || !Array.isArray(data.entries)) throw bad();
  const items = data.entries.map((raw) => {
    if (raw === null || typeof raw !== "object" || keys(raw) !== "entry,index,proof" || !Number.isInteger(raw.index)) throw bad();
    try {
      return { index: raw.index, entryBytes: decodeLoose(raw.entry), proof: raw.proof.map(decodeLoose) };
    } catch {
      throw bad();
    }
  });
  return { checkpointNote: data.checkpoint, items };
}

class KeyState {
  constructor() {
    this.keys = new Map(); // name -> {vkey, role, registeredAt, revokedAt, effectiveAt}
    this.community = null;
    this.charterQuorum = null;
    this.pending = new Map(); // registration entry id -> key name
    this.approvals = new Map(); // key name -> Set of approvers
    this.ids = new Set();
  }
  liveCommittee() {
    return [...this.keys.values()].filter((k) => k.revokedAt === null && k.role === "committee").map((k) => k.vkey.name);
  }
  committeeQuorum() {
    return this.charterQuorum !== null ? this.charterQuorum : Math.floor(this.liveCommittee().length / 2) + 1;
  }
  approvalCount(names) {
    const live = new Set(this.liveCommittee());
    return [...names].filter((n) => live.has(n)).length;
  }
}

/** A key signs validly at `index` if in effect before it and not revoked before it. */
export function validAt(record, index) {
  if (record.effectiveAt === null) return false;
  const inEffect = record.effectiveAt < index || (record.effectiveAt === index && index === 0);
  return inEffect && (record.revokedAt === null || index <= record.revokedAt);
}

/** Check every item's inclusion in the checkpoint, then fold the key entries by the rules. */
export async function foldKeychain(checkpointNote, items) {
  const checkpoint = parseCheckpoint(parseNote(checkpointNote).text);
  const state = new KeyState();
  let previous = -1;
  for (const item of items) {
    if (item.index <= previous || item.index >= checkpoint.size) {
      throw malformed("key chain indices must rise and lie inside the checkpoint", "密钥链的序号必须递增且在检查点范围内");
    }
    previous = item.index;
    await verifyInclusion(await leafHash(item.entryBytes), item.index, checkpoint.size, item.proof, checkpoint.root);
    const entry = parseLoggedEntry(item.entryBytes);
    if (!KEY_TYPES.has(entry.type)) {
      throw malformed(`entry ${entry.id} (${entry.type}) does not belong in a key chain`, `条目 ${entry.id}（${entry.type}）不应出现在密钥链中`);
    }
    await applyKeyEntry(state, entry, item.index);
  }
  return state;
}

async function actorKey(vkey, entry) {
  let key;
  try {
    key = await parseVkey(vkey);
  } catch (e) {
    throw violation(entry, `bad key '${vkey}': ${e.en || e}`, `密钥 '${vkey}' 无效：${e.zh || e}`);
  }
  if (key.type !== KEY_TYPE_ED25519 || !key.name.startsWith(`${entry.community}/`)) {
    throw violation(entry, `actor key ${key.name} must be Ed25519 (type 1) named '${entry.community}/<handle>'`, `成员密钥 ${key.name} 须为 Ed25519（类型 1），名称形如 '${entry.community}/<代号>'`);
  }
  return key;
}

async function applyKeyEntry(state, entry, index) {
  if (entry.type === "community.founded") {
    if (index !== 0) throw violation(entry, "community.founded is index 0 only", "创始条目只能是第 0 条", "genesis");
    await applyFounded(state, entry);
    state.ids.add(entry.id);
    return;
  }
  if (index === 0 || state.community === null) throw violation(entry, "index 0 must be community.founded", "第 0 条必须是创始条目", "genesis");
  if (entry.community !== state.community) {
    throw new VerifyError("wrong_community", `entry ${entry.id} belongs to community '${entry.community}', not '${state.community}'`, `条目 ${entry.id} 属于小区 '${entry.community}'，而非 '${state.community}'`);
  }
  const record = await checkSignerAt(state, entry, index);
  if (state.ids.has(entry.id)) throw violation(entry, "id already used", "编号已被使用", "duplicate_id");
  state.ids.add(entry.id);
  const rule = { "key.registered": keyRegistered, "key.revoked": keyRevoked, "approval.signed": approval, "charter.amended": charter }[entry.type];
  await rule(state, entry, index, record);
}

async function applyFounded(state, entry) {
  const names = new Set();
  const publics = new Set();
  const records = [];
  for (const item of entry.body.keys) {
    const key = await actorKey(item.vkey, entry);
    const pub = key.publicKey.join(",");
    if (names.has(key.name) || publics.has(pub)) throw violation(entry, `key ${key.name} listed twice`, `密钥 ${key.name} 重复列出`, "key_conflict");
    names.add(key.name);
    publics.add(pub);
    records.push({ vkey: key, role: item.role, registeredAt: 0, revokedAt: null, effectiveAt: 0 });
  }
  const founder = records.find((r) => r.vkey.name === entry.signer && r.vkey.keyIdHex === entry.key_id);
  if (!founder || founder.role !== "committee") {
    throw unknownSigner(`entry ${entry.id}: the founding entry must be signed by one of its committee keys`, `条目 ${entry.id}：创始条目必须由其中列出的业委会密钥签名`);
  }
  await verifyEntrySignature(entry, founder.vkey);
  state.community = entry.community;
  for (const r of records) state.keys.set(r.vkey.name, r);
  const quorum = entry.body.charter && entry.body.charter.committee_quorum;
  if (quorum !== undefined) state.charterQuorum = quorum;
}

async function keyRegistered(state, entry, index, registrar) {
  const key = await actorKey(entry.body.vkey, entry);
  const role = entry.body.role;
  if (role !== "committee" && "election_id" in entry.body) throw violation(entry, "only committee keys cite an election", "只有业委会密钥须引用选举");
  if (!REGISTRARS[role].includes(registrar.role)) {
    throw violation(entry, `a ${registrar.role} key may not register a ${role} key`, `${registrar.role} 角色无权登记 ${role} 角色的密钥`, "role_not_allowed");
  }
  if ((role === "owner") !== ("owner" in entry.body)) throw violation(entry, "owner keys, and only they, name an owner reference", "只有业主密钥须注明业主编号");
  const pub = key.publicKey.join(",");
  if (state.keys.has(key.name) || [...state.keys.values()].some((k) => k.vkey.publicKey.join(",") === pub)) {
    throw violation(entry, `key ${key.name} is already registered`, `密钥 ${key.name} 已登记`, "key_conflict");
  }
  const record = { vkey: key, role, registeredAt: index, revokedAt: null, effectiveAt: index };
  state.keys.set(key.name, record);
  if (role === "treasurer" || role === "trustee") {
    const approvers = new Set([entry.signer]);
    state.approvals.set(key.name, approvers);
    if (state.approvalCount(approvers) < state.committeeQuorum()) {
      record.effectiveAt = null;
      state.pending.set(entry.id, key.name);
    }
  }
}

async function keyRevoked(state, entry, index, registrar) {
  const name = entry.body.name;
  const record = state.keys.get(name);
  if (!record || record.revokedAt !== null) throw violation(entry, `key ${name} is not a live key`, `密钥 ${name} 不是有效密钥`, "key_conflict");
  const allowed = name === entry.signer || (record.role === "authority" ? registrar.role === "authority" : registrar.role === "committee");
  if (!allowed) throw violation(entry, `a ${registrar.role} key may not revoke ${name}`, `${registrar.role} 角色无权吊销 ${name}`, "role_not_allowed");
  if (record.role === "committee" && state.liveCommittee().length === 1) {
    throw violation(entry, "the last committee key cannot be revoked", "不能吊销最后一把业委会密钥");
  }
  record.revokedAt = index;
}

async function approval(state, entry, index) {
  const subject = entry.body.subject_id;
  if (!state.pending.has(subject)) {
    throw malformed(`entry ${entry.id}: the key chain holds an approval of no pending key`, `条目 ${entry.id}：密钥链中的批准不针对待生效密钥`);
  }
  const name = state.pending.get(subject);
  const approvers = state.approvals.get(name) || new Set();
  if (approvers.has(entry.signer)) throw violation(entry, "this member already approved that key", "该委员已批准过此密钥");
  approvers.add(entry.signer);
  state.approvals.set(name, approvers);
  const record = state.keys.get(name);
  if (record.effectiveAt === null && state.approvalCount(approvers) >= state.committeeQuorum()) {
    record.effectiveAt = index;
    state.pending.delete(subject);
  }
}

async function charter(state, entry, index) {
  // Its vote is not in the chain (the full audit checks it); here: signer, role, quorum.
  if (entry.body.committee_quorum !== undefined) state.charterQuorum = entry.body.committee_quorum;
  for (const [registration, name] of [...state.pending]) {
    if (state.approvalCount(state.approvals.get(name) || new Set()) >= state.committeeQuorum()) {
      state.keys.get(name).effectiveAt = index;
      state.pending.delete(registration);
    }
  }
}

/** The signer is a live key at `index` under that key id, it signed, and its role may make the type. */
export async function checkSignerAt(state, entry, index) {
  const record = state.keys.get(entry.signer);
  if (!record || record.vkey.keyIdHex !== entry.key_id || !validAt(record, index)) {
    throw unknownSigner(`entry ${entry.id}: signer ${entry.signer} is not a live key at index ${index}`, `条目 ${entry.id}：签名人 ${entry.signer} 在第 ${index} 条时不是有效密钥`);
  }
  await verifyEntrySignature(entry, record.vkey);
  if (!signerRoles(entry.type).includes(record.role)) {
    throw roleNotAllowed(`entry ${entry.id}: a ${record.role} key may not make ${entry.type}`, `条目 ${entry.id}：${record.role} 角色的密钥无权记录 ${entry.type}`);
  }
  return record;
}
