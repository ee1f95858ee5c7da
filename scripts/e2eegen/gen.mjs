#!/usr/bin/env node
// Independent Letter Sealing (LINE E2EE) test-vector generator / checker.
// Written from the public peers' algorithms (see README.md next to this file),
// not from linectl's own Go code. Node >= 18, no npm dependencies.
//
//   node scripts/e2eegen/gen.mjs generate  > testdata/e2ee/vectors.json
//   node scripts/e2eegen/gen.mjs selfcheck        (run from the repo root)
//   node scripts/e2eegen/gen.mjs open < cases.json
import crypto from 'node:crypto';
import fs from 'node:fs';
import process from 'node:process';

// ---------------------------------------------------------------- primitives
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

function need32(b, what) {
  if (!Buffer.isBuffer(b) || b.length !== 32) throw new Error(`${what}: want 32 bytes, got ${b ? b.length : 'none'}`);
  return b;
}
function privObj(priv) {
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, need32(priv, 'X25519 private key')]), format: 'der', type: 'pkcs8' });
}
function pubObj(pub) {
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_X25519, need32(pub, 'X25519 public key')]), format: 'der', type: 'spki' });
}
function x25519Public(priv) {
  const der = crypto.createPublicKey(privObj(priv)).export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - 32));
}
function x25519(priv, pub) {
  return crypto.diffieHellman({ privateKey: privObj(priv), publicKey: pubObj(pub) });
}
function clamp(k) {
  const c = Buffer.from(k);
  c[0] &= 248; c[31] &= 127; c[31] |= 64;
  return c;
}
function sha256(...parts) {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
  return h.digest();
}
function xorfold16(b) {
  if (b.length !== 32) throw new Error('xorfold16 wants 32 bytes');
  const o = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) o[i] = b[i] ^ b[i + 16];
  return o;
}
function be32(n) { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; }
const b64 = (b) => Buffer.from(b).toString('base64');
function unb64(s, what) {
  if (typeof s !== 'string') throw new Error(`${what}: not a base64 string`);
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) throw new Error(`${what}: not canonical standard base64`);
  return b;
}
function pkcs7Pad(b) {
  const n = 16 - (b.length % 16);
  return Buffer.concat([b, Buffer.alloc(n, n)]);
}
function pkcs7Unpad(b) {
  if (b.length === 0 || b.length % 16 !== 0) throw new Error(`PKCS#7: bad length ${b.length}`);
  const n = b[b.length - 1];
  if (n < 1 || n > 16) throw new Error(`PKCS#7: bad pad byte ${n}`);
  for (let i = b.length - n; i < b.length; i++) if (b[i] !== n) throw new Error('PKCS#7: inconsistent padding');
  return b.subarray(0, b.length - n);
}
function cbcRaw(encrypt, key, iv, data) {
  const c = encrypt ? crypto.createCipheriv('aes-256-cbc', key, iv) : crypto.createDecipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}
