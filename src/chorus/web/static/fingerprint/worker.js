/*
 * The fingerprinting worker: files in, fingerprints out, one file at a time, nothing
 * sent anywhere. Runs as a dedicated Web Worker so the page stays responsive.
 *
 * Messages in:  {type: 'limits', limits: {maxPixels, maxSide, maxBytes, maxJpegScans}}
 *               {type: 'file', id, file: File|Blob, name, decoder?: 'auto'|'browser'}
 * Messages out: {type: 'result', id, record, elapsedMs}  record as `chorus hash` writes it
 *               {type: 'error', id, code, message, elapsedMs}
 *
 * Per file: the header is sniffed and its declared size checked before any decoding;
 * SHA-256 (WebCrypto) and MD5 of the bytes; then pixels -> PDQ (pdq.js) in strips, so at
 * most a strip of pixels is held besides the decoder's own bitmap, which is closed at once.
 * PNG is decoded by png.js (exactly as Pillow does, alpha dropped); every other format by
 * the browser (createImageBitmap, EXIF orientation applied, no colour conversion). If such
 * an image has transparency, its pixels are read through WebGL with premultiplication off,
 * because a 2D canvas premultiplies alpha and would lose the colour of transparent pixels.
 */
/* global ChorusPDQ, ChorusMD5, ChorusImageInfo, ChorusPNG */
'use strict';
importScripts('pdq.js', 'md5.js', 'imageinfo.js', 'png.js');

const { ImageRefused } = ChorusImageInfo;
let limits = ChorusImageInfo.DEFAULT_LIMITS;
const STRIP_ROWS = 256;
const queue = [];
let busy = false;

self.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === 'limits') {
    limits = Object.freeze({ ...ChorusImageInfo.DEFAULT_LIMITS, ...msg.limits });
  } else if (msg.type === 'file') {
    queue.push(msg);
    pump();
  }
};

async function pump() {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const job = queue.shift();
    const started = performance.now();
    let reply;
    try {
      const record = await fingerprintFile(job.file, job.name, job.decoder || 'auto');
      reply = { type: 'result', id: job.id, record };
    } catch (err) {
      reply = {
        type: 'error',
        id: job.id,
        code: err instanceof ImageRefused ? err.code : 'unreadable_media',
        message:
          err instanceof ImageRefused
            ? err.message
            : 'This file could not be read as a photo. It may be damaged, or in a form this browser cannot open.',
      };
    }
    reply.elapsedMs = performance.now() - started;
    self.postMessage(reply);
  }
  busy = false;
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function fingerprintFile(file, name, decoder) {
  const head = new Uint8Array(await file.slice(0, 65536).arrayBuffer());
  const info = ChorusImageInfo.inspect(head, file.size, limits);
  const bytes = new Uint8Array(await file.arrayBuffer());
  ChorusImageInfo.checkJpegScans(info, bytes, limits);
  if (info.format === 'JPEG' && !ChorusImageInfo.jpegIsComplete(bytes)) {
    throw new ImageRefused(
      'unreadable_media',
      'This image file is incomplete (it ends too early), so it cannot be read. A complete copy of the file will work.'
    );
  }
  const sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
  const md5 = ChorusMD5.md5Hex(bytes);
  const pdq = info.format === 'PNG' && decoder !== 'browser' ? await pdqOfPng(bytes) : await pdqOfBitmap(bytes);
  return {
    path: name,
    sha256,
    md5,
    pdq: pdq.hash,
    quality: pdq.quality,
    usable: pdq.usable,
    dihedral: pdq.dihedral,
    method: 'browser',
    // The robust and local signals (crops, borders, screenshots) are not made in the
    // browser yet: `chorus hash` makes them. Null here, as in a record of a plain image.
    robust: null,
    local: null,
  };
}

async function pdqOfPng(bytes) {
  let builder = null;
  let size = null;
  await ChorusPNG.decodePng(bytes, {
    begin(width, height) {
      size = [width, height];
      if (Math.min(width, height) >= ChorusPDQ.MIN_HASHABLE_SIDE) builder = new ChorusPDQ.GridBuilder(width, height);
    },
    rows(rgb, count) {
      if (builder) builder.addRows(rgb, count, 3);
    },
  });
  if (!builder) return ChorusPDQ.tooSmall();
  return ChorusPDQ.fromGrid(builder.grid(), size[0], size[1]);
}

async function pdqOfBitmap(bytes) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes]), {
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'none',
      imageOrientation: 'from-image',
    });
  } catch (err) {
    throw new ImageRefused(
      'unreadable_media',
      'This image file is damaged, or in a form this browser cannot open, so it cannot be read.'
    );
  }
  try {
    const { width, height } = bitmap;
    if (Math.min(width, height) < ChorusPDQ.MIN_HASHABLE_SIDE) return ChorusPDQ.tooSmall();
    let grid = gridViaCanvas(bitmap, true);
    if (grid === null) grid = gridViaWebGL(bitmap) || gridViaCanvas(bitmap, false);
    return ChorusPDQ.fromGrid(grid, width, height);
  } finally {
    bitmap.close();
  }
}

/** The grid from a 2D canvas, read in strips; null if `stopOnAlpha` and a pixel is transparent. */
function gridViaCanvas(bitmap, stopOnAlpha) {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true, alpha: true });
  ctx.drawImage(bitmap, 0, 0);
  const builder = new ChorusPDQ.GridBuilder(width, height);
  try {
    for (let y = 0; y < height; y += STRIP_ROWS) {
      const n = Math.min(STRIP_ROWS, height - y);
      const data = ctx.getImageData(0, y, width, n).data;
      if (stopOnAlpha) {
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return null;
      }
      builder.addRows(data, n, 4);
    }
    return builder.grid();
  } finally {
    canvas.width = canvas.height = 0; // release the backing store now, not at collection
  }
}

/** The grid from WebGL with premultiplication off: colour channels exactly as decoded. */
function gridViaWebGL(bitmap) {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext('webgl2', { premultipliedAlpha: false, antialias: false, depth: false });
  if (!gl) return null;
  const max = gl.getParameter(gl.MAX_TEXTURE_SIZE);
  if (width > max || height > max) return null;
  const texture = gl.createTexture();
  const framebuffer = gl.createFramebuffer();
  try {
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) return null;
    const builder = new ChorusPDQ.GridBuilder(width, height);
    const strip = new Uint8Array(width * 4 * STRIP_ROWS);
    for (let y = 0; y < height; y += STRIP_ROWS) {
      const n = Math.min(STRIP_ROWS, height - y);
      gl.readPixels(0, y, width, n, gl.RGBA, gl.UNSIGNED_BYTE, strip);
      if (gl.getError() !== gl.NO_ERROR) return null;
      builder.addRows(strip, n, 4);
    }
    return builder.grid();
  } finally {
    gl.deleteFramebuffer(framebuffer);
    gl.deleteTexture(texture);
    const lose = gl.getExtension('WEBGL_lose_context');
    if (lose) lose.loseContext();
  }
}
