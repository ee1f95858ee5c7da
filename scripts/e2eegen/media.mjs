#!/usr/bin/env node
// Independent test-vector generator / checker for LINE's Letter-Sealed media
// ("E2EE next" file encryption, X-Talk-Meta, sealed {keyMaterial,fileName} messages).
// Written from the public peers' algorithms (see README.md next to this file), not from
// linectl's Go code. Node >= 18, no npm dependencies (node:crypto, node:fs, node:process).
//
//   node scripts/e2eegen/media.mjs generate  > testdata/e2ee/media-vectors.json
//   node scripts/e2eegen/media.mjs selfcheck        (run from the repo root)
//   node scripts/e2eegen/media.mjs decrypt < cases.json
//
// gen.mjs (the text-message generator) runs its command line on import and exports nothing,
// so the few primitives shared with it (X25519, the V2 seal, the lower33 AAD, the key rule)
// are re-implemented here from the same sources; selfcheck cross-checks the derived account
// keys against testdata/e2ee/vectors.json when that file is present.
import crypto from 'node:crypto';
import fs from 'node:fs';
import process from 'node:process';

// ---------------------------------------------------------------- primitives
const b64 = (b) => Buffer.from(b).toString('base64');
const hex = (b) => Buffer.from(b).toString('hex');
function unb64(s, what) {
  if (typeof s !== 'string') throw new Error(`${what}: not a base64 string`);
  const b = Buffer.from(s, 'base64');
  if (b.toString('base64') !== s) throw new Error(`${what}: not canonical standard base64`);
  return b;
}
function sha256(...parts) {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
  return h.digest();
}
const hmac256 = (key, ...parts) => { const h = crypto.createHmac('sha256', key); for (const p of parts) h.update(p); return h.digest(); };
function be32(n) { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; }

// ---- media file encryption (BEEPER media.go encryptFileData / decryptMediaData; LINEJS e2ee/mod.ts
// deriveKeyMaterial + encryptByKeyMaterial)
const FILE_INFO = 'FileEncryption';
const TAG_LEN = 32;
function deriveFileKeys(keyMaterial) {
  const okm = Buffer.from(crypto.hkdfSync('sha256', keyMaterial, Buffer.alloc(0), Buffer.from(FILE_INFO, 'ascii'), 76));
  return { okm, encKey: okm.subarray(0, 32), macKey: okm.subarray(32, 64), nonce: okm.subarray(64, 76) };
}
// Independent RFC 5869 HKDF from HMAC (selfcheck cross-checks Node's hkdfSync with it).
function hkdfManual(ikm, salt, info, len) {
  const prk = hmac256(salt.length ? salt : Buffer.alloc(32), ikm);
  const out = []; let t = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(out).length < len; i++) { t = hmac256(prk, t, Buffer.from(info), Buffer.from([i])); out.push(t); }
  return Buffer.concat(out).subarray(0, len);
}
const counterBlock = (nonce) => Buffer.concat([nonce, Buffer.alloc(4)]);
function ctr(encKey, nonce, data) {
  const c = crypto.createCipheriv('aes-256-ctr', encKey, counterBlock(nonce));
  return Buffer.concat([c.update(data), c.final()]);
}
// Independent CTR from AES-ECB blocks with a 128-bit big-endian counter increment.
function ctrManual(encKey, nonce, data) {
  const ctrBlk = counterBlock(nonce); const out = Buffer.alloc(data.length);
  const ecb = crypto.createCipheriv('aes-256-ecb', encKey, null); ecb.setAutoPadding(false);
  for (let off = 0; off < data.length; off += 16) {
    const ks = ecb.update(ctrBlk);
    for (let i = 0; i < 16 && off + i < data.length; i++) out[off + i] = data[off + i] ^ ks[i];
    for (let j = 15; j >= 0; j--) { ctrBlk[j] = (ctrBlk[j] + 1) & 0xff; if (ctrBlk[j] !== 0) break; }
  }
  return out;
}
function encryptFile(keyMaterial, plain) {
  const k = deriveFileKeys(keyMaterial);
  const ct = ctr(k.encKey, k.nonce, plain);
  const tag = hmac256(k.macKey, ct);
  return { ...k, ct, tag, blob: Buffer.concat([ct, tag]) };
}
// The strict decryptor (also the `decrypt` oracle): key material exactly 32 bytes, blob >= 32 bytes,
// HMAC-SHA256 over the ciphertext compared in constant time BEFORE any decryption.
function decryptFile(keyMaterial, blob) {
  if (!Buffer.isBuffer(keyMaterial) || keyMaterial.length !== 32) throw new Error(`keyMaterial is ${keyMaterial ? keyMaterial.length : 'no'} bytes, want 32`);
  if (!Buffer.isBuffer(blob) || blob.length < TAG_LEN) throw new Error(`blob is ${blob ? blob.length : 'no'} bytes, shorter than the 32-byte HMAC tag`);
  const k = deriveFileKeys(keyMaterial);
  const ct = blob.subarray(0, blob.length - TAG_LEN), tag = blob.subarray(blob.length - TAG_LEN);
  if (!crypto.timingSafeEqual(hmac256(k.macKey, ct), tag)) throw new Error('HMAC mismatch');
  return ctr(k.encKey, k.nonce, ct);
}