function ecbBlock(key, block16) {
  const c = crypto.createCipheriv('aes-256-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block16), c.final()]);
}

// "wrap": the key-chain and group-key CBC (no salt).
function wrapKeyIv(s) { return { key: sha256(s, 'Key'), iv: xorfold16(sha256(s, 'IV')) }; }
function wrap(s, plain) { const { key, iv } = wrapKeyIv(s); return cbcRaw(true, key, iv, pkcs7Pad(plain)); }
function unwrap(s, ct) {
  if (ct.length === 0 || ct.length % 16 !== 0) throw new Error(`wrapped data length ${ct.length} is not a positive multiple of 16`);
  const { key, iv } = wrapKeyIv(s);
  return pkcs7Unpad(cbcRaw(false, key, iv, ct));
}
function hashKeyChain(s, encryptedKeyChain) {
  return ecbBlock(sha256(s, 'Key'), xorfold16(sha256(encryptedKeyChain)));
}

// ---------------------------------------------------------------- AAD
function aadMid(mid, form) {
  const raw = Buffer.from(mid, 'utf8');
  if (form === 'as-carried') return raw;
  if (form === 'lower33') {
    const o = Buffer.alloc(33);
    for (let i = 0; i < Math.min(33, raw.length); i++) {
      let c = raw[i];
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      o[i] = c;
    }
    return o;
  }
  throw new Error(`unknown AAD form ${form}`);
}
function buildAAD(form, to, from, senderKeyId, receiverKeyId, contentType) {
  return Buffer.concat([aadMid(to, form), aadMid(from, form), be32(senderKeyId), be32(receiverKeyId), be32(2), be32(contentType)]);
}

// ---------------------------------------------------------------- seal / open
function sealV1(s, salt, plain) {
  const key = sha256(s, salt, 'Key');
  const iv = xorfold16(sha256(s, salt, 'IV'));
  const ct = cbcRaw(true, key, iv, pkcs7Pad(plain));
  const mac = ecbBlock(key, xorfold16(sha256(ct)));
  return [salt, ct, mac];
}
function sealV2(s, salt, nonce, aad, plain) {
  const key = sha256(s, salt, 'Key');
  const g = crypto.createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  g.setAAD(aad);
  const ct = Buffer.concat([g.update(plain), g.final(), g.getAuthTag()]);
  return [salt, ct, nonce];
}
function openV1(s, salt, ct, mac) {
  if (salt.length !== 8) throw new Error(`V1 salt is ${salt.length} bytes, want 8`);
  if (mac.length !== 16) throw new Error(`V1 MAC is ${mac.length} bytes, want 16`);
  if (ct.length === 0 || ct.length % 16 !== 0) throw new Error(`V1 ciphertext length ${ct.length} not a positive multiple of 16`);
  const key = sha256(s, salt, 'Key');
  const want = ecbBlock(key, xorfold16(sha256(ct)));
  if (!crypto.timingSafeEqual(want, mac)) throw new Error('V1 MAC mismatch');
  const iv = xorfold16(sha256(s, salt, 'IV'));
  return pkcs7Unpad(cbcRaw(false, key, iv, ct));
}
function openV2(s, salt, ctTag, nonce, aad) {
  if (salt.length !== 16) throw new Error(`V2 salt is ${salt.length} bytes, want 16`);
  if (nonce.length !== 12 && nonce.length !== 16) throw new Error(`V2 nonce is ${nonce.length} bytes, want 12 (or 16)`);
  if (ctTag.length < 16) throw new Error('V2 ciphertext shorter than the GCM tag');
  const key = sha256(s, salt, 'Key');
  const d = crypto.createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  d.setAAD(aad);
  d.setAuthTag(ctTag.subarray(ctTag.length - 16));
  const out = d.update(ctTag.subarray(0, ctTag.length - 16));
  try { d.final(); } catch { throw new Error('V2 GCM tag mismatch'); }
  return out;
}
const utf8 = new TextDecoder('utf-8', { fatal: true });

// Opens a message given the X25519 secret. Returns {version, aad, payload, text, senderKeyId, receiverKeyId}.
function openMessage(msg, s) {
  if (!msg || typeof msg !== 'object') throw new Error('message is not an object');
  const ch = msg.chunks;
  if (!Array.isArray(ch) || ch.length !== 5) throw new Error(`want 5 chunks, got ${Array.isArray(ch) ? ch.length : 'none'}`);
  const b = ch.map((c, i) => unb64(c, `chunk ${i}`));
  if (b[3].length !== 4 || b[4].length !== 4) throw new Error(`key-id chunks must be 4 bytes (got ${b[3].length}, ${b[4].length})`);
  const senderKeyId = b[3].readUInt32BE(0), receiverKeyId = b[4].readUInt32BE(0);
  const version = msg.contentMetadata && msg.contentMetadata.e2eeVersion;
  const contentType = msg.contentType === undefined ? 0 : msg.contentType;
  if (!Number.isInteger(contentType)) throw new Error('contentType is not an integer');
  let payload, aadForm;
  if (version === '1') {
    payload = openV1(s, b[0], b[1], b[2]);
    aadForm = '';
  } else if (version === '2') {
    if (typeof msg.from !== 'string' || typeof msg.to !== 'string') throw new Error('V2 needs from and to');
    let lastErr;
    for (const form of ['lower33', 'as-carried']) {
      try {
        payload = openV2(s, b[0], b[1], b[2], buildAAD(form, msg.to, msg.from, senderKeyId, receiverKeyId, contentType));
        aadForm = form;
        break;
      } catch (e) { lastErr = e; }
    }
    if (!payload) throw lastErr;
  } else {
    throw new Error(`unsupported contentMetadata.e2eeVersion ${JSON.stringify(version)}`);
  }
  let str;
  try { str = utf8.decode(payload); } catch { throw new Error('payload is not valid UTF-8'); }
  let obj;
  try { obj = JSON.parse(str); } catch { throw new Error('payload is not JSON'); }
  if (!obj || typeof obj.text !== 'string') throw new Error('payload JSON has no string "text"');
  return { version, aad: aadForm, payload: str, text: obj.text, senderKeyId, receiverKeyId };
}

// ---------------------------------------------------------------- Thrift compact (E2EEKeyChain)
function varint(n) { // n: BigInt >= 0
  const out = [];
  do { let b = Number(n & 0x7fn); n >>= 7n; if (n) b |= 0x80; out.push(b); } while (n);
  return Buffer.from(out);
}
const zz32 = (n) => BigInt(((n << 1) ^ (n >> 31)) >>> 0);
const zz64 = (n) => { n = BigInt(n); return BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)); };
function encodeKeyChain(keys) {
  const parts = [Buffer.from([0x19])]; // field 1, list
  if (keys.length < 15) parts.push(Buffer.from([(keys.length << 4) | 0x0c]));
  else parts.push(Buffer.from([0xfc]), varint(BigInt(keys.length)));
  for (const k of keys) {
    parts.push(Buffer.from([0x15]), varint(zz32(k.version)));          // 1: i32 version
    parts.push(Buffer.from([0x15]), varint(zz32(k.keyId)));            // 2: i32 keyId
    parts.push(Buffer.from([0x28]), varint(BigInt(k.public.length)), k.public);   // 4: binary publicKey
    parts.push(Buffer.from([0x18]), varint(BigInt(k.private.length)), k.private); // 5: binary privateKey
    parts.push(Buffer.from([0x16]), varint(zz64(k.createdTime)));      // 6: i64 createdTime
    parts.push(Buffer.from([0x00]));
  }
  parts.push(Buffer.from([0x00]));
  return Buffer.concat(parts);
}
class CompactReader {
  constructor(buf) { this.b = buf; this.p = 0; }
  byte() { if (this.p >= this.b.length) throw new Error('thrift: truncated'); return this.b[this.p++]; }
  uvarint() { let r = 0n, sh = 0n; for (;;) { const x = this.byte(); r |= BigInt(x & 0x7f) << sh; if (!(x & 0x80)) return r; sh += 7n; if (sh > 70n) throw new Error('thrift: varint too long'); } }
  zigzag() { const u = this.uvarint(); return (u >> 1n) ^ -(u & 1n); }
  bytes(n) { if (this.p + n > this.b.length) throw new Error('thrift: truncated binary'); const o = this.b.subarray(this.p, this.p + n); this.p += n; return Buffer.from(o); }
  value(t, depth = 0) {
    if (depth > 32) throw new Error('thrift: nesting too deep');
    switch (t) {
      case 1: return true; case 2: return false;
      case 3: return this.byte();
      case 4: case 5: return Number(this.zigzag());
      case 6: return this.zigzag();
      case 7: return this.bytes(8);
      case 8: return this.bytes(Number(this.uvarint()));
      case 9: case 10: {
        const h = this.byte(); let n = h >> 4; const et = h & 0x0f;
        if (n === 15) n = Number(this.uvarint());
        const out = []; for (let i = 0; i < n; i++) out.push(et === 1 || et === 2 ? this.byte() === 1 : this.value(et, depth + 1));
        return out;
      }
      case 11: {
        const n = Number(this.uvarint()); if (n === 0) return new Map();
        const kv = this.byte(); const m = new Map();
        for (let i = 0; i < n; i++) m.set(this.value(kv >> 4, depth + 1), this.value(kv & 0x0f, depth + 1));
        return m;
      }
      case 12: return this.struct(depth + 1);
      default: throw new Error(`thrift: unknown type ${t}`);
    }
  }
  struct(depth = 0) {
    const f = {}; let last = 0;
    for (;;) {
      const h = this.byte(); if (h === 0) return f;
      const t = h & 0x0f, d = h >> 4;
      const id = d ? last + d : Number(this.zigzag());
      last = id; f[id] = this.value(t, depth);
    }
  }
}
function decodeKeyChain(buf) {
  const r = new CompactReader(buf);
  const top = r.struct();
  const list = top[1];
  if (!Array.isArray(list)) throw new Error('key chain: field 1 is not a list');
  return { consumed: r.p, keys: list.map((k, i) => {
    if (typeof k !== 'object' || !Buffer.isBuffer(k[4]) || !Buffer.isBuffer(k[5]) || typeof k[2] !== 'number') throw new Error(`key chain entry ${i} malformed`);
    return { version: k[1], keyId: k[2], public: k[4], private: k[5], createdTime: k[6] };
  }) };
}
function openKeyChain(loginPrivate, metaData) {
  if (!metaData || typeof metaData !== 'object') throw new Error('no metaData');
  const s = x25519(unb64(loginPrivate, 'loginPrivate'), unb64(metaData.publicKey, 'metaData.publicKey'));
  const enc = unb64(metaData.encryptedKeyChain, 'metaData.encryptedKeyChain');
  const plain = unwrap(s, enc);
  const { consumed, keys } = decodeKeyChain(plain);
  if (consumed !== plain.length) throw new Error(`key chain: ${plain.length - consumed} trailing bytes after the Thrift struct`);
  return { s, enc, plain, keys };
}

