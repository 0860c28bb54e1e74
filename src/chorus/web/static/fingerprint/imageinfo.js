/*
 * What a file is, read from its first bytes, before anything is decoded: the format
 * (sniffed from the content, never the file name, as chorus.fingerprint.decode does) and
 * the pixel size the header declares. A decompression bomb declares a huge size in a few
 * kilobytes; it is refused here, so the browser never tries to allocate its pixels.
 * Works in browsers and Node.
 */
(function (root, factory) {
  'use strict';
  const api = factory();
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.ChorusImageInfo = api;
  }
})(typeof self !== 'undefined' ? self : globalThis, function () {
  'use strict';

  /** Limits as in chorus.fingerprint.decode.Limits (the page passes the server's settings). */
  const DEFAULT_LIMITS = Object.freeze({
    maxPixels: 100000000,
    maxSide: 65535,
    maxBytes: 256 * 1024 * 1024,
    maxJpegScans: 256,
  });

  /** A refusal with a message a person can act on; `code` mirrors chorus.errors. */
  class ImageRefused extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }

  const NOT_AN_IMAGE =
    'This file is not a photo this page can read (JPEG, PNG, WebP, GIF, AVIF or BMP), or it is damaged.';

  function tooManyPixels(limits) {
    return new ImageRefused(
      'media_too_large',
      `This image has more than ${Math.floor(limits.maxPixels / 1e6)} million pixels (or a side ` +
        `longer than ${limits.maxSide} pixels), over the limit; it may be a "decompression bomb". ` +
        'A normal-sized copy will work.'
    );
  }

  function startsWith(bytes, sig, at = 0) {
    if (bytes.length < at + sig.length) return false;
    for (let i = 0; i < sig.length; i++) if (bytes[at + i] !== sig[i]) return false;
    return true;
  }

  const ascii = (s) => Array.from(s, (c) => c.charCodeAt(0));
  const be16 = (b, i) => (b[i] << 8) | b[i + 1];
  const be32 = (b, i) => ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
  const le16 = (b, i) => b[i] | (b[i + 1] << 8);
  const le24 = (b, i) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
  const le32s = (b, i) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);

  function jpegInfo(b) {
    // Walk the markers up to the first start-of-frame; count start-of-scan markers for the
    // progressive-scan limit the same way Chorus's Python side does (0xFF 0xDA anywhere).
    let i = 2;
    while (i + 9 < b.length) {
      if (b[i] !== 0xff) {
        i++;
        continue;
      }
      const marker = b[i + 1];
      if (marker === 0xff || marker === 0x00 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
        i++;
        continue;
      }
      const length = be16(b, i + 2);
      const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (sof) {
        return { format: 'JPEG', height: be16(b, i + 5), width: be16(b, i + 7), progressive: marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce };
      }
      if (marker === 0xda || length < 2) break; // scan data before any frame header
      i += 2 + length;
    }
    throw new ImageRefused('unreadable_media', 'This JPEG file is damaged (it has no image header), so it cannot be read.');
  }

  function webpInfo(b) {
    if (startsWith(b, ascii('VP8X'), 12)) {
      return { format: 'WEBP', width: le24(b, 24) + 1, height: le24(b, 27) + 1 };
    }
    if (startsWith(b, ascii('VP8L'), 12) && b[20] === 0x2f) {
      const bits = le32s(b, 21) >>> 0;
      return { format: 'WEBP', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    if (startsWith(b, ascii('VP8 '), 12) && startsWith(b, [0x9d, 0x01, 0x2a], 23)) {
      return { format: 'WEBP', width: le16(b, 26) & 0x3fff, height: le16(b, 28) & 0x3fff };
    }
    throw new ImageRefused('unreadable_media', NOT_AN_IMAGE);
  }

  /** AVIF/HEIF: the largest 'ispe' (image spatial extent) property in the first bytes. */
  function heifInfo(b, brand) {
    const avif = brand === 'avif' || brand === 'avis';
    let width = 0;
    let height = 0;
    const ispe = ascii('ispe');
    for (let i = 0; i + 16 <= b.length; i++) {
      if (startsWith(b, ispe, i)) {
        const w = be32(b, i + 8);
        const h = be32(b, i + 12);
        if (w * h > width * height) {
          width = w;
          height = h;
        }
      }
    }
    if (!avif) {
      throw new ImageRefused(
        'unsupported_in_browser',
        'This is a HEIC photo, which this browser cannot open. Your phone can usually save it ' +
          'as JPEG, or a support worker can fingerprint it with the Chorus program.'
      );
    }
    if (!width || !height) throw new ImageRefused('unreadable_media', NOT_AN_IMAGE);
    return { format: 'AVIF', width, height };
  }

  /**
   * Sniff `bytes` (the first 64 KiB of the file is enough) and return
   * {format, width, height, progressive?}; throws ImageRefused for non-images, formats the
   * browser cannot decode, and sizes over the limits.
   */
  function inspect(bytes, fileSize, limits = DEFAULT_LIMITS) {
    const b = bytes;
    if (fileSize === 0) {
      throw new ImageRefused('unreadable_media', 'The file is empty (0 bytes), so there is no image to read.');
    }
    if (fileSize > limits.maxBytes) {
      throw new ImageRefused(
        'media_too_large',
        `The file is larger than the limit of ${Math.floor(limits.maxBytes / 1048576)} MiB, so it was not read.`
      );
    }
    let info;
    if (startsWith(b, [0xff, 0xd8, 0xff])) {
      info = jpegInfo(b);
    } else if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) && startsWith(b, ascii('IHDR'), 12)) {
      info = { format: 'PNG', width: be32(b, 16), height: be32(b, 20) };
    } else if (startsWith(b, ascii('GIF87a')) || startsWith(b, ascii('GIF89a'))) {
      info = { format: 'GIF', width: le16(b, 6), height: le16(b, 8) };
    } else if (startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8)) {
      info = webpInfo(b);
    } else if (startsWith(b, ascii('BM')) && b.length >= 26) {
      info = { format: 'BMP', width: Math.abs(le32s(b, 18)), height: Math.abs(le32s(b, 22)) };
    } else if (startsWith(b, ascii('ftyp'), 4)) {
      info = heifInfo(b, String.fromCharCode(b[8], b[9], b[10], b[11]));
    } else if (startsWith(b, ascii('II*\0')) || startsWith(b, ascii('MM\0*'))) {
      throw new ImageRefused(
        'unsupported_in_browser',
        'This is a TIFF image, which browsers cannot open. Save it as JPEG or PNG first, or ' +
          'a support worker can fingerprint it with the Chorus program.'
      );
    } else {
      throw new ImageRefused('unreadable_media', NOT_AN_IMAGE);
    }
    if (!(info.width > 0 && info.height > 0)) {
      throw new ImageRefused('unreadable_media', 'This image declares no pixels, so it cannot be read.');
    }
    if (info.width * info.height > limits.maxPixels || Math.max(info.width, info.height) > limits.maxSide) {
      throw tooManyPixels(limits);
    }
    return info;
  }

  /** Number of start-of-scan markers (0xFF 0xDA) in JPEG bytes, as the Python side counts. */
  function countJpegScans(bytes) {
    let n = 0;
    for (let i = bytes.indexOf(0xff); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(0xff, i + 1)) {
      if (bytes[i + 1] === 0xda) n++;
    }
    return n;
  }

  function checkJpegScans(info, bytes, limits = DEFAULT_LIMITS) {
    if (info.format === 'JPEG' && info.progressive && countJpegScans(bytes) > limits.maxJpegScans) {
      throw new ImageRefused(
        'media_too_large',
        `This JPEG has more than ${limits.maxJpegScans} scans, far more than any camera or ` +
          'editor writes; files like this are made to stall image software, so it was not decoded.'
      );
    }
  }

  /**
   * Whether a JPEG is complete: an end-of-image marker somewhere after its first scan
   * begins. Inside scan data 0xFF is always stuffed, so 0xFF 0xD9 there is the real end;
   * an EXIF thumbnail's own end marker sits before the first scan and does not count, and
   * data appended after the end (a phone's motion-photo video) does no harm.
   */
  function jpegIsComplete(bytes) {
    let i = 2;
    let scan = -1;
    while (i + 4 <= bytes.length) {
      if (bytes[i] !== 0xff) {
        i++; // stray bytes between segments: decoders skip them too
        continue;
      }
      const marker = bytes[i + 1];
      if (marker === 0xff) {
        i++;
        continue;
      }
      if (marker === 0xda) {
        scan = i;
        break;
      }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        i += 2;
        continue;
      }
      i += 2 + be16(bytes, i + 2);
    }
    if (scan < 0) return false;
    for (let k = bytes.length - 2; k > scan; k--) {
      if (bytes[k] === 0xff && bytes[k + 1] === 0xd9) return true;
    }
    return false;
  }

  /** The orientation tag (1..8) in TIFF-structured EXIF bytes, or 1. */
  function exifOrientation(tiff) {
    try {
      const little = tiff[0] === 0x49;
      const u16 = (i) => (little ? le16(tiff, i) : be16(tiff, i));
      const u32 = (i) => (little ? le32s(tiff, i) >>> 0 : be32(tiff, i));
      const ifd = u32(4);
      const count = u16(ifd);
      for (let k = 0; k < count; k++) {
        const entry = ifd + 2 + 12 * k;
        if (entry + 12 > tiff.length) break;
        if (u16(entry) === 0x0112) {
          const value = u16(entry + 8);
          return value >= 1 && value <= 8 ? value : 1;
        }
      }
    } catch (e) {
      // Malformed EXIF never stops hashing (as on the Python side).
    }
    return 1;
  }

  return { DEFAULT_LIMITS, ImageRefused, inspect, countJpegScans, checkJpegScans, jpegIsComplete, exifOrientation };
});
