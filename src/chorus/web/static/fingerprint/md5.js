/*
 * MD5 (RFC 1321) of a byte array, written for Chorus. MD5 is not used for security here:
 * it is one of the file digests partners exchange (StopNCII, HMA), so an exact copy of a
 * file can be matched. WebCrypto has no MD5, hence this file. Works in browsers and Node.
 */
(function (root, factory) {
  'use strict';
  const api = factory();
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.ChorusMD5 = api;
  }
})(typeof self !== 'undefined' ? self : globalThis, function () {
  'use strict';

  const S = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
  ];
  const K = new Int32Array(64);
  for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) | 0;

  function block(state, words) {
    let a = state[0];
    let b = state[1];
    let c = state[2];
    let d = state[3];
    for (let i = 0; i < 64; i++) {
      let f;
      let g;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const t = d;
      d = c;
      c = b;
      const x = (a + f + K[i] + words[g]) | 0;
      b = (b + ((x << S[i]) | (x >>> (32 - S[i])))) | 0;
      a = t;
    }
    state[0] = (state[0] + a) | 0;
    state[1] = (state[1] + b) | 0;
    state[2] = (state[2] + c) | 0;
    state[3] = (state[3] + d) | 0;
  }

  /** MD5 of `bytes` (Uint8Array) as 32 lowercase hex characters. */
  function md5Hex(bytes) {
    const state = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
    const words = new Int32Array(16);
    const n = bytes.length;
    const full = n - (n % 64);
    for (let off = 0; off < full; off += 64) {
      for (let w = 0; w < 16; w++) {
        const p = off + 4 * w;
        words[w] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
      }
      block(state, words);
    }
    // The tail: remaining bytes, 0x80, zeros, then the length in bits (64-bit little-endian).
    const tailLength = n - full < 56 ? 64 : 128;
    const tail = new Uint8Array(tailLength);
    tail.set(bytes.subarray(full));
    tail[n - full] = 0x80;
    const bitsLow = (n * 8) >>> 0;
    const bitsHigh = Math.floor(n / 0x20000000) >>> 0;
    const view = new DataView(tail.buffer);
    view.setUint32(tailLength - 8, bitsLow, true);
    view.setUint32(tailLength - 4, bitsHigh, true);
    for (let off = 0; off < tailLength; off += 64) {
      for (let w = 0; w < 16; w++) words[w] = view.getInt32(off + 4 * w, true);
      block(state, words);
    }
    let hex = '';
    const out = new DataView(state.buffer);
    for (let i = 0; i < 16; i++) hex += out.getUint8(i).toString(16).padStart(2, '0');
    return hex;
  }

  return { md5Hex };
});