// ---------------------------------------------------------------- deterministic inputs
const TEXT = "Letter Sealing xcheck: héllo 世界 🙂 \"quoted\" \\ back\nline 2";
const keyFor = (label) => clamp(sha256('linectl-e2ee-vectors/key/' + label));
const rand = (vector, what, n) => sha256(`linectl-e2ee-vectors/rand/${vector}/${what}`).subarray(0, n);
const CREATED = 1773625290000n;

const ACCOUNTS = {
  A: { mid: 'u344ecddfdf88ed86af6ca6c90c57922a', upper: 'U344ecddfdf88ed86af6ca6c90c57922a', keys: [[1000, 'A1000'], [1001, 'A1001']] },
  B: { mid: 'u68862805245b88d04979403b71ff821d', upper: 'U68862805245b88d04979403b71ff821d', keys: [[2001, 'B2001'], [2002, 'B2002']] },
  C: { mid: 'u9c0ffee0000000000000000000000c0c', keys: [[3003, 'C3003']] },
};
const GROUPS = {
  c4641a382f6382278929b897825f234a9: { label: 'G', keys: [[6, 'G6', 2], [7, 'G7', 2]] },
  c1111111111111111111111111111111a: { label: 'H', keys: [[9, 'H9', 1]] },
};
const G = 'c4641a382f6382278929b897825f234a9', H = 'c1111111111111111111111111111111a';

