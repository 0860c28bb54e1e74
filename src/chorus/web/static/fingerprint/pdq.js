/*
 * Chorus PDQ: Meta's PDQ perceptual hash (256 bits, with quality and the eight dihedral
 * variants) in plain JavaScript, written for Chorus from Meta's published definition
 * (facebook/ThreatExchange pdq/cpp: pdqhashing.cpp, downscaling.cpp, torben.cpp).
 *
 * The same file runs in the survivor's browser (loaded by worker.js) and in Node (the
 * conformance tests), so the hash the tests check is the hash the page makes.
 *
 * Steps, as in Meta's reference and Chorus's Python exact path (chorus.fingerprint):
 *   luma = 0.299 R + 0.587 G + 0.114 B (alpha is ignored, colour channels as stored);
 *   two passes of a box ("Jarosz") filter along each axis, window ceil-ish(side / 128);
 *   sampling of a 64 x 64 grid; quality from the grid's gradients; a 16 x 64 DCT;
 *   each of the 256 coefficients above the median sets a bit.
 * Blur and sampling are linear and separable, so for each axis they are folded into one
 * 64 x N weight band (as chorus.fingerprint.fastpdq does) and applied while the rows
 * stream past: memory stays at 64 rows of accumulators whatever the image size.
 *
 * Hex format: Meta's, 64 lowercase hex characters; bit k = 16 * row + column of the 16x16
 * DCT is bit k of the 256-bit number written big-endian. Dihedral order matches
 * chorus.fingerprint.pdq.DIHEDRAL_NAMES.
 */
