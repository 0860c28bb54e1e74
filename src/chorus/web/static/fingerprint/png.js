/*
 * PNG to 8-bit RGB rows, the way Chorus's Python exact path (Pillow) sees them.
 *
 * Why not the browser's own decoder for PNG: a canvas stores premultiplied alpha, so the
 * colour of a transparent or half-transparent pixel is lost or rounded, while Meta's
 * reference (and the Python path) drop alpha and hash the colour channels as stored; and
 * browsers scale 16-bit grey to 8 bits where Pillow clips it (the reference vector
 * pytx/I16.png only reproduces with clipping). Decompression is the browser's own
 * (DecompressionStream, also in Node 18+); this file only parses chunks, undoes PNG's
 * row filters and converts pixels:
 *   grey 1/2/4 bit -> scaled to 0..255; grey 16 bit -> clipped to 255 (Pillow's I;16);
 *   other 16-bit samples -> their high byte; palette -> palette colour (tRNS ignored);
 *   alpha -> dropped. Interlaced (Adam7) files are supported; the EXIF orientation in an
 *   eXIf chunk is applied, as Pillow's exif_transpose does.
 * Works in browsers and Node.
 */
(function (root, factory) {
  'use strict';
  const api = factory(root.ChorusImageInfo || (typeof require === 'function' ? require('./imageinfo.js') : null));
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.ChorusPNG = api;
  }
})(typeof self !== 'undefined' ? self : globalThis, function (info) {
  'use strict';

  const { ImageRefused, exifOrientation } = info;
  const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
  const ADAM7 = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];

  function damaged(detail) {
    return new ImageRefused('unreadable_media', `This PNG file is damaged and cannot be read (${detail}).`);
  }

  const be32 = (b, i) => ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);

  function parseChunks(bytes) {
    const header = {};
    const idat = [];
    let palette = null;
    let orientation = 1;
    let i = 8;
    let ended = false;
    while (i + 8 <= bytes.length) {
      const length = be32(bytes, i);
      const type = String.fromCharCode(bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]);
      const start = i + 8;
      if (start + length > bytes.length) throw damaged(`the ${type} chunk runs past the end`);
      const data = bytes.subarray(start, start + length);
      if (type === 'IHDR') {
        header.width = be32(data, 0);
        header.height = be32(data, 4);
        header.depth = data[8];
        header.colourType = data[9];
        header.interlaced = data[12] === 1;
      } else if (type === 'PLTE') {
        palette = data;
      } else if (type === 'IDAT') {
        idat.push(data);
      } else if (type === 'eXIf') {
        orientation = exifOrientation(data);
      } else if (type === 'IEND') {
        ended = true;
        break;
      }
      i = start + length + 4; // skip the CRC
    }
    if (!header.width) throw damaged('no header');
    if (!idat.length) throw damaged('no image data');
    if (!(header.colourType in CHANNELS) || ![1, 2, 4, 8, 16].includes(header.depth)) {
      throw damaged('unknown pixel format');
    }
    if (header.colourType === 3 && !palette) throw damaged('no palette');
    if (!ended && idat.length === 0) throw damaged('it ends too early');
    return { header, idat, palette, orientation };
  }

  /** Inflate the zlib stream into exactly `expected` bytes (refusing more: a bomb). */
  async function inflate(chunks, expected) {
    const out = new Uint8Array(expected);
    let filled = 0;
    const stream = new Blob(chunks).stream().pipeThrough(new DecompressionStream('deflate'));
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (filled + value.length > expected) {
          // Extra data after the image: Pillow ignores it as well; stop reading.
          out.set(value.subarray(0, expected - filled), filled);
          filled = expected;
          await reader.cancel();
          break;
        }
        out.set(value, filled);
        filled += value.length;
      }
    } catch (e) {
      if (filled < expected) {
        throw new ImageRefused(
          'unreadable_media',
          'This PNG file is incomplete or damaged, so it cannot be read. A complete copy of the file will work.'
        );
      }
    }
    if (filled < expected) {
      throw new ImageRefused(
        'unreadable_media',
        'This PNG file is incomplete (it ends too early), so it cannot be read. A complete copy of the file will work.'
      );
    }
    return out;
  }

  function unfilter(data, offset, rowBytes, rows, bpp, prev = -1) {
    // Undo PNG's per-row filters in place; `prev` is where the row above starts (-1: none).
    // Returns the offset after the last row.
    for (let r = 0; r < rows; r++) {
      const filter = data[offset];
      const row = offset + 1;
      for (let x = 0; x < rowBytes; x++) {
        const left = x >= bpp ? data[row + x - bpp] : 0;
        const up = prev >= 0 ? data[prev + x] : 0;
        const upLeft = prev >= 0 && x >= bpp ? data[prev + x - bpp] : 0;
        let add;
        switch (filter) {
          case 0: add = 0; break;
          case 1: add = left; break;
          case 2: add = up; break;
          case 3: add = (left + up) >> 1; break;
          case 4: {
            const p = left + up - upLeft;
            const pa = Math.abs(p - left);
            const pb = Math.abs(p - up);
            const pc = Math.abs(p - upLeft);
            add = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
            break;
          }
          default:
            throw damaged('unknown row filter');
        }
        data[row + x] = (data[row + x] + add) & 0xff;
      }
      prev = row;
      offset = row + rowBytes;
    }
    return offset;
  }

  /** Convert one unfiltered row (starting at `at`) of `width` pixels to RGB at `out[o]`. */
  function rowToRgb(h, palette, data, at, width, out, o, step) {
    const { depth, colourType } = h;
    const channels = CHANNELS[colourType];
    for (let x = 0; x < width; x++, o += step) {
      let r;
      let g;
      let b;
      if (depth < 8) {
        const bitPos = x * depth;
        const byte = data[at + (bitPos >> 3)];
        const v = (byte >> (8 - depth - (bitPos & 7))) & ((1 << depth) - 1);
        if (colourType === 3) {
          r = palette[3 * v] || 0;
          g = palette[3 * v + 1] || 0;
          b = palette[3 * v + 2] || 0;
        } else {
          r = g = b = depth === 1 ? v * 255 : depth === 2 ? v * 85 : v * 17;
        }
      } else if (depth === 8) {
        const p = at + x * channels;
        if (colourType === 3) {
          const v = data[p];
          r = palette[3 * v] || 0;
          g = palette[3 * v + 1] || 0;
          b = palette[3 * v + 2] || 0;
        } else if (channels <= 2) {
          r = g = b = data[p];
        } else {
          r = data[p];
          g = data[p + 1];
          b = data[p + 2];
        }
      } else {
        const p = at + x * channels * 2;
        if (colourType === 0) {
          const v = (data[p] << 8) | data[p + 1];
          r = g = b = v > 255 ? 255 : v; // Pillow's I;16 -> RGB clips
        } else if (channels === 2) {
          r = g = b = data[p];
        } else {
          r = data[p];
          g = data[p + 2];
          b = data[p + 4];
        }
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }

  /** Stored pixel (row, col) for upright (y, x) under EXIF orientation `tag`. */
  const AXES = {
    1: [false, false, false],
    2: [false, false, true],
    3: [false, true, true],
    4: [false, true, false],
    5: [true, false, false],
    6: [true, false, true],
    7: [true, true, true],
    8: [true, true, false],
  };

  function orientRgb(rgb, width, height, tag) {
    const [fromCols, rowsFlipped, colsFlipped] = AXES[tag] || AXES[1];
    const w2 = fromCols ? height : width;
    const h2 = fromCols ? width : height;
    const out = new Uint8Array(rgb.length);
    for (let y = 0; y < h2; y++) {
      const ry = rowsFlipped ? h2 - 1 - y : y;
      for (let x = 0; x < w2; x++) {
        const rx = colsFlipped ? w2 - 1 - x : x;
        const src = 3 * (fromCols ? rx * width + ry : ry * width + rx);
        const dst = 3 * (y * w2 + x);
        out[dst] = rgb[src];
        out[dst + 1] = rgb[src + 1];
        out[dst + 2] = rgb[src + 2];
      }
    }
    return { rgb: out, width: w2, height: h2 };
  }

  /**
   * Decode PNG `bytes`, calling sink.begin(width, height) once (upright size) then
   * sink.rows(rgb, count) with rows of 3-channel pixels, top to bottom.
   */
  async function decodePng(bytes, sink) {
    const { header: h, idat, palette, orientation } = parseChunks(bytes);
    const channels = CHANNELS[h.colourType];
    const bitsPerPixel = channels * h.depth;
    const bpp = Math.max(1, bitsPerPixel >> 3);
    const rowBytesFor = (w) => Math.ceil((w * bitsPerPixel) / 8);
    const passes = h.interlaced
      ? ADAM7.map(([x0, y0, dx, dy]) => ({
          x0, y0, dx, dy,
          w: Math.max(0, Math.ceil((h.width - x0) / dx)),
          h: Math.max(0, Math.ceil((h.height - y0) / dy)),
        })).filter((p) => p.w > 0 && p.h > 0)
      : [{ x0: 0, y0: 0, dx: 1, dy: 1, w: h.width, h: h.height }];
    let expected = 0;
    for (const p of passes) expected += (1 + rowBytesFor(p.w)) * p.h;
    const data = await inflate(idat, expected);
    const whole = h.interlaced || orientation !== 1;
    if (!whole) {
      // Stream: unfilter and convert a strip of rows at a time.
      sink.begin(h.width, h.height);
      const rowBytes = rowBytesFor(h.width);
      const strip = 64;
      const rgb = new Uint8Array(h.width * 3 * strip);
      let offset = 0;
      for (let y = 0; y < h.height; y += strip) {
        const n = Math.min(strip, h.height - y);
        const start = offset;
        offset = unfilter(data, offset, rowBytes, n, bpp, y > 0 ? start - rowBytes : -1);
        for (let k = 0; k < n; k++) rowToRgb(h, palette, data, start + k * (rowBytes + 1) + 1, h.width, rgb, k * h.width * 3, 3);
        sink.rows(rgb, n);
      }
      return;
    }
    let rgb = new Uint8Array(h.width * h.height * 3);
    let offset = 0;
    for (const p of passes) {
      const rowBytes = rowBytesFor(p.w);
      const start = offset;
      offset = unfilter(data, offset, rowBytes, p.h, bpp);
      for (let k = 0; k < p.h; k++) {
        const y = p.y0 + k * p.dy;
        rowToRgb(h, palette, data, start + k * (rowBytes + 1) + 1, p.w, rgb, 3 * (y * h.width + p.x0), 3 * p.dx);
      }
    }
    let width = h.width;
    let height = h.height;
    if (orientation !== 1) ({ rgb, width, height } = orientRgb(rgb, width, height, orientation));
    sink.begin(width, height);
    sink.rows(rgb, height);
  }

  return { decodePng, orientRgb };
});