function keyPair(label) { const priv = keyFor(label); return { private: priv, public: x25519Public(priv) }; }
function acctKey(acct, keyId) {
  const e = ACCOUNTS[acct].keys.find(([id]) => id === keyId);
  if (!e) throw new Error(`no key ${keyId} for ${acct}`);
  return keyPair(e[1]);
}
function groupKey(chat, keyId) {
  const e = GROUPS[chat].keys.find(([id]) => id === keyId);
  if (!e) throw new Error(`no group key ${keyId} for ${chat}`);
  return { ...keyPair(e[1]), specVersion: e[2] };
}

function makeMessage(spec) {
  const { name, from, to, toType, version, senderKeyId, receiverKeyId, secret, aad, nonceLen = 12 } = spec;
  const plain = Buffer.from(JSON.stringify({ text: TEXT }), 'utf8');
  let parts;
  if (version === 1) {
    parts = sealV1(secret, rand(name, 'salt', 8), plain);
  } else {
    const a = buildAAD(aad, to, from, senderKeyId, receiverKeyId, 0);
    parts = sealV2(secret, rand(name, 'salt', 16), rand(name, 'nonce', nonceLen), a, plain);
  }
  return {
    name, desc: spec.desc, recipient: spec.recipient, aad: version === 1 ? '' : aad,
    message: {
      from, to, toType, contentType: 0, contentMetadata: { e2eeVersion: String(version) },
      chunks: [...parts, be32(senderKeyId), be32(receiverKeyId)].map(b64),
    },
    text: TEXT,
  };
}

