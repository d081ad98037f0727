// DeepSteg page: uploads to /api/hide and /api/reveal, shows the results, and computes
// the residual and PSNR from the decoded pixels. Plain JS, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const RESIDUAL_GAIN = 10;
const PSNR_IDENTICAL = 99; // same value as deepsteg.metrics for identical images

const state = { files: {}, urls: {}, lastHide: null, limits: null, models: [], rates: {}, refine: 0, job: null };

// ---- pixels and figures ----------------------------------------------------

async function decode(blob) {
  const base = { colorSpaceConversion: "none", premultiplyAlpha: "none" };
  try {
    return await createImageBitmap(blob, { ...base, imageOrientation: "none" });
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    return await createImageBitmap(blob, base);
  }
}

async function pixelsOf(blob, width, height) {
  let bitmap;
  try {
    bitmap = await decode(blob);
  } catch (e) {
    return null; // a format the server reads but this browser does not
  }
  const w = width || bitmap.width;
  const h = height || bitmap.height;
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, 0, 0, w, h);
  const resized = w !== bitmap.width || h !== bitmap.height;
  bitmap.close();
  return { width: w, height: h, data: ctx.getImageData(0, 0, w, h).data, resized };
}

function psnr(a, b) {
  let sum = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const d = a.data[i + c] - b.data[i + c];
      sum += d * d;
    }
  }
  const mse = sum / (a.width * a.height * 3);
  return mse === 0 ? PSNR_IDENTICAL : 10 * Math.log10((255 * 255) / mse);
}

