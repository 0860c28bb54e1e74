/*
 * The photo registration page. Photos are handed to a Web Worker (fingerprint/worker.js)
 * that makes their fingerprints inside this browser; nothing here uploads a photo. The
 * page's Content-Security-Policy only allows connections to this origin, and the only
 * request this script can make is sendFingerprintsToCase, which sends fingerprint records.
 */
'use strict';

(function () {
  const QUICK_EXIT_URL = 'https://www.bbc.co.uk/weather';
  const WORKER_URL = '/static/fingerprint/worker.js';
  const HEX64 = /^[0-9a-f]{64}$/;
  const MIN_QUALITY = 50;

  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const limits = {
    maxPixels: Number(body.dataset.maxPixels),
    maxSide: Number(body.dataset.maxSide),
    maxBytes: Number(body.dataset.maxBytes),
    maxJpegScans: Number(body.dataset.maxJpegScans),
  };

  /** One row per photo or imported record: {id, name, file?, state, record?, message?}. */
  let items = [];
  let nextId = 1;
  let worker = null;

  function startWorker() {
    worker = new Worker(WORKER_URL);
    worker.postMessage({ type: 'limits', limits });
    worker.onmessage = (event) => finish(event.data);
    worker.onerror = () => {
      for (const item of items) {
        if (item.state === 'waiting') {
          item.state = 'error';
          item.message = 'Something went wrong in this browser while reading the photos. Please try again.';
          render(item);
        }
      }
      updateProgress();
    };
  }

  // --- Adding photos ----------------------------------------------------------------

  function addFiles(fileList, decoder) {
    const files = Array.from(fileList);
    if (!files.length) return;
    if (!worker) startWorker();
    $('progress-section').hidden = false;
    for (const file of files) {
      const item = { id: nextId++, name: file.name, file, state: 'waiting' };
      items.push(item);
      render(item);
      worker.postMessage({ type: 'file', id: item.id, file, name: file.name, decoder });
    }
    updateProgress();
  }

  function finish(msg) {
    const item = items.find((i) => i.id === msg.id);
    if (!item) return; // cleared meanwhile
    item.elapsedMs = msg.elapsedMs;
    if (msg.type === 'result') {
      item.record = msg.record;
      item.state = msg.record.quality >= MIN_QUALITY ? 'made' : 'plain';
    } else {
      item.state = 'error';
      item.message = msg.message;
    }
    render(item);
    updateProgress();
  }

  const OUTCOME = {
    waiting: () => 'Waiting…',
    made: () => 'Fingerprint made.',
    loaded: () => 'Fingerprint loaded from the file.',
    plain: () => 'This photo is too plain to fingerprint reliably, so it is left out.',
    error: (item) => `This photo could not be read. ${item.message || ''}`.trim(),
  };

  function render(item) {
    let row = document.querySelector(`li[data-id="${item.id}"]`);
    if (!row) {
      row = $('result-row').content.firstElementChild.cloneNode(true);
      row.dataset.id = String(item.id);
      row.querySelector('.name').textContent = item.name;
      const show = row.querySelector('.show');
      show.setAttribute('aria-label', `Show the photo ${item.name}`);
      show.addEventListener('click', () => togglePreview(item, row));
      $('results').appendChild(row);
    }
    row.dataset.state = item.state;
    row.querySelector('.outcome').textContent = OUTCOME[item.state](item);
    row.querySelector('.show').hidden = !item.file || item.state === 'waiting' || item.state === 'error';
  }

  /** Photos appear only when the survivor asks, as a blob: URL that never leaves the page. */
  function togglePreview(item, row) {
    const preview = row.querySelector('.preview');
    const button = row.querySelector('.show');
    if (!preview.hidden) {
      const img = preview.querySelector('img');
      if (img) URL.revokeObjectURL(img.src);
      preview.replaceChildren();
      preview.hidden = true;
      button.textContent = 'Show this photo';
      button.setAttribute('aria-label', `Show the photo ${item.name}`);
      return;
    }
    const img = document.createElement('img');
    img.alt = `Your photo ${item.name}`;
    img.src = URL.createObjectURL(item.file);
    preview.appendChild(img);
    preview.hidden = false;
    button.textContent = 'Hide this photo';
    button.setAttribute('aria-label', `Hide the photo ${item.name}`);
  }

  function counts() {
    const c = { waiting: 0, made: 0, loaded: 0, plain: 0, error: 0 };
    for (const item of items) c[item.state]++;
    return c;
  }

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  function updateProgress() {
    const c = counts();
    const total = items.length;
    const done = total - c.waiting;
    const progress = $('progress');
    progress.max = Math.max(1, total);
    progress.value = done;
    const parts = [plural(c.made + c.loaded, 'fingerprint ready', 'fingerprints ready')];
    if (c.plain) parts.push(plural(c.plain, 'photo too plain', 'photos too plain'));
    if (c.error) parts.push(plural(c.error, 'file could not be read', 'files could not be read'));
    $('progress-status').textContent =
      c.waiting > 0
        ? `Making fingerprints: ${done} of ${total} done.`
        : `All done: ${parts.join(', ')}.`;
    $('keep-section').hidden = c.waiting > 0 || total === 0;
    $('keep-summary').textContent =
      c.made + c.loaded > 0
        ? `${plural(c.made + c.loaded, 'fingerprint is', 'fingerprints are')} ready to keep.`
        : 'There are no fingerprints to keep yet.';
  }

  // --- Keeping and sending ----------------------------------------------------------

  /** The fingerprint records to keep: usable ones, once each, file names only. */
  function records() {
    const seen = new Set();
    const out = [];
    for (const item of items) {
      if (!item.record || item.record.quality < MIN_QUALITY || seen.has(item.record.sha256 || item.record.pdq)) continue;
      seen.add(item.record.sha256 || item.record.pdq);
      out.push({ ...item.record, path: baseName(item.record.path || item.name) });
    }
    return out;
  }

  function baseName(path) {
    return String(path).split(/[\\/]/).pop();
  }

  /** Save as JSON Lines, one `chorus hash` record a line (`chorus bank import` reads it). */
  function save() {
    const recs = records();
    if (!recs.length) {
      $('send-status').textContent = 'There are no fingerprints to save yet.';
      return;
    }
    const text = recs.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'chorus-fingerprints.jsonl';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    $('send-status').textContent = `${plural(recs.length, 'fingerprint', 'fingerprints')} saved to the file chorus-fingerprints.jsonl.`;
  }

  /**
   * CONTRACT for the survivor portal (issue 4), the only network request this page makes.
   * The page shows "Send fingerprints to my case" only when rendered with data-send-url
   * (a same-origin path; the Content-Security-Policy forbids any other origin). It sends
   *   POST <send-url>   Content-Type: application/json
   *   {"fingerprints": [record, ...]}
   * where each record is a `chorus hash` record (path = file name only, sha256, md5, pdq,
   * quality, usable, dihedral, method = "browser"), with the survivor's session cookie
   * (credentials: same-origin) and, when the page has data-csrf-token, the header
   * X-CSRF-Token. It expects a 2xx JSON answer {"added": n, "refused": [{"sha256", "message"}]}.
   * No pixels, thumbnails or folder paths are ever part of it.
   */
  async function sendFingerprintsToCase(recs, sendUrl, csrfToken) {
    if (!sendUrl || !sendUrl.startsWith('/')) throw new Error('send address must be a path on this site');
    const headers = { 'Content-Type': 'application/json' };
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
    const response = await fetch(sendUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers,
      body: JSON.stringify({ fingerprints: recs }),
    });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    return response.json();
  }

  async function send() {
    const recs = records();
    const status = $('send-status');
    if (!recs.length) {
      status.textContent = 'There are no fingerprints to send yet.';
      return;
    }
    status.textContent = 'Sending the fingerprints…';
    try {
      const answer = await sendFingerprintsToCase(recs, body.dataset.sendUrl, body.dataset.csrfToken);
      status.textContent = `Sent. ${plural(answer.added || 0, 'fingerprint was', 'fingerprints were')} added to your case.`;
    } catch (err) {
      status.textContent = 'The fingerprints could not be sent just now. Nothing was lost: you can try again, or save them to a file.';
    }
  }

  // --- Importing a `chorus hash` file -----------------------------------------------

  /** A JSON list, or JSON Lines as `chorus hash` writes them (a line that is not JSON
   * becomes null and is counted as left out). */
  function parseRecords(text) {
    const trimmed = text.trim();
    if (trimmed.startsWith('[')) return JSON.parse(trimmed);
    const parsed = trimmed.split(/\r?\n/).filter((l) => l.trim()).map((l) => {
      try {
        return JSON.parse(l);
      } catch (err) {
        return null;
      }
    });
    if (!parsed.some((r) => r !== null)) throw new Error('no JSON');
    return parsed;
  }

  function validRecord(r) {
    return (
      r && typeof r === 'object' && !r.error && typeof r.pdq === 'string' && HEX64.test(r.pdq) &&
      Number.isInteger(r.quality) && Array.isArray(r.dihedral) && r.dihedral.length === 8 &&
      r.dihedral.every((h) => typeof h === 'string' && HEX64.test(h)) &&
      (r.sha256 === undefined || /^[0-9a-f]{64}$/.test(r.sha256)) &&
      (r.md5 === undefined || /^[0-9a-f]{32}$/.test(r.md5))
    );
  }

  /** A record's robust bank codes ([variant, 64-hex] pairs), or null when absent or not
   * in the shape `chorus hash` writes (the server checks every code again). */
  function bankedRobust(value) {
    if (!value || typeof value !== 'object' || !Array.isArray(value.bank)) return null;
    const ok = value.bank.length <= 64 && value.bank.every(
      (c) => Array.isArray(c) && c.length === 2 && typeof c[0] === 'string' && c[0].length <= 16 &&
        typeof c[1] === 'string' && HEX64.test(c[1]));
    return ok ? { version: value.version, bank: value.bank } : null;
  }

  /** A record's local bank features (base64 text), or null (the server checks them). */
  function bankedLocal(value) {
    if (!value || typeof value !== 'object' || typeof value.bank !== 'string') return null;
    const ok = value.bank.length <= 12000 && /^[A-Za-z0-9+/]+={0,2}$/.test(value.bank);
    return ok ? { version: value.version, bank: value.bank } : null;
  }

  async function importFile(file) {
    const status = $('import-status');
    let parsed;
    try {
      if (file.size > 50 * 1024 * 1024) throw new Error('too large');
      parsed = parseRecords(await file.text());
      if (!Array.isArray(parsed)) throw new Error('not a list');
    } catch (err) {
      status.textContent = 'This file is not a fingerprints file made by Chorus, so nothing was loaded.';
      return;
    }
    let loaded = 0;
    let skipped = 0;
    $('progress-section').hidden = false;
    for (const r of parsed) {
      if (!validRecord(r)) {
        skipped++;
        continue;
      }
      const record = {
        path: baseName(r.path || file.name),
        sha256: r.sha256,
        md5: r.md5,
        pdq: r.pdq,
        quality: r.quality,
        usable: r.quality >= MIN_QUALITY,
        dihedral: r.dihedral,
        method: r.method || 'unknown',
      };
      // `chorus hash` also makes the robust and local signals (they find cropped,
      // bordered and screenshotted copies). Only what is banked travels on: the codes and
      // features kept for the photo, not those made for looking it up.
      const robust = bankedRobust(r.robust);
      if (robust) record.robust = robust;
      const local = bankedLocal(r.local);
      if (local) record.local = local;
      const item = { id: nextId++, name: record.path, state: record.usable ? 'loaded' : 'plain', record };
      items.push(item);
      render(item);
      loaded++;
    }
    status.textContent =
      `${plural(loaded, 'fingerprint', 'fingerprints')} loaded from ${file.name}.` +
      (skipped ? ` ${plural(skipped, 'line was', 'lines were')} not a fingerprint and ${skipped === 1 ? 'was' : 'were'} left out.` : '');
    updateProgress();
  }

  // --- Clearing and leaving -----------------------------------------------------------

  function clearAll() {
    if (worker) {
      worker.terminate();
      worker = null;
    }
    for (const img of document.querySelectorAll('.preview img')) URL.revokeObjectURL(img.src);
    items = [];
    $('results').replaceChildren();
    for (const id of ['pick-photos', 'pick-folder', 'import-file']) $(id).value = '';
    $('progress-section').hidden = true;
    $('keep-section').hidden = true;
    for (const id of ['send-status', 'import-status', 'progress-status']) $(id).textContent = '';
  }

  /** Leave at once for a neutral page; replace() keeps this page out of the history. */
  function quickExit() {
    try {
      clearAll();
      document.title = 'Weather';
      document.body.replaceChildren();
    } finally {
      window.location.replace(QUICK_EXIT_URL);
    }
  }

  $('quick-exit').addEventListener('click', quickExit);
  $('pick-photos').addEventListener('change', (e) => addFiles(e.target.files));
  $('pick-folder').addEventListener('change', (e) => addFiles(e.target.files));
  $('import-file').addEventListener('change', (e) => e.target.files[0] && importFile(e.target.files[0]));
  $('save').addEventListener('click', save);
  $('clear').addEventListener('click', clearAll);
  if ($('send')) $('send').addEventListener('click', send);

  /** Per photo, what happened (for assistive tools and tests): no pixels, no paths. */
  function outcomes() {
    return items.map((i) => ({
      name: i.name,
      state: i.state,
      record: i.record || null,
      message: i.message || null,
      elapsedMs: i.elapsedMs ?? null,
    }));
  }

  window.ChorusRegister = { records, outcomes, sendFingerprintsToCase, addFiles, clearAll, counts, QUICK_EXIT_URL };
})();