function generate() {
  const A = ACCOUNTS.A, B = ACCOUNTS.B, C = ACCOUNTS.C;
  const accounts = {};
  for (const [lab, a] of Object.entries(ACCOUNTS)) {
    accounts[lab] = { mid: a.mid, keys: a.keys.map(([id, l]) => { const k = keyPair(l); return { keyId: id, private: b64(k.private), public: b64(k.public) }; }) };
  }
  const groups = {};
  for (const [chat, g] of Object.entries(GROUPS)) {
    groups[chat] = g.keys.map(([id, l, sv]) => { const k = keyPair(l); return { groupKeyId: id, private: b64(k.private), public: b64(k.public), specVersion: sv }; });
  }

  const groupSharedKeys = [];
  const receivers = [['B', 2002], ['C', 3003], ['A', 1001]];
  for (const [rcv, rcvKeyId] of receivers) {
    for (const [chat, gid, creatorKeyId] of [[G, 7, 1000], [G, 6, 1001], [H, 9, 1001]]) {
      const gk = groupKey(chat, gid);
      const s = x25519(acctKey('A', creatorKeyId).private, acctKey(rcv, rcvKeyId).public);
      groupSharedKeys.push({
        chatMid: chat, keyVersion: 1, groupKeyId: gid, creator: A.mid, creatorKeyId,
        receiver: ACCOUNTS[rcv].mid, receiverKeyId: rcvKeyId,
        encryptedSharedKey: b64(wrap(s, gk.private)), allowedTypes: [0, 15], specVersion: gk.specVersion,
      });
    }
  }

  const u = (name, desc, o) => {
    const sk = acctKey(o.sender, o.senderKeyId), rk = acctKey(o.receiver, o.receiverKeyId);
    return makeMessage({ name, desc, recipient: o.receiver, from: o.from ?? ACCOUNTS[o.sender].mid, to: o.to ?? ACCOUNTS[o.receiver].mid,
      toType: 0, version: o.version ?? 2, senderKeyId: o.senderKeyId, receiverKeyId: o.receiverKeyId,
      secret: x25519(sk.private, rk.public), aad: o.aad ?? 'lower33', nonceLen: o.nonceLen });
  };
  const g = (name, desc, o) => {
    const sk = acctKey(o.sender, o.senderKeyId), gk = groupKey(o.chat, o.groupKeyId);
    return makeMessage({ name, desc, recipient: o.recipient ?? 'B', from: ACCOUNTS[o.sender].mid, to: o.chat,
      toType: 2, version: o.version ?? 2, senderKeyId: o.senderKeyId, receiverKeyId: o.groupKeyId,
      secret: x25519(gk.private, sk.public), aad: 'lower33' });
  };
  const messages = [
    u('v2_user_lower', 'V2 1:1 A(1001) -> B(2002), lower-case MIDs; AAD lower33 (identical to as-carried for lower-case 33-char MIDs)', { sender: 'A', senderKeyId: 1001, receiver: 'B', receiverKeyId: 2002 }),
    u('v2_user_upper', 'V2 1:1 A(1001) -> B(2002) with the gateway\'s upper-case U-form MIDs in from/to; sealed with the lower33 AAD (beeper)', { sender: 'A', senderKeyId: 1001, receiver: 'B', receiverKeyId: 2002, from: A.upper, to: B.upper }),
    u('v2_user_upper_as_carried', 'V2 1:1 A(1001) -> B(2002), U-form MIDs, sealed with the MIDs exactly as carried in the AAD (CHRLINE/linejs); lower33 must fail, as-carried must succeed', { sender: 'A', senderKeyId: 1001, receiver: 'B', receiverKeyId: 2002, from: A.upper, to: B.upper, aad: 'as-carried' }),
    u('v1_user', 'V1 (AES-256-CBC + AES-ECB MAC) 1:1 A(1001) -> B(2002)', { sender: 'A', senderKeyId: 1001, receiver: 'B', receiverKeyId: 2002, version: 1 }),
    u('v2_user_old_sender_key', 'V2 1:1 sealed with A\'s OLDER key 1000 -> B(2002); receiver must fetch A\'s key 1000 by id', { sender: 'A', senderKeyId: 1000, receiver: 'B', receiverKeyId: 2002 }),
    u('v2_user_to_old_receiver_key', 'V2 1:1 A(1001) -> B\'s OLDER key 2001; B must open with its private key 2001 from the key chain', { sender: 'A', senderKeyId: 1001, receiver: 'B', receiverKeyId: 2001 }),
    u('v2_user_nonce16', 'V2 1:1 A(1001) -> B(2002) with a 16-byte GCM nonce (CHRLINE uses os.urandom(16))', { sender: 'A', senderKeyId: 1001, receiver: 'B', receiverKeyId: 2002, nonceLen: 16 }),
    g('v2_group', 'V2 group A(1001) -> G with group key 7 (current); secret X25519(groupPriv7, APub1001)', { sender: 'A', senderKeyId: 1001, chat: G, groupKeyId: 7 }),
    g('v2_group_old_group_key', 'V2 group A(1001) -> G with the OLDER group key 6', { sender: 'A', senderKeyId: 1001, chat: G, groupKeyId: 6 }),
    g('v1_group', 'V1 group A(1001) -> H with group key 9 (specVersion 1 group)', { sender: 'A', senderKeyId: 1001, chat: H, groupKeyId: 9, version: 1 }),
    g('v2_group_from_C', 'V2 group C(3003) -> G with group key 7, opened by B (sender is not the group key creator)', { sender: 'C', senderKeyId: 3003, chat: G, groupKeyId: 7 }),
    u('v2_user_from_B_to_A', 'V2 1:1 B(2002) -> A(1001), opened by A', { sender: 'B', senderKeyId: 2002, receiver: 'A', receiverKeyId: 1001 }),
  ];

  const login = keyPair('login'), server = keyPair('server');
  const kc = (name, desc, order) => {
    const keys = order.map((id) => { const k = acctKey('A', id); return { version: 1, keyId: id, public: k.public, private: k.private, createdTime: CREATED }; });
    const enc = wrap(x25519(server.private, login.public), encodeKeyChain(keys));
    const latest = Math.max(...order);
    return {
      name, desc, loginPrivate: b64(login.private), loginPublic: b64(login.public), serverPrivate: b64(server.private),
      metaData: { keyId: String(latest), encryptedKeyChain: b64(enc), publicKey: b64(server.public), e2eeVersion: '1', errorCode: '0' },
      expectKeys: keys.map((k) => ({ keyId: k.keyId, version: 1, public: b64(k.public), private: b64(k.private) })),
      latestKeyId: latest,
      hashKeyChain: b64(hashKeyChain(x25519(login.private, server.public), enc)),
    };
  };
  const keyChains = [
    kc('keychain_pkcs7', 'A\'s key chain [1000, 1001] (Thrift compact E2EEKeyChain, PKCS#7, AES-256-CBC with X25519(serverPriv, loginPub)), createdTime 1773625290000', [1000, 1001]),
    kc('keychain_unsorted', 'A\'s key chain in order [1001, 1000]: the current (highest) keyId is NOT the last entry', [1001, 1000]),
  ];
  const shared = loadShared();
  if (shared.data) keyChains.push(sharedKeyChain(shared.data));

  return {
    comment: 'Letter Sealing (LINE E2EE) test vectors made by scripts/e2eegen/gen.mjs, an independent generator written from the public peers\' algorithms ' +
      '(beeper/line pkg/ltsm/crypto.go + pkg/e2ee/manager.go, DeachSword/CHRLINE CHRLINE/e2ee.py, evex-dev/linejs base/e2ee, NiceDayZc/OkLine okline/e2ee.py; see scripts/e2eegen/README.md), ' +
      'not from linectl\'s code. Private keys = clamp(SHA-256("linectl-e2ee-vectors/key/" + label)); salts/nonces = SHA-256("linectl-e2ee-vectors/rand/" + vector + "/" + what) prefixes. ' +
      'All byte strings are standard base64. Message plaintext = JSON.stringify({text}).',
    text: TEXT,
    accounts, groups, groupSharedKeys, messages, keyChains,
  };
}

