// C2SP tlog-policy: the trust policy a resident pins, and checking a cosigned checkpoint
// against it (mirrors ledger/core/policy.py):
// 1. the note parses and its text is a checkpoint;
// 2. a log key of the policy whose name is the checkpoint's origin signed it;
// 3. every cosignature by a policy witness verifies (one that fails rejects the note);
// 4. the witnesses whose cosignatures verified meet the quorum.

import { VerifyError, checkpointError, policyError } from "./errors.js";
import {
  KEY_TYPE_COSIGNATURE,
  KEY_TYPE_ED25519,
  cosignatureTimestamp,
  findSignature,
  parseCheckpoint,
  parseNote,
  parseVkey,
  verifyNoteSignature,
} from "./note.js";

const NONE = "none";

export class Policy {
  constructor(logs, witnesses, groups, quorum) {
    this.logs = logs; // [{vkey, url}]
    this.witnesses = witnesses; // Map name -> {name, vkey, url}
    this.groups = groups; // Map name -> {name, spec, members}
    this.quorum = quorum;
  }

  /** Parse a tlog-policy text strictly; policy_format errors name the line. */
  static async parse(text) {
    if (typeof text !== "string") throw new VerifyError("policy_format", "policy is not text", "信任策略不是文本");
    if ([...text].some((c) => (c.charCodeAt(0) < 0x20 && c !== "\t" && c !== "\n") || c === "\x7f")) {
      throw new VerifyError("policy_format", "policy holds a control character", "信任策略含有控制字符");
    }
    const p = { logs: [], witnesses: new Map(), groups: new Map(), quorum: null };
    const lines = text.split("\n");
    for (let n = 0; n < lines.length; n++) {
      const stripped = lines[n].replace(/^[ \t]+|[ \t]+$/g, "");
      if (stripped && !stripped.startsWith("#")) await parseLine(p, n + 1, stripped.split(/[ \t]+/));
    }
    if (p.quorum === null) throw new VerifyError("policy_format", "policy has no quorum line", "信任策略缺少 quorum 行");
    return new Policy(p.logs, p.witnesses, p.groups, p.quorum);
  }

  /** Verify a cosigned checkpoint; returns {origin, size, root, note, logKey, witnesses, cosignedAt}. */
  async check(noteText) {
    const note = parseNote(noteText);
    const checkpoint = parseCheckpoint(note.text);
    const logKey = await this.checkLogSignature(note, checkpoint);
    const cosignedAt = await this.checkCosignatures(note);
    const have = new Set(cosignedAt.keys());
    if (!this.witnessed(this.quorum, have)) {
      const names = [...have].sort().join(", ");
      throw policyError(
        `checkpoint ${checkpoint.origin} @ ${checkpoint.size} does not meet the quorum: ` +
          `${this.describe(this.quorum)}; valid cosignatures from: ${names || "none"}`,
        `检查点 ${checkpoint.origin} @ ${checkpoint.size} 未达到见证法定人数：` +
          `${this.describe(this.quorum)}；有效见证签名来自：${names || "无"}`,
      );
    }
    const witnesses = [...this.witnesses.keys()].filter((name) => have.has(name));
    return { ...checkpoint, note, noteText, logKey, witnesses, cosignedAt };
  }

  async checkLogSignature(note, checkpoint) {
    const candidates = this.logs.map((l) => l.vkey).filter((k) => k.name === checkpoint.origin);
    if (!candidates.length) {
      throw policyError(`no log in the policy has origin '${checkpoint.origin}'`, `信任策略中没有来源为 '${checkpoint.origin}' 的日志`);
    }
    for (const key of candidates) {
      if (findSignature(note, key) !== null) {
        try {
          await verifyNoteSignature(note, key);
        } catch (e) {
          if (e instanceof VerifyError) throw checkpointError(`log signature: ${e.en}`, `日志签名：${e.zh}`);
          throw e;
        }
        return key;
      }
    }
    const wanted = `${candidates[0].name}+${candidates[0].keyIdHex}`;
    throw checkpointError(`checkpoint carries no signature by the log key ${wanted}`, `检查点没有日志密钥 ${wanted} 的签名`);
  }

  async checkCosignatures(note) {
    const cosignedAt = new Map();
    for (const [name, witness] of this.witnesses) {
      const sig = findSignature(note, witness.vkey);
      if (sig === null) continue;
      try {
        await verifyNoteSignature(note, witness.vkey);
      } catch (e) {
        if (e instanceof VerifyError) {
          throw checkpointError(`cosignature of witness ${name} does not verify: ${e.en}`, `见证人 ${name} 的见证签名验证失败：${e.zh}`);
        }
        throw e;
      }
      cosignedAt.set(name, cosignatureTimestamp(sig));
    }
    return cosignedAt;
  }