// ---- X-Talk-Meta (BEEPER pkg/line/client.go constructTalkMeta; LINEJS base/obs/mod.ts downloadMediaByE2EE)
function talkMetaThrift(messageId) {
  const id = Buffer.from(messageId, 'utf8');
  const i16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
  return Buffer.concat([
    Buffer.from([0x0b]), i16(4), be32(id.length), id, // field 4: string id
    Buffer.from([0x0f]), i16(27), Buffer.from([0x0c]), be32(0), // field 27: list<struct>, empty
    Buffer.from([0x00]), // stop
  ]);
}
function talkMeta(messageId) {
  const thrift = talkMetaThrift(messageId);
  const json = JSON.stringify({ message: b64(thrift) });
  return { thrift, json, header: b64(Buffer.from(json, 'utf8')) };
}
// Strict reader used by selfcheck: exactly the two fields, in this order, nothing after the stop byte.
function parseTalkMeta(header) {
  const json = unb64(header, 'header').toString('utf8');
  const o = JSON.parse(json);
  if (!o || typeof o !== 'object' || Object.keys(o).join(',') !== 'message') throw new Error('JSON must be {"message": ...} only');
  const t = unb64(o.message, 'message');
  let p = 0;
  const need = (n) => { if (p + n > t.length) throw new Error('thrift truncated'); };
  need(3); if (t[p] !== 0x0b || t.readUInt16BE(p + 1) !== 4) throw new Error('want field 4 string first'); p += 3;
  need(4); const n = t.readUInt32BE(p); p += 4; need(n); const id = t.subarray(p, p + n).toString('utf8'); p += n;
  need(8); if (t[p] !== 0x0f || t.readUInt16BE(p + 1) !== 27 || t[p + 3] !== 0x0c || t.readUInt32BE(p + 4) !== 0) throw new Error('want field 27 empty list<struct>'); p += 8;
  need(1); if (t[p] !== 0x00) throw new Error('want stop byte'); p += 1;
  if (p !== t.length) throw new Error('bytes after the stop byte');
  return { id, json };
}

// ---- Letter Sealing V2 (same algorithm as gen.mjs: BEEPER pkg/ltsm crypto EncryptV2/buildAADv2,
// LINEJS encryptE2EEMessageByData/generateAAD)
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');
const privObj = (k) => crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, k]), format: 'der', type: 'pkcs8' });
const pubObj = (k) => crypto.createPublicKey({ key: Buffer.concat([SPKI_X25519, k]), format: 'der', type: 'spki' });
function x25519Public(priv) { const d = crypto.createPublicKey(privObj(priv)).export({ format: 'der', type: 'spki' }); return Buffer.from(d.subarray(d.length - 32)); }
const x25519 = (priv, pub) => crypto.diffieHellman({ privateKey: privObj(priv), publicKey: pubObj(pub) });
function clamp(k) { const c = Buffer.from(k); c[0] &= 248; c[31] &= 127; c[31] |= 64; return c; }
function lower33(mid) {
  const raw = Buffer.from(mid, 'utf8'), o = Buffer.alloc(33);
  for (let i = 0; i < Math.min(33, raw.length); i++) { let c = raw[i]; if (c >= 0x41 && c <= 0x5a) c |= 0x20; o[i] = c; }
  return o;
}
const buildAAD = (to, from, sId, rId, contentType) => Buffer.concat([lower33(to), lower33(from), be32(sId), be32(rId), be32(2), be32(contentType)]);
function sealV2(secret, salt, nonce, aad, plain) {
  const g = crypto.createCipheriv('aes-256-gcm', sha256(secret, salt, 'Key'), nonce, { authTagLength: 16 });
  g.setAAD(aad);
  return Buffer.concat([g.update(plain), g.final(), g.getAuthTag()]);
}
function openV2(secret, msg) {
  const ch = msg.chunks.map((c, i) => unb64(c, `chunk ${i}`));
  if (ch.length !== 5) throw new Error('want 5 chunks');
  if (ch[0].length !== 16 || ch[2].length !== 12 || ch[3].length !== 4 || ch[4].length !== 4 || ch[1].length < 16) throw new Error('bad chunk sizes');
  const d = crypto.createDecipheriv('aes-256-gcm', sha256(secret, ch[0], 'Key'), ch[2], { authTagLength: 16 });
  d.setAAD(buildAAD(msg.to, msg.from, ch[3].readUInt32BE(0), ch[4].readUInt32BE(0), msg.contentType));
  d.setAuthTag(ch[1].subarray(ch[1].length - 16));
  const out = d.update(ch[1].subarray(0, ch[1].length - 16));
  try { d.final(); } catch { throw new Error('V2 GCM tag mismatch'); }
  return out;
}

