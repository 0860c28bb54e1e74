#!/usr/bin/env node
/*
 * Runs the browser fingerprinting modules (src/chorus/web/static/fingerprint/*.js, the
 * very files the page serves) in Node, for tests/web/test_browser_pdq_node.py.
 * Reads a JSON list of jobs on stdin, writes a JSON list of answers on stdout:
 *   {op: 'pixels', raw, width, height, channels} -> {hash, quality, dihedral}
 *   {op: 'png', file}    -> {width, height, rgbSha256, hash, quality, dihedral}
 *   {op: 'md5', file}    -> {md5}
 *   {op: 'inspect', file, limits?} -> {info, complete} | {code, message}
 */
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const STATIC = path.resolve(__dirname, '../../../src/chorus/web/static/fingerprint');
const PDQ = require(path.join(STATIC, 'pdq.js'));
const MD5 = require(path.join(STATIC, 'md5.js'));
const INFO = require(path.join(STATIC, 'imageinfo.js'));
const PNG = require(path.join(STATIC, 'png.js'));

async function run(job) {
  switch (job.op) {
    case 'pixels': {
      const pixels = fs.readFileSync(job.raw);
      return PDQ.pdqFromPixels(pixels, job.width, job.height, job.channels);
    }
    case 'png': {
      let width = 0;
      let height = 0;
      let builder = null;
      const digest = crypto.createHash('sha256');
      try {
        await PNG.decodePng(new Uint8Array(fs.readFileSync(job.file)), {
          begin(w, h) {
            width = w;
            height = h;
            if (Math.min(w, h) >= PDQ.MIN_HASHABLE_SIDE) builder = new PDQ.GridBuilder(w, h);
          },
          rows(rgb, count) {
            digest.update(rgb.subarray(0, count * width * 3));
            if (builder) builder.addRows(rgb, count, 3);
          },
        });
      } catch (err) {
        return { code: err.code || 'error', message: err.message };
      }
      const pdq = builder ? PDQ.fromGrid(builder.grid(), width, height) : PDQ.tooSmall();
      return { width, height, rgbSha256: digest.digest('hex'), ...pdq };
    }
    case 'md5':
      return { md5: MD5.md5Hex(new Uint8Array(fs.readFileSync(job.file))) };
    case 'inspect': {
      const bytes = new Uint8Array(fs.readFileSync(job.file));
      try {
        const limits = job.limits ? { ...INFO.DEFAULT_LIMITS, ...job.limits } : INFO.DEFAULT_LIMITS;
        const info = INFO.inspect(bytes.subarray(0, 65536), bytes.length, limits);
        INFO.checkJpegScans(info, bytes, limits);
        return { info, complete: info.format === 'JPEG' ? INFO.jpegIsComplete(bytes) : null };
      } catch (err) {
        if (!(err instanceof INFO.ImageRefused)) throw err;
        return { code: err.code, message: err.message };
      }
    }
    default:
      throw new Error(`unknown op ${job.op}`);
  }
}

(async () => {
  const jobs = JSON.parse(fs.readFileSync(0, 'utf8'));
  const answers = [];
  for (const job of jobs) answers.push(await run(job));
  process.stdout.write(JSON.stringify(answers));
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