  witnessed(name, cosigned) {
    if (name === NONE) return true;
    if (this.witnesses.has(name)) return cosigned.has(name);
    const group = this.groups.get(name);
    const count = group.members.filter((m) => this.witnessed(m, cosigned)).length;
    return count >= threshold(group);
  }

  describe(name) {
    if (name === NONE) return NONE;
    if (this.witnesses.has(name)) return `witness ${name}`;
    const group = this.groups.get(name);
    return `${group.name} needs ${threshold(group)} of (${group.members.map((m) => this.describe(m)).join(", ")})`;
  }
}

function threshold(group) {
  if (group.spec === "all") return group.members.length;
  return group.spec === "any" ? 1 : Number(group.spec);
}

function lineError(n, en, zh) {
  return new VerifyError("policy_format", `policy line ${n}: ${en}`, `信任策略第 ${n} 行：${zh}`);
}

async function policyKey(n, text, type, role, zhRole) {
  let key;
  try {
    key = await parseVkey(text);
  } catch (e) {
    if (e instanceof VerifyError) throw lineError(n, `bad ${role} key: ${e.en}`, `${zhRole}密钥无效：${e.zh}`);
    throw e;
  }
  if (key.type !== type) {
    const got = key.type.toString(16).padStart(2, "0");
    const want = type.toString(16).padStart(2, "0");
    throw lineError(n, `${role} key ${key.name} has type 0x${got}, want 0x${want}`, `${zhRole}密钥 ${key.name} 的类型为 0x${got}，应为 0x${want}`);
  }
  return key;
}

const samePublic = (a, b) => a.every((x, i) => x === b[i]);

function newName(p, n, name) {
  if (name === NONE || p.witnesses.has(name) || p.groups.has(name)) {
    throw lineError(n, `name '${name}' is reserved or already defined`, `名称 '${name}' 已保留或已定义`);
  }
}

async function parseLine(p, n, items) {
  const [keyword, ...args] = items;
  if (keyword === "log") {
    if (args.length < 1 || args.length > 2) throw lineError(n, "want: log <vkey> [<url>]", "格式应为：log <验证密钥> [<网址>]");
    const key = await policyKey(n, args[0], KEY_TYPE_ED25519, "log", "日志");
    if (p.logs.some((l) => samePublic(l.vkey.publicKey, key.publicKey))) throw lineError(n, `duplicate log key ${key.name}`, `重复的日志密钥 ${key.name}`);
    p.logs.push({ vkey: key, url: args[1] || null });
  } else if (keyword === "witness") {
    if (args.length < 2 || args.length > 3) throw lineError(n, "want: witness <name> <vkey> [<url>]", "格式应为：witness <名称> <验证密钥> [<网址>]");
    newName(p, n, args[0]);
    const key = await policyKey(n, args[1], KEY_TYPE_COSIGNATURE, "witness", "见证人");
    if ([...p.witnesses.values()].some((w) => samePublic(w.vkey.publicKey, key.publicKey))) {
      throw lineError(n, `duplicate witness key ${key.name}`, `重复的见证人密钥 ${key.name}`);
    }
    p.witnesses.set(args[0], { name: args[0], vkey: key, url: args[2] || null });
  } else if (keyword === "group") {
    parseGroup(p, n, args);
  } else if (keyword === "quorum") {
    if (args.length !== 1) throw lineError(n, "want: quorum <name|none>", "格式应为：quorum <名称|none>");
    if (p.quorum !== null) throw lineError(n, "a policy has exactly one quorum line", "信任策略只能有一行 quorum");
    if (args[0] !== NONE && !p.witnesses.has(args[0]) && !p.groups.has(args[0])) {
      throw lineError(n, `quorum '${args[0]}' is not defined above`, `quorum '${args[0]}' 未在前面定义`);
    }
    p.quorum = args[0];
  } else {
    throw lineError(n, `unknown keyword '${keyword}'`, `未知关键字 '${keyword}'`);
  }
}

function parseGroup(p, n, args) {
  if (args.length < 3) throw lineError(n, "want: group <name> <k|all|any> <member>...", "格式应为：group <名称> <k|all|any> <成员>...");
  const [name, spec, ...members] = args;
  newName(p, n, name);
  for (const m of members) {
    if (!p.witnesses.has(m) && !p.groups.has(m)) throw lineError(n, `group member '${m}' is not defined above`, `组成员 '${m}' 未在前面定义`);
  }
  if (new Set(members).size !== members.length) throw lineError(n, `group ${name} lists a member twice`, `组 ${name} 重复列出成员`);
  if (spec !== "all" && spec !== "any" && !(/^[1-9][0-9]*$/.test(spec) && Number(spec) <= members.length)) {
    throw lineError(n, `threshold '${spec}' must be all, any or 1..${members.length}`, `门限 '${spec}' 必须是 all、any 或 1..${members.length}`);
  }
  p.groups.set(name, { name, spec, members });
}
