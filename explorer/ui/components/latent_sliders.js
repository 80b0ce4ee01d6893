// The latent sliders with their decoded digit, drawn in the page on every move of a thumb.
// The server hears the code once, when a drag ends (trigger "commit": {code, seq}); seq counts this
// page's commits, so a code the server sends back is taken only once it has heard the latest one
// (a reply to an older commit never yanks a thumb back), and never over moves not yet sent (arrow keys
// pressed after a commit left, while its reply was on its way). Codes beyond the range are kept exactly.

const SLIDERS = new WeakMap(); // parentElement → its state; the function runs again on every rerun
const COMMIT_AFTER_KEYS_MS = 300; // arrow keys: one commit once the user pauses, not one per press

function buildSliders(parent) {
  const root = element("div", "live-decoder", parent);
  const figure = element("figure", "live-picture", root);
  const canvas = element("canvas", "live-canvas", figure);
  canvas.width = canvas.height = 28;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "decoded digit for the sliders' code");
  const caption = element("figcaption", "live-caption", figure);
  const status = element("div", "live-status", figure);
  const rows = element("div", "live-sliders", root);
  const state = {
    root,
    canvas,
    context: canvas.getContext("2d"),
    image: new ImageData(28, 28),
    pixels: new Uint8ClampedArray(784),
    caption,
    status,
    rows,
    inputs: new Map(), // dim → {input, output, row}
    code: [],
    seq: 0,
    spec: "",
    net: null,
    model: null,
    dragging: false,
    unsent: false, // moved since the last commit left
    timer: null,
    frames: 0,
    busy: 0,
    trigger: () => {},
  };
  root.dataset.frames = "0";
  root.addEventListener("pointerdown", (event) => {
    if (event.target.type === "range") state.dragging = true;
  });
  fingerDrags(state);
  const release = () => {
    if (state.dragging) {
      state.dragging = false;
      commit(state, 0);
    }
  };
  window.addEventListener("pointerup", release);
  window.addEventListener("pointercancel", release);
  const unfollow = followCode((pinned) => takePin(state, pinned), "pin");
  state.cleanup = () => {
    unfollow();
    window.removeEventListener("pointerup", release);
    window.removeEventListener("pointercancel", release);
    clearTimeout(state.timer);
    SLIDERS.delete(parent);
  };
  return state;
}

// Under a finger (a coarse pointer: the CSS leaves the inputs to this), a row is dragged only sideways: a
// vertical swipe that starts on a slider scrolls the page (touch-action: pan-y, then the browser cancels the
// pointer) and changes nothing; a sideways drag moves the thumb to the finger and the digit follows; a tap
// sets the value under it. The keyboard and a mouse use the inputs as they are.
const FINGER = "(pointer: coarse)";
const SIDEWAYS_PX = 8;

function valueAt(input, clientX) {
  const box = input.getBoundingClientRect();
  const thumb = 10; // the track's ends are half a thumb in from the box's sides
  const u = Math.min(1, Math.max(0, (clientX - box.left - thumb) / Math.max(1, box.width - 2 * thumb)));
  const [min, max, step] = [Number(input.min), Number(input.max), Number(input.step)];
  return Math.round((min + u * (max - min)) / step) * step;
}

