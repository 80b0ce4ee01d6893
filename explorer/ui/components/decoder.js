// The VAE's decoder in the page: Linear(d, h) → ReLU → Linear(h, 784) → sigmoid, on float16 weights
// sent once per model per session (explorer/components/weights.py packs them). Shared by the sliders
// and the latent pad: Python puts this file in front of each component's own code.

// Weights live on globalThis, not in the module: each component is its own module, and a view switch
// unmounts a component without reloading the page (a reload is a new session, which resends them).
const DECODERS = (globalThis.__vaeDecoders ??= new Map()); // model id → {d, h, w1, b1, w2t, b2}
const WAITING = (globalThis.__vaeDecoderWaiting ??= new Map()); // model id → [resolve, …]
const ASK_AFTER_MS = 1500; // another component on the page may be bringing the weights; then ask

let HALF_TO_FLOAT = null;

function halfTable() {
  if (HALF_TO_FLOAT === null) {
    HALF_TO_FLOAT = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exponent = (h >> 10) & 0x1f;
      const fraction = h & 0x3ff;
      HALF_TO_FLOAT[h] =
        exponent === 0
          ? sign * fraction * 2 ** -24
          : exponent === 31
            ? (fraction ? NaN : sign * Infinity)
            : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
    }
  }
  return HALF_TO_FLOAT;
}

function unpackHalf(base64) {
  const table = halfTable();
  const bytes = atob(base64);
  const out = new Float32Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) {
    out[i] = table[bytes.charCodeAt(2 * i) | (bytes.charCodeAt(2 * i + 1) << 8)];
  }
  return out;
}

function unpackBytes(base64) {
  const bytes = atob(base64);
  const out = new Int8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes.charCodeAt(i);
  return out;
}

function storeDecoder(weights) {
  if (!DECODERS.has(weights.id)) {
    DECODERS.set(weights.id, {
      id: weights.id,
      d: weights.d,
      h: weights.h,
      n: weights.n,
      w1: unpackHalf(weights.w1),
      b1: unpackHalf(weights.b1),
      w2t: unpackHalf(weights.w2t),
      b2: Float64Array.from(unpackHalf(weights.b2)),
      sums: new Float64Array(weights.n),
    });
  }
  const net = DECODERS.get(weights.id);
  for (const resolve of WAITING.get(weights.id) ?? []) resolve(net);
  WAITING.delete(weights.id);
  return net;
}

// The decoder for data.model: at once when known, else when another component brings it, else after
// ASK_AFTER_MS it calls askForWeights(id) (the server then sends them again: its note that this session
// has them was wrong, e.g. the run that carried them was interrupted).
function decoderFor(data, askForWeights) {
  if (data.weights) return Promise.resolve(storeDecoder(data.weights));
  if (DECODERS.has(data.model)) return Promise.resolve(DECODERS.get(data.model));
  return new Promise((resolve) => {
    WAITING.set(data.model, [...(WAITING.get(data.model) ?? []), resolve]);
    setTimeout(() => {
      if (!DECODERS.has(data.model)) askForWeights(data.model);
    }, ASK_AFTER_MS);
  });
}

// One decode: pixels (uint8, 784) = round(255·sigmoid(W2·relu(W1·z + b1) + b2)), summed in float64.
// Only active hidden units add their row of W2ᵀ: after the ReLU about half are zero.
function decodeInto(net, z, pixels) {
  const { d, h, n, w1, b1, w2t, b2, sums } = net;
  sums.set(b2);
  for (let j = 0; j < h; j++) {
    let a = b1[j];
    const row = j * d;
    for (let i = 0; i < d; i++) a += w1[row + i] * z[i];
    if (a > 0) {
      const offset = j * n;
      for (let k = 0; k < n; k++) sums[k] += a * w2t[offset + k];
    }
  }
  for (let k = 0; k < n; k++) pixels[k] = Math.round(255 / (1 + Math.exp(-sums[k])));
  return pixels;
}

// A 28×28 grey digit into an RGBA ImageData at (x, y) in cells of 28 pixels.
function putDigit(image, pixels, cellX = 0, cellY = 0) {
  const width = image.width;
  for (let r = 0; r < 28; r++) {
    for (let c = 0; c < 28; c++) {
      const v = pixels[r * 28 + c];
      const o = ((cellY * 28 + r) * width + cellX * 28 + c) * 4;
      image.data[o] = image.data[o + 1] = image.data[o + 2] = v;
      image.data[o + 3] = 255;
    }
  }
}

function element(tag, className, parent, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function sameCode(a, b) {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-9);
}

function formatValue(v) {
  return (v < 0 ? "−" : "") + Math.abs(v).toFixed(2);
}

// The sliders' code, shared in the page: the sliders publish every move (settled: false) and every
// commit or code taken from the server (settled: true); a slice pad of the same model follows it, so a
// commit needs no server redraw of the pad. On globalThis for the reason DECODERS is.
const CODE_BUS = (globalThis.__vaeCodeBus ??= new EventTarget());

function publishCode(model, code, settled) {
  CODE_BUS.dispatchEvent(new CustomEvent("code", { detail: { model, code: code.slice(), settled } }));
}

function followCode(listener, kind = "code") {
  const handler = (event) => listener(event.detail);
  CODE_BUS.addEventListener(kind, handler);
  return () => CODE_BUS.removeEventListener(kind, handler);
}

// A pad's pinned point, for the sliders of its model: they take its two coordinates at once, so a commit of
// theirs still on its way (arrow keys pressed just before) carries the pin and cannot undo it on the server.
function publishPin(model, dims, point) {
  CODE_BUS.dispatchEvent(new CustomEvent("pin", { detail: { model, dims: dims.slice(), point: point.slice() } }));
}