// The shared file's key chain, re-encoded from its own inputs (keys, createdTime, login/server keys).
function sharedKeyChain(sh) {
  const v = sh.vectors.keychain_pkcs7;
  const dec = decodeKeyChain(unb64(v.thrift, 'shared thrift'));
  const keys = dec.keys;
  const enc = wrap(x25519(unb64(sh.keys.server.private), unb64(sh.keys.login.public)), encodeKeyChain(keys));
  const latest = Math.max(...keys.map((k) => k.keyId));
  return {
    name: 'shared_keychain',
    desc: 'the key chain of testdata/e2ee/earlier-vectors.json (keychain_pkcs7) re-encoded from its inputs: keys, createdTime ' + keys.map((k) => String(k.createdTime)).join('/') + ', login and server keys',
    loginPrivate: sh.keys.login.private, loginPublic: sh.keys.login.public, serverPrivate: sh.keys.server.private,
    metaData: { keyId: String(latest), encryptedKeyChain: b64(enc), publicKey: sh.keys.server.public, e2eeVersion: '1', errorCode: '0' },
    expectKeys: keys.map((k) => ({ keyId: k.keyId, version: k.version, public: b64(k.public), private: b64(k.private) })),
    latestKeyId: latest,
    hashKeyChain: b64(hashKeyChain(x25519(unb64(sh.keys.login.private), unb64(sh.keys.server.public)), enc)),
  };
}

function loadShared() {
  // An earlier independent generator's vectors, kept in the repository (a clone has nothing beside it).
  const p = process.env.E2EE_SHARED_VECTORS || 'testdata/e2ee/earlier-vectors.json';
  try { return { path: p, data: JSON.parse(fs.readFileSync(p, 'utf8')) }; } catch (e) { return { path: p, err: e }; }
}
const render = (o) => JSON.stringify(o, null, 1) + '\n';