// ---------------------------------------------------------------- deterministic inputs
const P = 'linectl-e2ee-media-vectors';
const kmLabel = (name) => `${P}/keyMaterial/${name}`;
const plainLabel = (name) => `${P}/plain/${name}`;
const keyMaterialFor = (name) => sha256(kmLabel(name));
function expand(label, n) { // SHA-256(label + "/" + i) for i = 0, 1, ... concatenated, first n bytes
  const parts = []; for (let i = 0; parts.length * 32 < n; i++) parts.push(sha256(`${label}/${i}`));
  return Buffer.concat(parts).subarray(0, n);
}
const rand = (vector, what, n) => sha256(`${P}/rand/${vector}/${what}`).subarray(0, n);
const keyFor = (label) => clamp(sha256('linectl-e2ee-vectors/key/' + label)); // gen.mjs's rule: same keys as vectors.json

// A real 1x1 RGBA PNG (stored-deflate IDAT), built here so the vector is a decodable image.
function crc32(buf) {
  let c = ~0 >>> 0;
  for (const x of buf) { c ^= x; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); }
  return (~c) >>> 0;
}
function pngChunk(type, data) { const t = Buffer.from(type, 'ascii'); return Buffer.concat([be32(data.length), t, data, be32(crc32(Buffer.concat([t, data])))]); }
function tinyPng() {
  const raw = Buffer.from([0x00, 0x06, 0xc7, 0x55, 0x80]); // filter 0, RGBA (LINE green, half transparent)
  let a = 1, b = 0; for (const x of raw) { a = (a + x) % 65521; b = (b + a) % 65521; }
  const zlib = Buffer.concat([Buffer.from([0x78, 0x01, 0x01, raw.length, 0x00, (~raw.length) & 0xff, 0xff]), raw, be32(((b << 16) | a) >>> 0)]);
  const ihdr = Buffer.concat([be32(1), be32(1), Buffer.from([8, 6, 0, 0, 0])]);
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), pngChunk('IHDR', ihdr), pngChunk('IDAT', zlib), pngChunk('IEND', Buffer.alloc(0))]);
}
const JPEG_PREFIX = Buffer.from('ffd8ffe000104a46494600', 'hex');

const INLINE_MAX = 1000;
// name -> {plain, plainRule, keyMaterialFrom?, desc}
function fileSpecs() {
  const specs = [];
  for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 1000, 70000]) {
    specs.push({ name: `len${n}`, desc: `${n}-byte plaintext from the expand rule`, plain: expand(plainLabel(`len${n}`), n), rule: 'expand' });
  }
  specs.push({ name: 'ascii_hello', desc: 'short ASCII text', plain: Buffer.from('Hello, LINE Letter-Sealed media!\n', 'utf8'), rule: 'literal' });
  specs.push({ name: 'png_pixel', desc: 'a real 1x1 RGBA PNG (starts with the PNG magic 89 50 4E 47 0D 0A 1A 0A); the blob the sealed image messages point to', plain: tinyPng(), rule: 'literal' });
  specs.push({ name: 'png_pixel_preview', desc: 'a "__ud-preview" thumbnail: JPEG-magic-prefixed bytes encrypted with the SAME keyMaterial as png_pixel (BEEPER encryptThumbnail / LINEJS reuse the parent key, so key, nonce and keystream repeat)', plain: Buffer.concat([JPEG_PREFIX, expand(plainLabel('png_pixel_preview'), 53)]), rule: 'literal', keyMaterialFrom: 'png_pixel' });
  specs.push({ name: 'doc_513', desc: '513 bytes (32 AES blocks + 1 byte), the blob the sealed file messages point to', plain: expand(plainLabel('doc_513'), 513), rule: 'expand' });
  return specs;
}

function fileVector(s) {
  const km = keyMaterialFor(s.keyMaterialFrom || s.name);
  const e = encryptFile(km, s.plain);
  const inline = s.plain.length <= INLINE_MAX;
  const v = { name: s.name, desc: s.desc, inline };
  v.keyMaterialLabel = kmLabel(s.keyMaterialFrom || s.name);
  v.keyMaterial = b64(km);
  v.keyMaterialHex = hex(km);
  v.okmHex = hex(e.okm);
  v.encKey = b64(e.encKey);
  v.macKey = b64(e.macKey);
  v.nonce = b64(e.nonce);
  v.counterBlockHex = hex(counterBlock(e.nonce));
  v.plaintextLength = s.plain.length;
  if (s.rule === 'expand') v.plaintextRule = { kind: 'expand', label: plainLabel(s.name), length: s.plain.length };
  v.plaintextSha256 = hex(sha256(s.plain));
  if (inline) { v.plaintext = b64(s.plain); v.plaintextHex = hex(s.plain); }
  v.blobLength = e.blob.length;
  v.blobSha256 = hex(sha256(e.blob));
  v.tag = b64(e.tag);
  if (inline) { v.ciphertext = b64(e.ct); v.blob = b64(e.blob); }
  else { v.blobHeadHex = hex(e.blob.subarray(0, 64)); }
  return v;
}

