// DeepSteg page: uploads to /api/hide and /api/reveal, shows the results, and computes
// the residual and PSNR from the decoded pixels. Plain JS, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const RESIDUAL_GAIN = 10;
const PSNR_IDENTICAL = 99; // same value as deepsteg.metrics for identical images

const state = { files: {}, urls: {}, lastHide: null, limits: null };

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

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function setBusy(on, text) {
  $("busy").hidden = !on;
  $("busy-text").textContent = text || "Working…";
  document.body.setAttribute("aria-busy", on ? "true" : "false");
  updateButtons(on);
}

function updateButtons(busy) {
  $("hide-btn").disabled = busy || !(state.files.cover && state.files.secret);
  $("reveal-btn").disabled = busy || !state.files.stego;
  $("use-stego-btn").disabled = busy;
}

function setFile(kind, file) {
  state.files[kind] = file;
  const preview = $(`${kind}-preview`);
  preview.src = urlFor(`${kind}-preview`, file);
  preview.alt = `${kind}: ${file.name || "image"}`;
  preview.hidden = false;
  preview.parentElement.querySelector(".drop-hint").textContent = `${file.name || "image"} (${(file.size / 1024).toFixed(0)} KiB)`;
  showError("");
  updateButtons(false);
}

// ---- requests --------------------------------------------------------------

async function post(path, fields) {
  const total = Object.values(fields).reduce((n, f) => n + f.size, 0);
  const limit = state.limits && state.limits.max_upload_bytes;
  if (limit && total > limit) {
    throw new Error(`upload of ${total.toLocaleString()} bytes is above the limit of ${limit.toLocaleString()} bytes`);
  }
  const form = new FormData();
  for (const [name, file] of Object.entries(fields)) form.append(name, file, file.name || `${name}.png`);
  let res;
  try {
    res = await fetch(path, { method: "POST", body: form });
  } catch (e) {
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

async function runHide() {
  showError("");
  setBusy(true, "Hiding…");
  try {
    const { cover, secret } = state.files;
    const { blob, notes } = await post("/api/hide", { cover, secret });
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
    state.lastHide = comparable ? { cover: coverPx, secret: secretPx, stego } : null;
    $("hide-result").hidden = false;
  } catch (e) {
    showError(`Hide failed: ${e.message}`);
  } finally {
    setBusy(false);
  }
}

async function runReveal() {
  showError("");
  setBusy(true, "Revealing…");
  try {
    const { stego } = state.files;
    const { blob } = await post("/api/reveal", { stego });
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
    showError(`Reveal failed: ${e.message}`);
  } finally {
    setBusy(false);
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
    $("model-name").textContent = info.serving;
  } catch (e) {
    $("model-name").textContent = "unknown";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".drop").forEach(wireDrop);
  $("hide-btn").addEventListener("click", runHide);
  $("reveal-btn").addEventListener("click", runReveal);
  $("use-stego-btn").addEventListener("click", () => {
    if (!state.stegoBlob) return;
    setFile("stego", new File([state.stegoBlob], "stego.png", { type: "image/png" }));
    $("reveal").scrollIntoView({ behavior: "smooth" });
  });
  updateButtons(false);
  loadInfo();
});