// ---------------------------------------------------------------- selfcheck
function selfcheck() {
  let fails = 0, oks = 0;
  const check = (what, fn) => {
    try { const r = fn(); if (r !== true) throw new Error(r || 'mismatch'); oks++; console.log(`ok   ${what}`); } catch (e) { fails++; console.log(`FAIL ${what}: ${e.message}`); }
  };
  const eq = (a, b, what) => { if (a !== b) throw new Error(`${what}: got ${a}, want ${b}`); return true; };

  // --- our own file
  const ownPath = 'testdata/e2ee/vectors.json';
  let own;
  check(`${ownPath} parses`, () => { own = JSON.parse(fs.readFileSync(ownPath, 'utf8')); return true; });
  if (own) {
    check(`${ownPath} equals a fresh generate (deterministic)`, () => {
      const fileText = fs.readFileSync(ownPath, 'utf8');
      return render(generate()) === fileText || 'file differs from generate output; regenerate it';
    });
    const byMid = {};
    for (const [lab, a] of Object.entries(own.accounts)) byMid[a.mid.toLowerCase()] = lab;
    const ak = (lab, id) => { const k = own.accounts[lab].keys.find((x) => x.keyId === id); if (!k) throw new Error(`no key ${lab}/${id}`); return k; };
    for (const [lab, a] of Object.entries(own.accounts)) for (const k of a.keys)
      check(`account ${lab} key ${k.keyId} public matches private`, () => eq(b64(x25519Public(unb64(k.private))), k.public, 'public'));
    for (const [chat, ks] of Object.entries(own.groups)) for (const k of ks)
      check(`group ${chat} key ${k.groupKeyId} public matches private`, () => eq(b64(x25519Public(unb64(k.private))), k.public, 'public'));
    for (const gsk of own.groupSharedKeys) {
      check(`groupSharedKey ${gsk.chatMid}/${gsk.groupKeyId} creator ${gsk.creatorKeyId} -> ${byMid[gsk.receiver]}/${gsk.receiverKeyId}`, () => {
        const me = ak(byMid[gsk.receiver], gsk.receiverKeyId), cr = ak(byMid[gsk.creator], gsk.creatorKeyId);
        const gp = unwrap(x25519(unb64(me.private), unb64(cr.public)), unb64(gsk.encryptedSharedKey));
        const g = own.groups[gsk.chatMid].find((x) => x.groupKeyId === gsk.groupKeyId);
        eq(gsk.specVersion, g.specVersion, 'specVersion');
        return eq(b64(gp), g.private, 'group private');
      });
    }
    for (const m of own.messages) {
      check(`message ${m.name}`, () => {
        const msg = m.message, ch = msg.chunks.map((c) => unb64(c));
        const sId = ch[3].readUInt32BE(0), rId = ch[4].readUInt32BE(0);
        const sender = byMid[msg.from.toLowerCase()];
        let s;
        if (msg.toType === 2) {
          const g = own.groups[msg.to].find((x) => x.groupKeyId === rId);
          s = x25519(unb64(g.private), unb64(ak(sender, sId).public));
        } else {
          eq(byMid[msg.to.toLowerCase()], m.recipient, 'recipient is the to-MID');
          s = x25519(unb64(ak(m.recipient, rId).private), unb64(ak(sender, sId).public));
        }
        const r = openMessage(msg, s);
        eq(r.text, m.text, 'text'); eq(r.payload, JSON.stringify({ text: m.text }), 'payload');
        eq(r.version, msg.contentMetadata.e2eeVersion, 'version');
        if (m.name === 'v2_user_nonce16') eq(ch[2].length, 16, 'nonce length');
        return eq(r.aad, m.aad, 'AAD form that opened it');
      });
    }
    for (const k of own.keyChains) {
      check(`keyChain ${k.name}`, () => {
        const r = openKeyChain(k.loginPrivate, k.metaData);
        eq(JSON.stringify(r.keys.map((x) => ({ keyId: x.keyId, version: x.version, public: b64(x.public), private: b64(x.private) }))), JSON.stringify(k.expectKeys), 'keys');
        eq(Math.max(...r.keys.map((x) => x.keyId)), k.latestKeyId, 'latestKeyId');
        eq(String(k.latestKeyId), k.metaData.keyId, 'metaData.keyId');
        eq(b64(x25519Public(unb64(k.serverPrivate))), k.metaData.publicKey, 'server public');
        eq(b64(x25519Public(unb64(k.loginPrivate))), k.loginPublic, 'login public');
        return eq(b64(hashKeyChain(r.s, r.enc)), k.hashKeyChain, 'hashKeyChain');
      });
    }
  }

  // --- the shared (earlier, independent) file
  const sh = loadShared();
  if (!sh.data) {
    check(`earlier vectors ${sh.path} readable`, () => String(sh.err && sh.err.code || sh.err));
  } else {
    const d = sh.data, V = d.vectors;
    for (const [lab, k] of Object.entries(d.keys))
      check(`shared key ${lab} public matches private`, () => eq(b64(x25519Public(unb64(k.private))), k.public, 'public'));
    const expPlain = (v) => unb64(v.plaintext).toString('utf8');
    for (const name of ['v2_user', 'v1_user']) {
      const v = V[name];
      check(`shared ${name}`, () => {
        const s = x25519(unb64(v.decrypt_with.private), unb64(v.decrypt_with.peerPublic));
        if (v.sharedSecret) eq(b64(s), v.sharedSecret, 'sharedSecret');
        const r = openMessage(v.message, s);
        if (v.aad) {
          const ch = v.message.chunks.map((c) => unb64(c));
          eq(b64(buildAAD('lower33', v.message.to, v.message.from, ch[3].readUInt32BE(0), ch[4].readUInt32BE(0), v.message.contentType)), v.aad, 'aad');
        }
        eq(r.payload, expPlain(v), 'plaintext');
        return eq(r.text, d.text, 'text');
      });
    }
    const gv = V.group_v2;
    check('shared group_v2 group key unwrap', () => {
      const gp = unwrap(x25519(unb64(gv.decrypt_with.private), unb64(gv.decrypt_with.creatorPublic)), unb64(gv.groupSharedKey.encryptedSharedKey));
      eq(b64(gp), gv.groupPrivate, 'groupPrivate');
      return eq(b64(gp), d.keys.group.private, 'keys.group.private');
    });
    check('shared group_v2 message', () => {
      const r = openMessage(gv.message, x25519(unb64(gv.groupPrivate), unb64(gv.decrypt_with.senderPublic)));
      eq(r.payload, expPlain(gv), 'plaintext');
      return eq(r.text, d.text, 'text');
    });
    const kv = V.keychain_pkcs7;
    check('shared keychain_pkcs7', () => {
      const r = openKeyChain(kv.loginPrivate, kv.metaData);
      eq(b64(r.plain), kv.thrift, 'thrift bytes');
      eq(JSON.stringify(r.keys.map((x) => ({ keyId: x.keyId, version: x.version, public: b64(x.public), private: b64(x.private) }))), JSON.stringify(kv.expectKeys), 'keys');
      eq(b64(encodeKeyChain(r.keys)), kv.thrift, 're-encoded thrift');
      eq(b64(wrap(x25519(unb64(d.keys.server.private), unb64(kv.loginPublic)), r.plain)), kv.metaData.encryptedKeyChain, 're-encrypted key chain (server side)');
      return eq(b64(hashKeyChain(r.s, r.enc)), kv.hashKeyChain, 'hashKeyChain');
    });
    const pw = V.password_secret;
    check('shared password_secret', () => {
      const key = sha256(pw.pin), pub = unb64(pw.loginPublic);
      return eq(b64(Buffer.concat([ecbBlock(key, pub.subarray(0, 16)), ecbBlock(key, pub.subarray(16, 32))])), pw.secret, 'secret');
    });
  }
  console.log(`${oks} ok, ${fails} failed`);
  process.exit(fails ? 1 : 0);
}