// Tampered / malformed inputs: every one MUST be rejected.
function tamperedCases(specs) {
  const by = Object.fromEntries(specs.map((s) => [s.name, s]));
  const enc = (name) => { const km = keyMaterialFor(name); return { km, ...encryptFile(km, by[name].plain) }; };
  const flip = (buf, i, bit = 0) => { const c = Buffer.from(buf); c[i] ^= 1 << bit; return c; };
  const A = enc('len33'), Z = enc('len0'), L = enc('len1000');
  const out = [];
  const add = (name, desc, km, blob, reason) => out.push({ name, desc, keyMaterial: b64(km), blob: b64(blob), blobLength: blob.length, expect: 'reject', reason });
  add('ct_bitflip_first', 'len33 blob, bit 0 of ciphertext byte 0 flipped', A.km, flip(A.blob, 0), 'hmac');
  add('ct_bitflip_last', 'len33 blob, bit 7 of the last ciphertext byte (index 32) flipped', A.km, flip(A.blob, 32, 7), 'hmac');
  add('ct_bitflip_1000_mid', 'len1000 blob, bit 3 of ciphertext byte 500 flipped', L.km, flip(L.blob, 500, 3), 'hmac');
  add('tag_bitflip_first', 'len33 blob, bit 0 of the first tag byte flipped', A.km, flip(A.blob, 33), 'hmac');
  add('tag_bitflip_last', 'len33 blob, bit 0 of the last tag byte flipped', A.km, flip(A.blob, A.blob.length - 1), 'hmac');
  add('tag_bitflip_empty_plaintext', 'len0 blob (tag only), bit 0 of the last byte flipped', Z.km, flip(Z.blob, 31), 'hmac');
  add('tag_truncated_1', 'len33 blob with the last byte removed (64 bytes)', A.km, A.blob.subarray(0, A.blob.length - 1), 'hmac');
  add('tag_truncated_16', 'len33 blob with the last 16 bytes removed (49 bytes)', A.km, A.blob.subarray(0, A.blob.length - 16), 'hmac');
  add('tag_missing', 'len33 ciphertext only, no tag (33 bytes)', A.km, A.ct, 'hmac');
  add('extra_byte', 'len33 blob with one 0x00 byte appended', A.km, Buffer.concat([A.blob, Buffer.from([0])]), 'hmac');
  add('tag_zero', 'len33 ciphertext followed by 32 zero bytes', A.km, Buffer.concat([A.ct, Buffer.alloc(32)]), 'hmac');
  add('wrong_key_material', 'len33 blob opened with len0\'s keyMaterial', Z.km, A.blob, 'hmac');
  { // video-mode tag: HMAC(macKey, concat SHA-256(128 KiB chunk))) as BEEPER encryptVideoData does; not a file blob
    const vt = hmac256(A.macKey, sha256(A.ct));
    add('video_mode_tag', 'len33 ciphertext with a VIDEO-style tag (HMAC over per-128KiB-chunk SHA-256 hashes, BEEPER encryptVideoData): a file/image decryptor must reject it', A.km, Buffer.concat([A.ct, vt]), 'hmac');
  }
  add('short_31', 'len0 blob (32-byte tag) cut to 31 bytes', Z.km, Z.blob.subarray(0, 31), 'short');
  add('short_1', 'a 1-byte blob', Z.km, Z.blob.subarray(0, 1), 'short');
  add('short_0', 'an empty blob', Z.km, Buffer.alloc(0), 'short');
  for (const n of [31, 33, 16, 0]) {
    // The blob is a CORRECT encryption under this n-byte key material (HKDF accepts any IKM length),
    // so only an explicit length check rejects it.
    const km = sha256(`${P}/keyMaterial/badlen${n}`).subarray(0, Math.min(32, n));
    const km2 = n > 32 ? Buffer.concat([km, sha256(`${P}/keyMaterial/badlen${n}/tail`).subarray(0, n - 32)]) : km;
    const e = encryptFile(km2, by.len33.plain);
    add(`key_material_len${n}`, `keyMaterial of ${n} bytes; the blob is a valid HKDF/CTR/HMAC encryption of len33's plaintext under it (only a 32-byte length check rejects it)`, km2, e.blob, 'keyMaterialLength');
  }
  return out;
}

function talkMetaVectors() {
  const ids = [
    ['beeper_style', '605311889450205372'],
    ['one', '1'],
    ['nineteen_digits', '9223372036854775807'],
    ['nineteen_digits_b', '1234567890123456789'],
  ];
  return ids.map(([name, id]) => { const t = talkMeta(id); return { name, messageId: id, thriftHex: hex(t.thrift), messageB64: b64(t.thrift), json: t.json, header: t.header }; });
}

const ACCOUNTS = {
  A: { mid: 'u344ecddfdf88ed86af6ca6c90c57922a', keyId: 1001, label: 'A1001' },
  B: { mid: 'u68862805245b88d04979403b71ff821d', keyId: 2002, label: 'B2002' },
};
const GROUP = { chat: 'c4641a382f6382278929b897825f234a9', groupKeyId: 7, label: 'G7' };
const kp = (label) => { const priv = keyFor(label); return { private: priv, public: x25519Public(priv) }; };