function samePixels(a, b) {
  if (!a || !b || a.width !== b.width || a.height !== b.height) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

function drawResidual(canvas, a, b, gain) {
  canvas.width = a.width;
  canvas.height = a.height;
  const ctx = canvas.getContext("2d");
  const out = ctx.createImageData(a.width, a.height);
  for (let i = 0; i < a.data.length; i += 4) {
    for (let c = 0; c < 3; c++) out.data[i + c] = Math.min(255, Math.abs(a.data[i + c] - b.data[i + c]) * gain);
    out.data[i + 3] = 255;
  }
  ctx.putImageData(out, 0, 0);
}

const dB = (v) => `${v.toFixed(2)} dB`;

// ---- page state ------------------------------------------------------------

function urlFor(key, blob) {
  if (state.urls[key]) URL.revokeObjectURL(state.urls[key]);
  state.urls[key] = URL.createObjectURL(blob);
  return state.urls[key];
}

function showError(action, message) {
  $(`${action}-error`).textContent = message;
  $(`${action}-error`).hidden = !message;
}

function updateButtons() {
  const busy = Boolean(state.job);
  $("hide-btn").disabled = busy || !(state.files.cover && state.files.secret);
  $("reveal-btn").disabled = busy || !state.files.stego;
  $("use-stego-btn").disabled = busy;
  $("model-select").disabled = busy;
  $("refine-input").disabled = busy;
  $("cover-psnr-input").disabled = busy;
}

function setFile(kind, file) {
  state.files[kind] = file;
  const preview = $(`${kind}-preview`);
  const hint = preview.parentElement.querySelector(".drop-hint");
  const label = `${file.name || "image"} (${(file.size / 1024).toFixed(0)} KiB)`;
  preview.onerror = () => { preview.hidden = true; hint.textContent = `${label}: no preview in this browser`; };
  preview.onload = () => { preview.hidden = false; };
  preview.src = urlFor(`${kind}-preview`, file);
  preview.alt = `${kind}: ${file.name || "image"}`;
  hint.textContent = label;
  showError(kind === "stego" ? "reveal" : "hide", "");
  updateButtons();
}

// ---- model and settings ------------------------------------------------------

function selectedModel() {
  const name = $("model-select").value;
  return state.models.find((m) => m.name === name) || { name, kind: "deep" };
}

// A model picked from the list brings its own refinement steps (a robust model refines by default).
function pickModel() {
  const m = selectedModel();
  if (m.kind === "deep" && Number.isInteger(m.refine)) $("refine-input").value = m.refine;
  showSettings();
}

function showSettings() {
  const deep = selectedModel().kind === "deep";
  $("refine-field").hidden = !deep;
  $("cover-psnr-field").hidden = !selectedModel().targetable;
  $("passphrase-field").hidden = !selectedModel().keyed;
  $("model-note").textContent = selectedModel().description || "";
}

// The cover PSNR target typed in (dB), or null: the model hides at its own strength.
function coverPsnr() {
  const text = $("cover-psnr-input").value.trim();
  return text && selectedModel().targetable ? Number(text) : null;
}

// The passphrase typed in, or null: the server's own (a keyed model or codec method only).
function passphrase() {
  const text = $("passphrase-input").value;
  return text && selectedModel().keyed ? text : null;
}

function refineSteps() {
  const v = Number($("refine-input").value);
  return Number.isInteger(v) ? v : state.refine;
}

// Seconds a job is expected to take, from the server's measured seconds per megapixel.
function estimate(op, pixels) {
  const m = selectedModel();
  const key = op === "hide" && m.kind === "deep" ? `hide:${m.name}:${refineSteps()}` : `${op}:${m.name}`;
  const rate = state.rates[key];
  return rate && pixels ? (rate * pixels) / 1e6 : null;
}

// ---- progress ------------------------------------------------------------------

function startJob(action, label, seconds) {
  const controller = new AbortController();
  const t0 = performance.now();
  const tick = () => {
    const elapsed = (performance.now() - t0) / 1000;
    const bar = $(`${action}-bar`);
    if (seconds) {
      bar.value = Math.min(0.97, elapsed / seconds);
      const left = Math.max(0, seconds - elapsed);
      $(`${action}-progress-text`).textContent = left > 0.5
        ? `${label} ${elapsed.toFixed(0)} s, about ${left.toFixed(0)} s left`
        : `${label} ${elapsed.toFixed(0)} s, almost done`;
    } else {
      bar.removeAttribute("value"); // indeterminate: no estimate yet for this kind of job
      $(`${action}-progress-text`).textContent = `${label} ${elapsed.toFixed(0)} s`;
    }
  };
  state.job = { action, controller, timer: setInterval(tick, 250) };
  tick();
  $(`${action}-progress`).hidden = false;
  document.body.setAttribute("aria-busy", "true");
  updateButtons();
  return controller.signal;
}

function endJob() {
  if (!state.job) return;
  clearInterval(state.job.timer);
  $(`${state.job.action}-progress`).hidden = true;
  state.job = null;
  document.body.setAttribute("aria-busy", "false");
  updateButtons();
}

function cancelJob() {
  if (state.job) state.job.controller.abort();
}

// ---- requests --------------------------------------------------------------

async function post(path, fields, signal) {
  const files = Object.values(fields).filter((f) => f instanceof Blob);
  const total = files.reduce((n, f) => n + f.size, 0);
  const limit = state.limits && state.limits.max_upload_bytes;
  if (limit && total > limit) {
    throw new Error(`upload of ${total.toLocaleString()} bytes is above the limit of ${limit.toLocaleString()} bytes`);
  }
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (value instanceof Blob) form.append(name, value, value.name || `${name}.png`);
    else if (value !== null && value !== undefined) form.append(name, String(value));
  }
  let res;
  try {
    res = await fetch(path, { method: "POST", body: form, signal });
  } catch (e) {
    if (e.name === "AbortError") throw new Error("cancelled");
    throw new Error(`could not reach the server (${e.message})`);
  }
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`;
    try {
      const body = await res.json();
      if (body && body.detail) detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    } catch (e) { /* not JSON: keep the status line */ }
    throw new Error(detail);
  }
  return { blob: await res.blob(), notes: res.headers.get("X-DeepSteg-Notes") || "" };
}

async function pixelCount(file) {
  const px = await pixelsOf(file);
  return px ? px.width * px.height : null;
}

async function runHide() {
  showError("hide", "");
  $("hide-result").hidden = true; // the previous result is no longer what the inputs show
  state.lastHide = null;
  const { cover, secret } = state.files;
  const m = selectedModel();
  const signal = startJob("hide", "Hiding…", estimate("hide", await pixelCount(cover)));
  try {
    const fields = { cover, secret, model: m.name, refine: m.kind === "deep" ? refineSteps() : null,
                     cover_psnr: coverPsnr(), passphrase: passphrase() };
    const { blob, notes } = await post("/api/hide", fields, signal);
    const stego = await pixelsOf(blob);
    const coverPx = stego && await pixelsOf(cover);
    const secretPx = stego && await pixelsOf(secret, stego.width, stego.height);
    $("cover-img").src = urlFor("cover-img", cover);
    $("stego-img").src = urlFor("stego", blob);
    $("stego-download").href = state.urls.stego;
    $("residual-gain").textContent = RESIDUAL_GAIN;
    const comparable = stego && coverPx && coverPx.width === stego.width && coverPx.height === stego.height;
    if (comparable) {
      drawResidual($("residual-canvas"), stego, coverPx, RESIDUAL_GAIN);
      $("psnr-hide-cover").textContent = dB(psnr(coverPx, stego));
    } else {
      $("residual-canvas").width = 0;
      $("psnr-hide-cover").textContent = "n/a (this browser decodes the cover differently)";
    }
    $("hide-notes").textContent = notes ? `Note: ${notes}` : "";
    state.stegoBlob = blob;
    state.stegoModel = m.name;
    state.lastHide = comparable ? { cover: coverPx, secret: secretPx, stego } : null;
    $("hide-result").hidden = false;
  } catch (e) {
    showError("hide", e.message === "cancelled" ? "Hide cancelled." : `Hide failed: ${e.message}`);
  } finally {
    endJob();
    loadInfo();
  }
}

async function runReveal() {
  showError("reveal", "");
  $("reveal-result").hidden = true; // never show an earlier secret beside a new stego image
  $("revealed-img").removeAttribute("src");
  $("psnr-box").hidden = true;
  const { stego } = state.files;
  const m = selectedModel();
  const signal = startJob("reveal", "Revealing…", estimate("reveal", await pixelCount(stego)));
  try {
    const fields = { stego, model: m.name, passphrase: passphrase(), force: $("force-input").checked };
    const { blob, notes } = await post("/api/reveal", fields, signal);
    $("reveal-notes").textContent = notes ? `Note: ${notes}` : "";
    $("reveal-stego-img").src = urlFor("reveal-stego", stego);
    $("revealed-img").src = urlFor("revealed", blob);
    $("secret-download").href = state.urls.revealed;
    const last = state.lastHide;
    const stegoPx = last && await pixelsOf(stego);
    const fresh = last && samePixels(stegoPx, last.stego);
    if (fresh && last.secret) {
      const revealed = await pixelsOf(blob);
      $("psnr-cover").textContent = dB(psnr(last.cover, stegoPx));
      $("psnr-secret").textContent = dB(psnr(last.secret, revealed));
      $("psnr-note").textContent = last.secret.resized ? "(secret resized in the browser for this figure)" : "";
    }
    $("psnr-box").hidden = !(fresh && last.secret);
    $("reveal-result").hidden = false;
  } catch (e) {
    showError("reveal", e.message === "cancelled" ? "Reveal cancelled." : `Reveal failed: ${e.message}`);
  } finally {
    endJob();
    loadInfo();
  }
}

// ---- wiring ----------------------------------------------------------------

function wireDrop(label) {
  const kind = label.dataset.for;
  const input = label.querySelector("input");
  input.addEventListener("change", () => { if (input.files.length) setFile(kind, input.files[0]); });
  label.addEventListener("dragover", (e) => { e.preventDefault(); label.classList.add("over"); });
  label.addEventListener("dragleave", () => label.classList.remove("over"));
  label.addEventListener("drop", (e) => {
    e.preventDefault();
    label.classList.remove("over");
    const file = e.dataTransfer.files[0];
    if (file) setFile(kind, file);
  });
}

async function loadInfo() {
  try {
    const res = await fetch("/api/models");
    const info = await res.json();
    state.limits = info.limits;
    state.rates = info.rates || {};
    if (!state.models.length) {
      state.models = info.models;
      state.refine = info.refine === null || info.refine === undefined ? info.default_refine : info.refine;
      const select = $("model-select");
      for (const m of info.models) select.add(new Option(m.name, m.name, false, m.name === info.serving));
      $("refine-input").value = state.refine;
      $("refine-input").max = info.limits.max_refine;
      $("model-name").textContent = info.serving;
      showSettings();
    }
  } catch (e) {
    $("model-name").textContent = "unknown";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".drop").forEach(wireDrop);
  $("hide-btn").addEventListener("click", runHide);
  $("reveal-btn").addEventListener("click", runReveal);
  $("hide-cancel").addEventListener("click", cancelJob);
  $("reveal-cancel").addEventListener("click", cancelJob);
  $("model-select").addEventListener("change", pickModel);
  $("use-stego-btn").addEventListener("click", () => {
    if (!state.stegoBlob) return;
    setFile("stego", new File([state.stegoBlob], "stego.png", { type: "image/png" }));
    if (state.stegoModel) { $("model-select").value = state.stegoModel; showSettings(); }
    $("reveal").scrollIntoView({ behavior: "smooth" });
  });
  updateButtons();
  loadInfo();
});