(function (root, factory) {
  'use strict';
  const api = factory();
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.ChorusPDQ = api;
  }
})(typeof self !== 'undefined' ? self : globalThis, function () {
  'use strict';

  const GRID = 64;
  const MIN_HASHABLE_SIDE = 5; // below this PDQ has nothing to hash (quality 0, zero hash)
  const MIN_USABLE_SIDE = 32; // below this the hash is kept but quality is reported as 0
  const MIN_QUALITY = 50; // DESIGN.md: below this a hash is too unreliable to bank
  const ZERO_HASH = '0'.repeat(64);
  const DIHEDRAL_NAMES = [
    'original',
    'rotate_90',
    'rotate_180',
    'rotate_270',
    'flip_x',
    'flip_y',
    'flip_plus_1',
    'flip_minus_1',
  ];

  /** PDQ's box-filter width for an axis of `length` pixels sampled down to 64. */
  function jaroszWindow(length) {
    return Math.floor((length + 2 * GRID - 1) / (2 * GRID));
  }

  /**
   * For one axis: per grid index, the first input index read and the weights of two box
   * passes followed by Meta's decimation (decimateFloat samples floor((i + 0.5) n / 64)).
   * Meta's box1DFloat averages [o - (w - half), o + half - 1] clipped to the axis, with
   * half = floor((w + 2) / 2).
   */
  function axisBand(length) {
    const window = jaroszWindow(length);
    const half = Math.floor((window + 2) / 2);
    const lo = (o) => Math.max(0, o - (window - half));
    const hi = (o) => Math.min(length - 1, o + half - 1);
    const starts = new Int32Array(GRID);
    const weights = [];
    for (let i = 0; i < GRID; i++) {
      const s = Math.floor(((i + 0.5) * length) / GRID);
      const loS = lo(s);
      const hiS = hi(s);
      const first = lo(loS);
      const last = hi(hiS);
      const w = new Float64Array(last - first + 1);
      const outer = 1 / (hiS - loS + 1);
      for (let o = loS; o <= hiS; o++) {
        const a = lo(o);
        const b = hi(o);
        const v = outer / (b - a + 1);
        for (let x = a; x <= b; x++) w[x - first] += v;
      }
      starts[i] = first;
      weights.push(w);
    }
    return { starts, weights };
  }

  /**
   * Accumulates the 64 x 64 grid from rows of pixels given top to bottom, in any number of
   * calls; the image is never held whole. `channels` is 4 for RGBA (canvas ImageData),
   * 3 for RGB, 1 for grey (already luma).
   */
  class GridBuilder {
    constructor(width, height) {
      if (!(width >= 1 && height >= 1)) throw new RangeError('image has no pixels');
      this.width = width;
      this.height = height;
      this.nextRow = 0;
      this.cols = axisBand(width);
      const rows = axisBand(height);
      // For each image row: which grid rows read it, with what weight.
      this.rowUsers = new Array(height);
      for (let i = 0; i < GRID; i++) {
        const w = rows.weights[i];
        for (let k = 0; k < w.length; k++) {
          const r = rows.starts[i] + k;
          if (w[k] === 0) continue;
          (this.rowUsers[r] || (this.rowUsers[r] = [])).push(i, w[k]);
        }
      }
      this.acc = new Float64Array(GRID * width);
      this.luma = new Float64Array(width);
    }

    /** Add `count` rows from `pixels` (row-major, `channels` per pixel, rows of `width`). */
    addRows(pixels, count, channels) {
      const width = this.width;
      const luma = this.luma;
      const acc = this.acc;
      if (this.nextRow + count > this.height) throw new RangeError('more rows than the image has');
      for (let k = 0; k < count; k++) {
        const users = this.rowUsers[this.nextRow++];
        if (!users) continue;
        let p = k * width * channels;
        // The first grid row that reads this image row is added to while luma is made.
        const first = users[0] * width;
        const w0 = users[1];
        if (channels === 1) {
          for (let x = 0; x < width; x++) {
            luma[x] = pixels[p + x];
            acc[first + x] += w0 * luma[x];
          }
        } else {
          for (let x = 0; x < width; x++, p += channels) {
            // As Chorus's Python path: Rec. 601 weights, rounded through float32.
            const v = Math.fround(pixels[p] * 0.299 + pixels[p + 1] * 0.587 + pixels[p + 2] * 0.114);
            luma[x] = v;
            acc[first + x] += w0 * v;
          }
        }
        for (let u = 2; u < users.length; u += 2) {
          const base = users[u] * width;
          const wgt = users[u + 1];
          for (let x = 0; x < width; x++) acc[base + x] += wgt * luma[x];
        }
      }
    }

    /** The 64 x 64 grid (row-major Float64Array); call after every row was added. */
    grid() {
      if (this.nextRow !== this.height) throw new RangeError('not every row was added');
      const out = new Float64Array(GRID * GRID);
      const { starts, weights } = this.cols;
      for (let i = 0; i < GRID; i++) {
        const base = i * this.width;
        for (let j = 0; j < GRID; j++) {
          const w = weights[j];
          const s = base + starts[j];
          let sum = 0;
          for (let k = 0; k < w.length; k++) sum += w[k] * this.acc[s + k];
          out[i * GRID + j] = sum;
        }
      }
      return out;
    }
  }

  /** Meta's computePDQImageDomainQualityMetric: 0..100 from the grid's gradients. */
  function quality(grid) {
    let gradientSum = 0;
    for (let i = 0; i < GRID - 1; i++) {
      for (let j = 0; j < GRID; j++) {
        gradientSum += Math.abs(Math.trunc(((grid[i * GRID + j] - grid[(i + 1) * GRID + j]) * 100) / 255));
      }
    }
    for (let i = 0; i < GRID; i++) {
      for (let j = 0; j < GRID - 1; j++) {
        gradientSum += Math.abs(Math.trunc(((grid[i * GRID + j] - grid[i * GRID + j + 1]) * 100) / 255));
      }
    }
    return Math.min(100, Math.trunc(gradientSum / 90));
  }

  let dctMatrix = null;
  /** Meta's 16 x 64 DCT matrix (the DC term is skipped: frequencies 1..16). */
  function dct() {
    if (!dctMatrix) {
      dctMatrix = new Float64Array(16 * GRID);
      const scale = Math.sqrt(2 / GRID);
      for (let i = 0; i < 16; i++) {
        for (let j = 0; j < GRID; j++) {
          dctMatrix[i * GRID + j] = scale * Math.cos((Math.PI / 2 / GRID) * (i + 1) * (2 * j + 1));
        }
      }
    }
    return dctMatrix;
  }

  /** The 16 x 16 DCT of the grid: D . grid . D^T. */
  function dct16(grid) {
    const d = dct();
    const tmp = new Float64Array(16 * GRID);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < GRID; j++) {
        let sum = 0;
        for (let k = 0; k < GRID; k++) sum += d[i * GRID + k] * grid[k * GRID + j];
        tmp[i * GRID + j] = sum;
      }
    }
    const out = new Float64Array(256);
    for (let i = 0; i < 16; i++) {
      for (let j = 0; j < 16; j++) {
        let sum = 0;
        for (let k = 0; k < GRID; k++) sum += tmp[i * GRID + k] * d[j * GRID + k];
        out[i * 16 + j] = sum;
      }
    }
    return out;
  }

  /**
   * The DCT of each dihedral transform of the image, derived from the original's DCT as
   * Meta does (a mirror negates the odd-index frequencies of its axis, since the DCT here
   * starts at frequency 1; a transpose swaps the axes). Order: DIHEDRAL_NAMES.
   */
  function dihedralDcts(a) {
    const make = (fn) => {
      const b = new Float64Array(256);
      for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) fn(b, i, j, a[i * 16 + j]);
      return b;
    };
    return [
      a,
      make((b, i, j, v) => { b[j * 16 + i] = j & 1 ? v : -v; }), // rotate 90
      make((b, i, j, v) => { b[i * 16 + j] = (i + j) & 1 ? -v : v; }), // rotate 180
      make((b, i, j, v) => { b[j * 16 + i] = i & 1 ? v : -v; }), // rotate 270
      make((b, i, j, v) => { b[i * 16 + j] = i & 1 ? v : -v; }), // flip x (top to bottom)
      make((b, i, j, v) => { b[i * 16 + j] = j & 1 ? v : -v; }), // flip y (left to right)
      make((b, i, j, v) => { b[j * 16 + i] = v; }), // flip plus 1 (transpose)
      make((b, i, j, v) => { b[j * 16 + i] = (i + j) & 1 ? -v : v; }), // flip minus 1
    ];
  }

  /** Bits above the median (Torben's median of 256 values is the 128th smallest). */
  function toHex(coefficients) {
    const sorted = Float64Array.from(coefficients).sort();
    const median = sorted[127];
    const words = new Uint16Array(16);
    for (let k = 0; k < 256; k++) {
      if (coefficients[k] > median) words[k >> 4] |= 1 << (k & 15);
    }
    let hex = '';
    for (let w = 15; w >= 0; w--) hex += words[w].toString(16).padStart(4, '0');
    return hex;
  }

  function fromGrid(grid, width, height) {
    const variants = dihedralDcts(dct16(grid)).map(toHex);
    let q = quality(grid);
    if (Math.min(width, height) < MIN_USABLE_SIDE) q = 0;
    return { hash: variants[0], quality: q, dihedral: variants, usable: q >= MIN_QUALITY };
  }

  function tooSmall() {
    return {
      hash: ZERO_HASH,
      quality: 0,
      dihedral: DIHEDRAL_NAMES.map(() => ZERO_HASH),
      usable: false,
    };
  }

  /** PDQ of a whole pixel array (row-major, `channels` 1, 3 or 4 per pixel). */
  function pdqFromPixels(pixels, width, height, channels) {
    if (Math.min(width, height) < MIN_HASHABLE_SIDE) return tooSmall();
    const builder = new GridBuilder(width, height);
    builder.addRows(pixels, height, channels);
    return fromGrid(builder.grid(), width, height);
  }

  /** Number of differing bits between two 64-hex-character hashes. */
  function hammingDistance(a, b) {
    let d = 0;
    for (let i = 0; i < 64; i += 8) {
      let x = (parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0;
      while (x) {
        x &= x - 1;
        d++;
      }
    }
    return d;
  }

  return {
    GRID,
    MIN_HASHABLE_SIDE,
    MIN_USABLE_SIDE,
    MIN_QUALITY,
    ZERO_HASH,
    DIHEDRAL_NAMES,
    jaroszWindow,
    axisBand,
    GridBuilder,
    quality,
    fromGrid,
    tooSmall,
    pdqFromPixels,
    hammingDistance,
  };
});