function sealedMessages(fileByName) {
  const A = ACCOUNTS.A, B = ACCOUNTS.B, a = kp(A.label), bk = kp(B.label), g = kp(GROUP.label);
  const mk = (o) => {
    const fv = fileByName[o.fileVector];
    const payload = o.payload(fv.keyMaterial);
    const group = o.toType === 2;
    const to = group ? GROUP.chat : B.mid, from = A.mid;
    const sId = A.keyId, rId = group ? GROUP.groupKeyId : B.keyId;
    const secret = group ? x25519(g.private, a.public) : x25519(a.private, bk.public);
    const aad = buildAAD(to, from, sId, rId, o.contentType);
    const salt = rand(o.name, 'salt', 16), nonce = rand(o.name, 'nonce', 12);
    const ct = sealV2(secret, salt, nonce, aad, Buffer.from(payload, 'utf8'));
    const sid = o.contentType === 1 ? 'emi' : 'emf';
    return {
      name: o.name, desc: o.desc, payloadStyle: o.style,
      message: {
        from, to, toType: o.toType, contentType: o.contentType,
        contentMetadata: { e2eeVersion: '2', SID: sid, OID: 'vec' + hex(rand(o.name, 'oid', 16)), FILE_SIZE: String(fv.blobLength) },
        chunks: [salt, ct, nonce, be32(sId), be32(rId)].map(b64),
      },
      openWith: group
        ? { what: `group ${GROUP.chat} key ${GROUP.groupKeyId} private + sender A(${A.keyId}) public`, private: b64(g.private), public: b64(a.public) }
        : { what: `recipient B(${B.keyId}) private + sender A(${A.keyId}) public`, private: b64(bk.private), public: b64(a.public) },
      sharedSecret: b64(secret),
      aadHex: hex(aad),
      payload,
      keyMaterial: fv.keyMaterial,
      fileName: o.fileName ?? null,
      fileVector: o.fileVector,
    };
  };
  const linejs = (name) => (km) => JSON.stringify({ keyMaterial: km, fileName: name });
  const beeperImage = (km) => JSON.stringify({ keyMaterial: km });
  const beeperFile = (name) => (km) => JSON.stringify({ fileName: name, keyMaterial: km }); // Go json.Marshal(map) sorts keys
  return [
    mk({ name: 'image_user', desc: 'sealed IMAGE (contentType 1) A(1001) -> B(2002), payload {"keyMaterial","fileName"} (LINEJS uploadMediaByE2EE); blob = file vector png_pixel', toType: 0, contentType: 1, fileVector: 'png_pixel', fileName: 'pixel.png', style: 'linejs', payload: linejs('pixel.png') }),
    mk({ name: 'file_user', desc: 'sealed FILE (contentType 14) A(1001) -> B(2002), payload {"keyMaterial","fileName"}; blob = file vector doc_513', toType: 0, contentType: 14, fileVector: 'doc_513', fileName: 'report-2026.pdf', style: 'linejs', payload: linejs('report-2026.pdf') }),
    mk({ name: 'image_user_beeper', desc: 'sealed IMAGE as BEEPER sends it: payload {"keyMaterial"} only (no fileName)', toType: 0, contentType: 1, fileVector: 'png_pixel', fileName: null, style: 'beeper-image', payload: beeperImage }),
    mk({ name: 'file_user_beeper', desc: 'sealed FILE as BEEPER sends it: Go json.Marshal of a map, so keys sorted: {"fileName","keyMaterial"}', toType: 0, contentType: 14, fileVector: 'doc_513', fileName: 'report-2026.pdf', style: 'beeper-file', payload: beeperFile('report-2026.pdf') }),
    mk({ name: 'file_user_unicode_name', desc: 'sealed FILE, non-ASCII file name (raw UTF-8 in the JSON, JSON.stringify)', toType: 0, contentType: 14, fileVector: 'len1000', fileName: 'résumé 履歴書 🙂.txt', style: 'linejs', payload: linejs('résumé 履歴書 🙂.txt') }),
    mk({ name: 'image_group', desc: 'sealed IMAGE to group G (toType 2) with group key 7; secret X25519(groupPriv7, APub1001)', toType: 2, contentType: 1, fileVector: 'png_pixel', fileName: 'pixel.png', style: 'linejs', payload: linejs('pixel.png') }),
    mk({ name: 'file_group', desc: 'sealed FILE to group G (toType 2) with group key 7', toType: 2, contentType: 14, fileVector: 'doc_513', fileName: 'report-2026.pdf', style: 'linejs', payload: linejs('report-2026.pdf') }),
  ];
}

// The sealed messages with one thing changed: must fail to open (GCM tag over the AAD).
function sealedNegative(msgs) {
  const by = Object.fromEntries(msgs.map((m) => [m.name, m]));
  const variant = (name, base, desc, change) => {
    const m = JSON.parse(JSON.stringify(by[base]));
    change(m.message);
    return { name, base, desc, message: m.message, openWith: m.openWith, expect: 'reject' };
  };
  return [
    variant('image_as_file', 'image_user', 'image_user with contentType changed 1 -> 14 (AAD contentType differs)', (m) => { m.contentType = 14; }),
    variant('file_as_text', 'file_user', 'file_user with contentType changed 14 -> 0', (m) => { m.contentType = 0; }),
    variant('group_file_as_image', 'file_group', 'file_group with contentType changed 14 -> 1', (m) => { m.contentType = 1; }),
  ];
}