// ---------------------------------------------------------------- open (stdin cases)
function openCases(input) {
  const results = [];
  let doc;
  try { doc = JSON.parse(input); } catch (e) { return { results: [{ name: '', ok: false, error: 'input is not JSON: ' + e.message }] }; }
  const cases = doc && Array.isArray(doc.cases) ? doc.cases : null;
  if (!cases) return { results: [{ name: '', ok: false, error: 'input has no "cases" array' }] };
  for (const c of cases) {
    const name = c && typeof c.name === 'string' ? c.name : '';
    try {
      if (!c || typeof c !== 'object') throw new Error('case is not an object');
      if (c.message !== undefined) {
        const s = x25519(unb64(c.private, 'private'), unb64(c.public, 'public'));
        const r = openMessage(c.message, s);
        results.push({ name, ok: true, version: r.version, aad: r.aad, payload: r.payload, text: r.text });
      } else if (c.unwrap !== undefined) {
        const u = c.unwrap || {};
        const gp = unwrap(x25519(unb64(u.private, 'unwrap.private'), unb64(u.public, 'unwrap.public')), unb64(u.encryptedSharedKey, 'encryptedSharedKey'));
        if (gp.length !== 32) throw new Error(`unwrapped group key is ${gp.length} bytes, want 32`);
        results.push({ name, ok: true, groupPrivate: b64(gp), groupPublic: b64(x25519Public(gp)) });
      } else if (c.keyChain !== undefined) {
        const k = c.keyChain || {};
        const r = openKeyChain(k.loginPrivate, k.metaData);
        results.push({ name, ok: true, keys: r.keys.map((x) => ({ keyId: x.keyId, version: x.version, public: b64(x.public), private: b64(x.private) })) });
      } else {
        throw new Error('case has none of message, unwrap, keyChain');
      }
    } catch (e) {
      results.push({ name, ok: false, error: String(e && e.message || e) });
    }
  }
  return { results };
}

// ---------------------------------------------------------------- main
const mode = process.argv[2];
if (mode === 'generate') {
  process.stdout.write(render(generate()));
} else if (mode === 'selfcheck') {
  selfcheck();
} else if (mode === 'open') {
  const input = fs.readFileSync(0, 'utf8');
  process.stdout.write(JSON.stringify(openCases(input), null, 1) + '\n');
} else {
  process.stderr.write('usage: node scripts/e2eegen/gen.mjs generate|selfcheck|open\n');
  process.exit(2);
}
