// app.js — the ctxenc web page: open a photo (picker or drop), paint a mask (brush, eraser,
// rectangle), undo/redo, zoom/pan, Fill through POST /api/v1/inpaint with progress, compare
// before/after, download, and fill again on the result. Plain JS, no build step, no network
// beyond this server. The mask is sent as an RGBA PNG whose alpha marks the hole (docs/api.md).
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const viewport = $('viewport'), stage = $('stage');
  const imageCanvas = $('image'), beforeCanvas = $('before'), maskCanvas = $('mask'), overlay = $('overlay');
  const imageCtx = imageCanvas.getContext('2d'), beforeCtx = beforeCanvas.getContext('2d');
  const maskCtx = maskCanvas.getContext('2d', { willReadFrequently: true }), overlayCtx = overlay.getContext('2d');
  const MAX_HISTORY = 30;

  const state = {
    name: 'photo',        // file name without extension, for the download
    source: null,         // Blob sent as `image`: the opened file, then the last result
    result: null,         // Blob of the last fill (PNG)
    hasBefore: false,     // beforeCanvas holds the image before the last fill
    before: null,         // Blob of that image
    tool: 'brush',
    size: 40,
    view: { scale: 1, tx: 0, ty: 0 },
    undo: [], redo: [],
    busy: false,
    comparing: false,
    fills: 0,             // fills done (the browser test waits on it)
  };
  window.ctxenc = state;  // for the browser test and for the curious (read-only use)

  function setStatus(text, isError = false) {
    $('status').textContent = text;
    $('status').classList.toggle('error', isError);
  }
  function setPhase(phase) { document.body.dataset.phase = phase; }  // idle | filling | done | error
  setPhase('idle');

  // ---- models -------------------------------------------------------------------------------
  fetch('api/v1/models').then((r) => r.json()).then((j) => {
    const select = $('model');
    for (const m of j.models) {
      const o = document.createElement('option');
      o.value = m.name;
      o.textContent = `${m.name} (${m.kind === 'center' ? 'central holes' : 'any mask'}, ${m.input_size}px)`;
      select.appendChild(o);
    }
    const region = j.models.find((m) => m.kind === 'region');
    if (region) select.value = region.name;
    if (!j.models.length) setStatus('The server has no models (see ctxenc serve --models).', true);
    updateButtons();
  }).catch((e) => setStatus('Cannot list the models: ' + e, true));

  // ---- opening a photo ------------------------------------------------------------------------
  async function openFile(file) {
    if (!file) return;
    if (!/^image\//.test(file.type) && !/\.(png|jpe?g|webp|bmp)$/i.test(file.name)) {
      setStatus(`'${file.name}' is not an image (PNG, JPEG, WebP or BMP).`, true);
      return;
    }
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch (e) {
      setStatus(`Cannot decode '${file.name}': ${e.message || e}`, true);
      return;
    }
    state.name = file.name.replace(/\.[^.]*$/, '') || 'photo';
    state.source = file;
    state.result = null;
    state.hasBefore = false;
    state.before = null;
    state.undo = [];
    state.redo = [];
    for (const c of [imageCanvas, beforeCanvas, maskCanvas, overlay]) {
      c.width = bitmap.width;
      c.height = bitmap.height;
    }
    imageCtx.drawImage(bitmap, 0, 0);
    stage.style.width = bitmap.width + 'px';
    stage.style.height = bitmap.height + 'px';
    stage.hidden = false;
    $('drop-hint').hidden = true;
    setComparing(false);
    fitView();
    setPhase('idle');
    setStatus(`${file.name}: ${bitmap.width}×${bitmap.height}. Paint over what should go, then Fill.`);
    updateButtons();
    viewport.focus();
  }
  $('file').addEventListener('change', (e) => { openFile(e.target.files[0]); e.target.value = ''; });
  viewport.addEventListener('dragover', (e) => { e.preventDefault(); viewport.classList.add('dragover'); });
  viewport.addEventListener('dragleave', () => viewport.classList.remove('dragover'));
  viewport.addEventListener('drop', (e) => {
    e.preventDefault();
    viewport.classList.remove('dragover');
    openFile(e.dataTransfer.files[0]);
  });

  // ---- view: zoom and pan ---------------------------------------------------------------------
  function applyView() {
    const v = state.view;
    stage.style.transform = `translate(${v.tx}px, ${v.ty}px) scale(${v.scale})`;
    $('zoom-value').textContent = Math.round(v.scale * 100) + '%';
  }
  function fitView() {
    const W = imageCanvas.width, H = imageCanvas.height, vw = viewport.clientWidth, vh = viewport.clientHeight;
    const s = Math.min(1, (vw - 24) / W, (vh - 24) / H);
    state.view = { scale: s, tx: (vw - W * s) / 2, ty: (vh - H * s) / 2 };
    applyView();
  }
  function zoomAt(factor, cx, cy) {
    const v = state.view, s = Math.min(16, Math.max(0.05, v.scale * factor));
    v.tx = cx - (cx - v.tx) * (s / v.scale);
    v.ty = cy - (cy - v.ty) * (s / v.scale);
    v.scale = s;
    applyView();
  }
  function zoomCenter(factor) { zoomAt(factor, viewport.clientWidth / 2, viewport.clientHeight / 2); }
  viewport.addEventListener('wheel', (e) => {
    if (stage.hidden) return;
    e.preventDefault();
    const r = viewport.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  $('zoom-in').onclick = () => zoomCenter(1.25);
  $('zoom-out').onclick = () => zoomCenter(0.8);
  $('zoom-fit').onclick = fitView;
  window.addEventListener('resize', () => { if (!stage.hidden) fitView(); });

  // ---- history --------------------------------------------------------------------------------
  // A step keeps the mask's pixels and the image as the Blob it was decoded from (the opened file or
  // a fill's PNG), so a fill can be undone without holding a copy of every photo. Masks of large
  // photos are big (4 bytes a pixel): the history keeps at most HISTORY_BYTES of them.
  const HISTORY_BYTES = 400 * 1024 * 1024;
  function historyLimit() {
    return Math.max(4, Math.min(MAX_HISTORY, Math.floor(HISTORY_BYTES / (4 * maskCanvas.width * maskCanvas.height))));
  }
  function snapshot() {
    return { mask: maskCtx.getImageData(0, 0, maskCanvas.width, maskCanvas.height),
             source: state.source, result: state.result, before: state.before };
  }
  async function drawBlob(ctx, blob) {
    const bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
    ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    ctx.drawImage(bitmap, 0, 0);
  }
  async function restore(s) {
    maskCtx.putImageData(s.mask, 0, 0);
    if (s.source !== state.source) await drawBlob(imageCtx, s.source);
    if (s.before && s.before !== state.before) await drawBlob(beforeCtx, s.before);
    state.source = s.source;
    state.result = s.result;
    state.before = s.before;
    state.hasBefore = !!s.before;
    if (!state.hasBefore) setComparing(false);
    updateButtons();
  }
  function pushUndo() {
    state.undo.push(snapshot());
    while (state.undo.length > historyLimit()) state.undo.shift();
    state.redo = [];
    updateButtons();
  }
  function undo() { if (state.undo.length && !state.busy) { state.redo.push(snapshot()); restore(state.undo.pop()); } }
  function redo() { if (state.redo.length && !state.busy) { state.undo.push(snapshot()); restore(state.redo.pop()); } }
  $('undo').onclick = undo;
  $('redo').onclick = redo;
  $('clear').onclick = () => {
    if (stage.hidden || state.busy) return;
    pushUndo();
    maskCtx.clearRect(0, 0, maskCanvas.width, maskCanvas.height);
    updateButtons();
  };

  // ---- tools ----------------------------------------------------------------------------------
  function setTool(t) {
    state.tool = t;
    for (const b of document.querySelectorAll('.tool')) b.classList.toggle('active', b.dataset.tool === t);
    viewport.style.cursor = t === 'pan' ? 'grab' : 'crosshair';
  }
  for (const b of document.querySelectorAll('.tool')) b.onclick = () => setTool(b.dataset.tool);
  function setSize(n) {
    state.size = Math.max(2, Math.min(300, Math.round(n)));
    $('size').value = state.size;
    $('size-value').textContent = state.size;
  }
  $('size').oninput = (e) => setSize(+e.target.value);
  setTool('brush');

  function toImage(e) {
    const r = stage.getBoundingClientRect();
    return { x: (e.clientX - r.left) / state.view.scale, y: (e.clientY - r.top) / state.view.scale };
  }
  function strokeTo(a, b) {
    maskCtx.save();
    maskCtx.globalCompositeOperation = state.tool === 'eraser' ? 'destination-out' : 'source-over';
    maskCtx.strokeStyle = maskCtx.fillStyle = 'rgb(255, 40, 40)';
    maskCtx.lineWidth = state.size;
    maskCtx.lineCap = maskCtx.lineJoin = 'round';
    maskCtx.beginPath();
    maskCtx.moveTo(a.x, a.y);
    maskCtx.lineTo(b.x, b.y);
    maskCtx.stroke();
    maskCtx.restore();
  }
  function drawCursor(p) {
    overlayCtx.clearRect(0, 0, overlay.width, overlay.height);
    if (!p || state.tool === 'pan' || state.tool === 'rect') return;
    overlayCtx.lineWidth = 1.5 / state.view.scale;
    overlayCtx.strokeStyle = '#fff';
    overlayCtx.beginPath();
    overlayCtx.arc(p.x, p.y, state.size / 2, 0, 2 * Math.PI);
    overlayCtx.stroke();
  }

  let drag = null, spaceHeld = false;
  viewport.addEventListener('pointerdown', (e) => {
    if (stage.hidden || state.busy) return;
    viewport.focus();
    viewport.setPointerCapture(e.pointerId);
    const pan = state.tool === 'pan' || spaceHeld || e.button === 1;
    if (pan) {
      drag = { kind: 'pan', x: e.clientX, y: e.clientY, tx: state.view.tx, ty: state.view.ty };
      viewport.style.cursor = 'grabbing';
      return;
    }
    if (e.button !== 0 || state.comparing) return;
    const p = toImage(e);
    pushUndo();
    if (state.tool === 'rect') {
      drag = { kind: 'rect', start: p, end: p };
    } else {
      drag = { kind: 'stroke', last: p };
      strokeTo(p, p);
    }
  });
  viewport.addEventListener('pointermove', (e) => {
    if (stage.hidden) return;
    const p = toImage(e);
    if (!drag) { drawCursor(p); return; }
    if (drag.kind === 'pan') {
      state.view.tx = drag.tx + e.clientX - drag.x;
      state.view.ty = drag.ty + e.clientY - drag.y;
      applyView();
    } else if (drag.kind === 'stroke') {
      strokeTo(drag.last, p);
      drag.last = p;
      drawCursor(p);
    } else if (drag.kind === 'rect') {
      drag.end = p;
      const r = rectOf(drag.start, drag.end);
      overlayCtx.clearRect(0, 0, overlay.width, overlay.height);
      overlayCtx.fillStyle = 'rgba(255, 40, 40, 0.35)';
      overlayCtx.fillRect(r.x, r.y, r.w, r.h);
      overlayCtx.lineWidth = 1.5 / state.view.scale;
      overlayCtx.strokeStyle = '#fff';
      overlayCtx.strokeRect(r.x, r.y, r.w, r.h);
    }
  });
  function rectOf(a, b) {
    return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
  }
  function endDrag() {
    if (!drag) return;
    if (drag.kind === 'rect') {
      const r = rectOf(drag.start, drag.end);
      overlayCtx.clearRect(0, 0, overlay.width, overlay.height);
      if (r.w >= 1 && r.h >= 1) {
        maskCtx.fillStyle = 'rgb(255, 40, 40)';
        maskCtx.fillRect(Math.round(r.x), Math.round(r.y), Math.round(r.w), Math.round(r.h));
      } else {
        state.undo.pop();  // a click without a drag changed nothing
      }
    }
    if (drag.kind === 'pan') setTool(state.tool);
    drag = null;
    updateButtons();
  }
  viewport.addEventListener('pointerup', endDrag);
  viewport.addEventListener('pointercancel', endDrag);
  viewport.addEventListener('pointerleave', () => { if (!drag) drawCursor(null); });

  // ---- fill -----------------------------------------------------------------------------------
  function maskIsEmpty() {
    if (stage.hidden) return true;
    const d = maskCtx.getImageData(0, 0, maskCanvas.width, maskCanvas.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i] >= 127) return false;
    return true;
  }
  function progress(fraction, text, busy = false) {
    const p = $('progress');
    p.hidden = fraction === null;
    p.classList.toggle('busy', busy);
    $('progress-bar').style.width = Math.round(100 * (fraction || 0)) + '%';
    $('progress-text').textContent = text || '';
  }
  async function fill() {
    if (state.busy || stage.hidden) return;
    if (!$('model').value) { setStatus('No model to fill with.', true); return; }
    if (maskIsEmpty()) { setStatus('Paint over what should go first (brush or rectangle).', true); return; }
    const maskBlob = await new Promise((res) => maskCanvas.toBlob(res, 'image/png'));
    const form = new FormData();
    form.append('image', state.source, state.result ? state.name + '-filled.png' : (state.source.name || 'photo.png'));
    form.append('mask', maskBlob, 'mask.png');
    form.append('model', $('model').value);
    state.busy = true;
    setPhase('filling');
    state.failed = false;
    updateButtons();
    const t0 = performance.now();
    let ticker = null;
    const xhr = new XMLHttpRequest();
    xhr.open('POST', 'api/v1/inpaint');
    xhr.responseType = 'blob';
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) progress(e.loaded / e.total, `Uploading… ${Math.round(100 * e.loaded / e.total)}%`);
    };
    xhr.upload.onload = () => {
      const tick = () => progress(0, `Filling… ${((performance.now() - t0) / 1000).toFixed(1)} s`, true);
      tick();
      ticker = setInterval(tick, 100);
    };
    xhr.onprogress = (e) => {
      if (e.lengthComputable) progress(e.loaded / e.total, 'Receiving the result…');
    };
    const done = (ok, message) => {
      clearInterval(ticker);
      progress(null);
      state.busy = false;
      state.failed = !ok;
      setPhase(ok ? 'done' : 'error');
      setStatus(message, !ok);
      updateButtons();
    };
    xhr.onerror = () => done(false, 'The server cannot be reached.');
    xhr.onload = async () => {
      if (xhr.status !== 200) {
        let msg = `Fill failed (HTTP ${xhr.status})`;
        try {
          const j = JSON.parse(await xhr.response.text());
          msg = `Fill failed: ${j.error} (HTTP ${xhr.status}, code ${j.code})`;
        } catch (e) { /* not JSON */ }
        done(false, msg);
        return;
      }
      const blob = xhr.response;
      const bitmap = await createImageBitmap(blob);
      pushUndo();
      beforeCtx.clearRect(0, 0, beforeCanvas.width, beforeCanvas.height);
      beforeCtx.drawImage(imageCanvas, 0, 0);
      state.hasBefore = true;
      state.before = state.source;
      imageCtx.drawImage(bitmap, 0, 0);
      maskCtx.clearRect(0, 0, maskCanvas.width, maskCanvas.height);
      state.result = blob;
      state.source = blob;  // the next Fill builds on this result
      state.fills += 1;
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      done(true, `Filled in ${secs} s (${xhr.getResponseHeader('X-Ctxenc-Holes')} hole(s)). ` +
                 'Compare with Before/after, Download, or paint more and Fill again.');
    };
    xhr.send(form);
  }
  $('fill').onclick = fill;

  // ---- before / after, download -----------------------------------------------------------------
  function setComparing(on) {
    state.comparing = on && state.hasBefore;
    viewport.classList.toggle('comparing', state.comparing);
    $('compare').setAttribute('aria-pressed', String(state.comparing));
    $('compare-bar').hidden = !state.comparing;
    updateCompare();
  }
  function updateCompare() {
    const v = +$('compare-slider').value;
    beforeCanvas.style.clipPath = `inset(0 ${100 - v}% 0 0)`;
  }
  $('compare').onclick = () => setComparing(!state.comparing);
  $('compare-slider').oninput = updateCompare;
  function download() {
    if (!state.result) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(state.result);
    a.download = state.name + '-filled.png';
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
  $('download').onclick = download;

  function updateButtons() {
    const open = !stage.hidden;
    $('undo').disabled = !state.undo.length || state.busy;
    $('redo').disabled = !state.redo.length || state.busy;
    $('fill').disabled = !open || state.busy || !$('model').value;
    $('compare').disabled = !state.hasBefore || state.busy;
    $('download').disabled = !state.result || state.busy;
    $('fill').textContent = state.busy ? 'Filling…' : (state.result ? 'Fill again' : 'Fill');
  }

  // ---- keyboard -------------------------------------------------------------------------------
  document.addEventListener('keydown', (e) => {
    if (e.target.tagName === 'SELECT' || (e.target.tagName === 'INPUT' && e.target.type !== 'range')) return;
    const k = e.key, ctrl = e.ctrlKey || e.metaKey;
    let handled = true;
    if (ctrl && (k === 'z' || k === 'Z')) (e.shiftKey ? redo : undo)();
    else if (ctrl && (k === 'y' || k === 'Y')) redo();
    else if (ctrl) handled = false;
    else if (k === '[') setSize(state.size * 0.8);
    else if (k === ']') setSize(state.size * 1.25);
    else if (k === 'b' || k === 'B') setTool('brush');
    else if (k === 'e' || k === 'E') setTool('eraser');
    else if (k === 'r' || k === 'R') setTool('rect');
    else if (k === 'h' || k === 'H') setTool('pan');
    else if (k === '+' || k === '=') zoomCenter(1.25);
    else if (k === '-') zoomCenter(0.8);
    else if (k === '0') fitView();
    else if (k === 'f' || k === 'F' || (k === 'Enter' && e.target === viewport)) fill();
    else if (k === 'c' || k === 'C') setComparing(!state.comparing);
    else if (k === 'd' || k === 'D') download();
    else if (k === 'o' || k === 'O') $('file').click();
    else if (k === 'Delete' || k === 'Backspace') $('clear').click();
    else if (k === ' ' && e.target === viewport) { spaceHeld = true; viewport.style.cursor = 'grab'; }
    else handled = false;
    if (handled) e.preventDefault();
  });
  document.addEventListener('keyup', (e) => {
    if (e.key === ' ') { spaceHeld = false; setTool(state.tool); }
  });
  updateButtons();
})();