// ---------------------------------------------------------------- generate
function generate() {
  const specs = fileSpecs();
  const file = specs.map(fileVector);
  const fileByName = Object.fromEntries(file.map((v) => [v.name, v]));
  const msgs = sealedMessages(fileByName);
  const A = kp(ACCOUNTS.A.label), B = kp(ACCOUNTS.B.label), G = kp(GROUP.label);
  return {
    comment: 'LINE Letter-Sealed media test vectors made by scripts/e2eegen/media.mjs, an independent generator written from the public peers\' algorithms, not from linectl\'s code. ' +
      'Sources: beeper/line pkg/connector/media.go (encryptFileData, decryptMediaData/decryptImageData, encryptThumbnail, encryptVideoData), pkg/line/client.go (constructTalkMeta, UploadOBSWithSID), ' +
      'pkg/connector/send_message.go (sealed image/file payloads: json.Marshal of map{"keyMaterial"} / map{"keyMaterial","fileName"}), pkg/e2ee/manager.go (EncryptMessageV2Raw, EncryptGroupMessageRaw: contentType in the V2 AAD); ' +
      'evex-dev/linejs packages/linejs/base/e2ee/mod.ts (deriveKeyMaterial, encryptByKeyMaterial, decryptByKeyMaterial, encryptE2EEMessage -> encryptE2EEMessageByData, generateAAD), base/obs/mod.ts (uploadMediaByE2EE, downloadMediaByE2EE talkMeta), base/thrift/readwrite/write.ts (writeStruct, TBinaryProtocol). ' +
      'Derivation: keyMaterial = SHA-256(utf8(keyMaterialLabel)), keyMaterialLabel = "linectl-e2ee-media-vectors/keyMaterial/" + name (png_pixel_preview reuses png_pixel\'s); ' +
      'rule "expand": plaintext = first plaintextLength bytes of SHA-256(utf8(label + "/" + i)) for i = 0,1,2,... (decimal) concatenated; ' +
      'X25519 private keys = clamp(SHA-256(utf8("linectl-e2ee-vectors/key/" + label))) exactly as gen.mjs (labels A1001, B2002, G7: same keys as testdata/e2ee/vectors.json); ' +
      'V2 salt/nonce = first 16/12 bytes of SHA-256(utf8("linectl-e2ee-media-vectors/rand/" + messageName + "/" + "salt"|"nonce")). ' +
      'Byte strings are standard base64 unless the field name ends in Hex. Vectors with inline=false give plaintextRule + SHA-256s instead of the bytes.',
    algorithm: {
      kdf: 'HKDF-SHA256(IKM = keyMaterial (32 bytes), salt = empty, info = ASCII "FileEncryption", L = 76): encKey = okm[0:32], macKey = okm[32:64], nonce = okm[64:76]',
      cipher: 'AES-256-CTR, key encKey, initial counter block nonce || 00000000, whole 16-byte block incremented big-endian (Node aes-256-ctr / Go cipher.NewCTR; LINEJS WebCrypto length:32 is identical below 2^32 blocks)',
      blob: 'ciphertext || HMAC-SHA256(macKey, ciphertext); len(blob) = len(plaintext) + 32',
      decrypt: 'reject keyMaterial != 32 bytes, reject blob < 32 bytes, verify the tag in constant time BEFORE decrypting, then CTR-decrypt blob[0:len-32]',
      talkMeta: 'X-Talk-Meta = base64(JSON.stringify({"message": base64(T)})) (no spaces); T = 0B 0004 BE32(len(id)) id, 0F 001B 0C 00000000, 00',
      sealedMessage: 'Letter Sealing V2 (as gen.mjs): chunks [salt16, AES-256-GCM(SHA-256(X25519 secret||salt||"Key"), nonce12, AAD)(payload)||tag16, nonce12, BE32 senderKeyId, BE32 receiverKeyId]; AAD = lower33(to)||lower33(from)||BE32 sId||BE32 rId||BE32 2||BE32 contentType (1 image, 14 file); group: secret X25519(groupPriv, senderPub), receiverKeyId = groupKeyId',
    },
    file,
    tampered: tamperedCases(specs),
    talkMeta: talkMetaVectors(),
    accounts: {
      A: { mid: ACCOUNTS.A.mid, keyId: ACCOUNTS.A.keyId, private: b64(A.private), public: b64(A.public) },
      B: { mid: ACCOUNTS.B.mid, keyId: ACCOUNTS.B.keyId, private: b64(B.private), public: b64(B.public) },
    },
    groups: { [GROUP.chat]: { groupKeyId: GROUP.groupKeyId, private: b64(G.private), public: b64(G.public) } },
    sealedMediaMessage: msgs,
    sealedMediaNegative: sealedNegative(msgs),
  };
}
const render = (o) => JSON.stringify(o, null, 1) + '\n';