function fingerDrags(state) {
  let finger = null; // {id, input, x, y, moving}
  const set = (input, clientX) => {
    const value = valueAt(input, clientX);
    if (Number(input.value) === value && state.code[Number(input.dataset.dim)] === value) return;
    input.value = String(value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };
  state.rows.addEventListener("pointerdown", (event) => {
    if (!window.matchMedia(FINGER).matches || event.pointerType === "mouse") return;
    const row = event.target.closest(".live-row");
    if (!row) return;
    finger = { id: event.pointerId, input: row.querySelector(".live-range"), x: event.clientX, y: event.clientY, moving: false };
  });
  state.rows.addEventListener("pointermove", (event) => {
    if (!finger || event.pointerId !== finger.id) return;
    const dx = event.clientX - finger.x;
    if (!finger.moving && Math.abs(dx) > SIDEWAYS_PX && Math.abs(dx) > Math.abs(event.clientY - finger.y)) {
      finger.moving = true;
      state.dragging = true;
      state.rows.setPointerCapture?.(event.pointerId);
    }
    if (finger.moving) set(finger.input, event.clientX);
  });
  const lift = (event) => {
    if (!finger || event.pointerId !== finger.id) return;
    const { input, moving } = finger;
    finger = null;
    if (event.type === "pointerup" && !moving) {
      set(input, event.clientX); // a tap on the track, as a mouse click would
      commit(state, 0);
    } // a drag commits on the window's pointerup (buildSliders); a cancelled touch was a scroll
  };
  state.rows.addEventListener("pointerup", lift);
  state.rows.addEventListener("pointercancel", lift);
}

function drawSliders(state) {
  if (state.net === null) return;
  const started = performance.now();
  decodeInto(state.net, state.code, state.pixels);
  putDigit(state.image, state.pixels);
  state.context.putImageData(state.image, 0, 0);
  state.frames += 1;
  state.busy += performance.now() - started;
  state.root.dataset.frames = String(state.frames);
  state.root.dataset.busyMs = state.busy.toFixed(1); // decoding and painting, for bench/decode_fps.py
  state.root.dataset.code = JSON.stringify(state.code);
}

function showValue(state, dim) {
  const { input, output, row } = state.inputs.get(dim);
  const value = state.code[dim];
  const extent = Number(input.max);
  const outside = Math.abs(value) > extent + 1e-9;
  if (document.activeElement !== input || !state.dragging) input.value = String(value);
  output.textContent = formatValue(value) + (outside ? (value > 0 ? " ▶" : " ◀") : "");
  row.classList.toggle("outside", outside);
  row.title = outside ? `${formatValue(value)} is beyond the sliders' ±${extent} range: kept exactly, not clipped` : "";
}

function takePin(state, { model, dims, point }) {
  if (model !== state.model || state.code.length === 0) return;
  dims.forEach((dim, i) => {
    state.code[dim] = point[i];
    if (state.inputs.has(dim)) showValue(state, dim);
  });
  if (state.net !== null) drawSliders(state);
}

function commit(state, delay) {
  clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    state.seq += 1;
    state.unsent = false;
    state.root.dataset.seq = String(state.seq);
    state.trigger("commit", { code: state.code.slice(), seq: state.seq });
    publishCode(state.model, state.code, true);
  }, delay);
}

function buildRows(state, data) {
  state.rows.replaceChildren();
  state.inputs.clear();
  for (const [dim, label] of data.sliders) {
    const row = element("label", "live-row", state.rows);
    const head = element("span", "live-head", row);
    element("span", "live-label", head, label);
    const output = element("output", "live-value", head);
    const input = element("input", "live-range", row);
    Object.assign(input, { type: "range", min: -data.extent, max: data.extent, step: data.step });
    input.setAttribute("aria-label", label);
    input.dataset.dim = String(dim);
    input.addEventListener("input", () => {
      state.code[dim] = Number(input.value);
      state.unsent = true;
      showValue(state, dim);
      drawSliders(state); // at once: the digit follows the thumb
      publishCode(state.model, state.code, false);
    });
    input.addEventListener("change", () => {
      if (!state.dragging) commit(state, COMMIT_AFTER_KEYS_MS); // a drag commits on pointerup
    });
    state.inputs.set(dim, { input, output, row });
  }
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let state = SLIDERS.get(parentElement);
  if (state === undefined) {
    state = buildSliders(parentElement);
    state.seq = data.seq;
    SLIDERS.set(parentElement, state);
  }
  state.trigger = setTriggerValue;
  state.caption.textContent = data.caption;
  const spec = JSON.stringify([data.model, data.sliders, data.extent, data.step]);
  if (spec !== state.spec) {
    state.spec = spec;
    buildRows(state, data);
    state.code = data.code.slice();
    state.unsent = false;
  } else if (!state.dragging && !state.unsent && data.seq >= state.seq && !sameCode(data.code, state.code)) {
    state.code = data.code.slice(); // a code from the server (reset, randomise, sent from another view)
    publishCode(data.model, state.code, true);
  }
  state.seq = Math.max(state.seq, data.seq);
  for (const dim of state.inputs.keys()) showValue(state, dim);
  if (state.model !== data.model) {
    state.model = data.model;
    state.net = null;
    state.status.textContent = "Loading the decoder…";
    state.root.dataset.ready = "false";
    decoderFor(data, (id) => state.trigger("need_weights", id)).then((net) => {
      if (state.model !== net.id) return;
      state.net = net;
      state.status.textContent = "";
      state.root.dataset.model = net.id;
      state.root.dataset.ready = "true";
      drawSliders(state);
    });
  } else {
    drawSliders(state);
  }
  return state.cleanup; // Streamlit calls the last one returned when the component unmounts
}