// ---------------------------------------------------------------- selfcheck
function selfcheck() {
  let fails = 0, oks = 0;
  const check = (what, fn) => {
    try { const r = fn(); if (r !== true) throw new Error(r || 'mismatch'); oks++; console.log(`ok   ${what}`); } catch (e) { fails++; console.log(`FAIL ${what}: ${e.message}`); }
  };
  const eq = (a, b, what) => { if (a !== b) throw new Error(`${what}: got ${a}, want ${b}`); return true; };
  const path = 'testdata/e2ee/media-vectors.json';
  let v;
  check(`${path} parses`, () => { v = JSON.parse(fs.readFileSync(path, 'utf8')); return true; });
  if (!v) { console.log(`${oks} ok, ${fails} failed`); process.exit(1); }
  check(`${path} equals a fresh generate (deterministic)`, () => render(generate()) === fs.readFileSync(path, 'utf8') || 'file differs from generate output; regenerate it');

  const blobs = {};
  for (const f of v.file) {
    check(`file ${f.name}`, () => {
      const km = unb64(f.keyMaterial, 'keyMaterial');
      eq(hex(km), f.keyMaterialHex, 'keyMaterialHex');
      eq(hex(sha256(f.keyMaterialLabel)), f.keyMaterialHex, 'keyMaterial = SHA-256(label)');
      const okm = hkdfManual(km, Buffer.alloc(0), 'FileEncryption', 76);
      eq(hex(okm), f.okmHex, 'okm (manual HKDF)');
      eq(hex(deriveFileKeys(km).okm), f.okmHex, 'okm (node hkdfSync)');
      eq(f.encKey, b64(okm.subarray(0, 32)), 'encKey'); eq(f.macKey, b64(okm.subarray(32, 64)), 'macKey'); eq(f.nonce, b64(okm.subarray(64, 76)), 'nonce');
      eq(f.counterBlockHex, hex(okm.subarray(64, 76)) + '00000000', 'counterBlockHex');
      let plain;
      if (f.inline) plain = unb64(f.plaintext, 'plaintext');
      else if (f.plaintextRule && f.plaintextRule.kind === 'expand') plain = expand(f.plaintextRule.label, f.plaintextRule.length);
      else throw new Error('no plaintext and no rule');
      if (f.plaintextRule) eq(hex(expand(f.plaintextRule.label, f.plaintextRule.length)), hex(plain), 'plaintext follows its rule');
      eq(plain.length, f.plaintextLength, 'plaintextLength'); eq(hex(sha256(plain)), f.plaintextSha256, 'plaintextSha256');
      if (f.inline) eq(f.plaintextHex, hex(plain), 'plaintextHex');
      const ct = ctrManual(okm.subarray(0, 32), okm.subarray(64, 76), plain); // independent CTR
      const tag = hmac256(okm.subarray(32, 64), ct);
      const blob = Buffer.concat([ct, tag]);
      eq(b64(tag), f.tag, 'tag'); eq(blob.length, f.blobLength, 'blobLength'); eq(hex(sha256(blob)), f.blobSha256, 'blobSha256');
      if (f.inline) { eq(b64(ct), f.ciphertext, 'ciphertext'); eq(b64(blob), f.blob, 'blob'); } else eq(hex(blob.subarray(0, 64)), f.blobHeadHex, 'blobHeadHex');
      eq(hex(decryptFile(km, blob)), hex(plain), 'strict decrypt round trip');
      if (f.name === 'png_pixel') eq(hex(plain.subarray(0, 8)), '89504e470d0a1a0a', 'PNG magic');
      blobs[f.name] = blob;
      return true;
    });
  }
  check('png_pixel_preview shares png_pixel\'s key and nonce (thumbnail keystream reuse)', () => {
    const a = v.file.find((x) => x.name === 'png_pixel'), b = v.file.find((x) => x.name === 'png_pixel_preview');
    eq(a.keyMaterial, b.keyMaterial, 'keyMaterial'); return eq(a.okmHex, b.okmHex, 'okm');
  });
  for (const t of v.tampered) {
    check(`tampered ${t.name} is rejected (${t.reason})`, () => {
      eq(t.expect, 'reject', 'expect');
      let err;
      try { decryptFile(unb64(t.keyMaterial, 'keyMaterial'), unb64(t.blob, 'blob')); } catch (e) { err = e.message; }
      if (!err) throw new Error('decryptor accepted it');
      const want = { hmac: /HMAC mismatch/, short: /shorter than/, keyMaterialLength: /want 32/ }[t.reason];
      if (!want || !want.test(err)) throw new Error(`rejected for the wrong reason: ${err}`);
      if (t.reason === 'keyMaterialLength') { // prove only the length check rejects it
        const km = unb64(t.keyMaterial), blob = unb64(t.blob), k = deriveFileKeys(km);
        eq(b64(hmac256(k.macKey, blob.subarray(0, blob.length - 32))), b64(blob.subarray(blob.length - 32)), 'tag valid under the odd-length key');
      }
      return true;
    });
  }
  for (const t of v.talkMeta) {
    check(`talkMeta ${t.name} (${t.messageId})`, () => {
      const tm = talkMeta(t.messageId);
      eq(hex(tm.thrift), t.thriftHex, 'thrift'); eq(b64(tm.thrift), t.messageB64, 'messageB64');
      eq(tm.json, t.json, 'json'); eq(tm.header, t.header, 'header');
      eq(t.json, `{"message":"${t.messageB64}"}`, 'exact JSON form');
      const p = parseTalkMeta(t.header); eq(p.id, t.messageId, 'parsed id');
      return eq(t.thriftHex.length / 2, 1 + 2 + 4 + Buffer.byteLength(t.messageId) + 1 + 2 + 1 + 4 + 1, 'length');
    });
  }
  // accounts: same keys as gen.mjs's vectors.json (if present)
  check('accounts/groups: public keys derive from private keys', () => {
    for (const a of [...Object.values(v.accounts), ...Object.values(v.groups)]) eq(b64(x25519Public(unb64(a.private))), a.public, 'public');
    return true;
  });
  let txt; try { txt = JSON.parse(fs.readFileSync('testdata/e2ee/vectors.json', 'utf8')); } catch { txt = null; }
  if (txt) {
    check('accounts/groups equal testdata/e2ee/vectors.json\'s keys (same label rule)', () => {
      for (const [lab, a] of Object.entries(v.accounts)) {
        const o = txt.accounts[lab]; eq(o.mid, a.mid, `${lab} mid`);
        const k = o.keys.find((x) => x.keyId === a.keyId); eq(k.private, a.private, `${lab} private`); eq(k.public, a.public, `${lab} public`);
      }
      for (const [chat, g] of Object.entries(v.groups)) { const k = txt.groups[chat].find((x) => x.groupKeyId === g.groupKeyId); eq(k.private, g.private, 'group private'); }
      return true;
    });
  } else console.log('note: testdata/e2ee/vectors.json not readable; key cross-check skipped');

  const fileBy = Object.fromEntries(v.file.map((f) => [f.name, f]));
  for (const m of v.sealedMediaMessage) {
    check(`sealedMediaMessage ${m.name}`, () => {
      const s = x25519(unb64(m.openWith.private), unb64(m.openWith.public));
      eq(b64(s), m.sharedSecret, 'sharedSecret');
      const ch = m.message.chunks.map((c) => unb64(c));
      eq(hex(buildAAD(m.message.to, m.message.from, ch[3].readUInt32BE(0), ch[4].readUInt32BE(0), m.message.contentType)), m.aadHex, 'aad');
      const pay = openV2(s, m.message).toString('utf8');
      eq(pay, m.payload, 'payload');
      const o = JSON.parse(pay);
      eq(o.keyMaterial, m.keyMaterial, 'payload keyMaterial'); eq(o.fileName ?? null, m.fileName, 'payload fileName');
      const f = fileBy[m.fileVector]; eq(f.keyMaterial, m.keyMaterial, 'file vector keyMaterial');
      eq(m.message.contentMetadata.FILE_SIZE, String(f.blobLength), 'FILE_SIZE');
      eq(hex(sha256(decryptFile(unb64(o.keyMaterial), blobs[m.fileVector]))), f.plaintextSha256, 'decrypted blob');
      const isGroup = m.message.toType === 2;
      eq(ch[3].readUInt32BE(0), v.accounts.A.keyId, 'sender key id');
      return eq(ch[4].readUInt32BE(0), isGroup ? v.groups[m.message.to].groupKeyId : v.accounts.B.keyId, 'receiver key id');
    });
  }
  for (const n of v.sealedMediaNegative) {
    check(`sealedMediaNegative ${n.name} is rejected`, () => {
      const s = x25519(unb64(n.openWith.private), unb64(n.openWith.public));
      try { openV2(s, n.message); } catch (e) { return /GCM tag mismatch/.test(e.message) || e.message; }
      throw new Error('opened');
    });
  }
  console.log(`${oks} ok, ${fails} failed`);
  process.exit(fails ? 1 : 0);
}

// ---------------------------------------------------------------- decrypt (stdin oracle)
function decryptCases(input) {
  let doc;
  try { doc = JSON.parse(input); } catch (e) { return { results: [{ name: '', ok: false, error: 'input is not JSON: ' + e.message }] }; }
  const cases = doc && Array.isArray(doc.cases) ? doc.cases : null;
  if (!cases) return { results: [{ name: '', ok: false, error: 'input has no "cases" array' }] };
  return {
    results: cases.map((c) => {
      const name = c && typeof c.name === 'string' ? c.name : '';
      try {
        if (!c || typeof c !== 'object') throw new Error('case is not an object');
        const plain = decryptFile(unb64(c.keyMaterial, 'keyMaterial'), unb64(c.blob, 'blob'));
        return { name, ok: true, plaintext: b64(plain) };
      } catch (e) {
        return { name, ok: false, error: String(e && e.message || e) };
      }
    }),
  };
}

// ---------------------------------------------------------------- main
const mode = process.argv[2];
if (mode === 'generate') {
  process.stdout.write(render(generate()));
} else if (mode === 'selfcheck') {
  selfcheck();
} else if (mode === 'decrypt') {
  process.stdout.write(JSON.stringify(decryptCases(fs.readFileSync(0, 'utf8')), null, 1) + '\n');
} else {
  process.stderr.write('usage: node scripts/e2eegen/media.mjs generate|selfcheck|decrypt\n');
  process.exit(2);
}
