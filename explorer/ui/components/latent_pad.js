// The latent pad: a square of two latent coordinates (the whole plane of a 2-D model, or a slice through
// the current code of a bigger one). The point under the pointer is decoded live, with a crosshair on the
// plane and a marker on the decoded grid beside it; a click pins the point (trigger "pin": [x, y]).

const PADS = new WeakMap(); // parentElement → its state
const POINTS = (globalThis.__vaePadPoints ??= new Map()); // points id → {xs, ys, digits}: sent once a session
const PLANE_PX = 720; // drawn at twice its CSS size: crisp dots on high-density screens

function buildPad(parent) {
  const root = element("div", "live-pad", parent);
  // Canvases are drawn once per data; what follows the pointer are positioned elements above them, so a
  // move repaints a few lines and one 28×28 digit, not two 720-pixel canvases.
  const planeBox = element("figure", "pad-panel", root);
  const planeStack = element("div", "pad-stack", planeBox);
  const plane = element("canvas", "pad-plane", planeStack);
  plane.width = plane.height = PLANE_PX;
  const across = element("div", "pad-line pad-across", planeStack);
  const down = element("div", "pad-line pad-down", planeStack);
  const ring = element("div", "pad-ring", planeStack);
  const planeCaption = element("figcaption", "pad-caption", planeBox);
  const gridBox = element("figure", "pad-panel", root);
  const gridStack = element("div", "pad-stack", gridBox);
  const grid = element("canvas", "pad-grid", gridStack);
  const marker = element("div", "pad-marker", gridStack);
  const gridCaption = element("figcaption", "pad-caption", gridBox);
  const digitBox = element("figure", "pad-panel pad-digit-panel", root);
  const digit = element("canvas", "pad-digit", digitBox);
  digit.width = digit.height = 28;
  const readout = element("figcaption", "pad-readout", digitBox);
  const hint = element("div", "pad-caption", digitBox);
  plane.tabIndex = 0; // the keyboard's way in: arrows move the point, Enter pins it
  plane.setAttribute("role", "application");
  grid.setAttribute("role", "img");
  digit.setAttribute("role", "img");
  readout.setAttribute("aria-live", "polite");
  const state = {
    root,
    plane,
    grid,
    digit,
    across,
    down,
    ring,
    marker,
    planeCaption,
    gridCaption,
    readout,
    hint,
    pixels: new Uint8ClampedArray(784),
    image: new ImageData(28, 28),
    data: null,
    net: null,
    spec: "",
    hover: null, // [x, y] under the pointer, or null
    frames: 0,
    framePending: false,
    fingerPinned: 0,
    pointsDrawn: null, // the id of the points on the plane layer
    trigger: () => {},
  };
  root.dataset.frames = "0";
  const unfollow = followCode((detail) => followSliders(state, detail));
  state.cleanup = () => {
    unfollow();
    PADS.delete(parent);
  };
  for (const canvas of [plane, grid]) {
    canvas.addEventListener("pointermove", (event) => hoverAt(state, canvas, event));
    canvas.addEventListener("pointerleave", () => {
      state.hover = null;
      drawPad(state);
    });
    canvas.addEventListener("click", (event) => {
      if (performance.now() - state.fingerPinned < 700) return; // the tap's click: pinned on lifting already
      pin(state, pointFromEvent(state, canvas, event));
    });
    // A finger drags over the pad (touch-action: none there) with the digit decoded under it; lifting it
    // pins the point, as a click does.
    canvas.addEventListener("pointerup", (event) => {
      if (event.pointerType === "mouse") return;
      state.fingerPinned = performance.now();
      pin(state, pointFromEvent(state, canvas, event));
    });
  }
  plane.addEventListener("keydown", (event) => keyOnPad(state, event));
  plane.addEventListener("blur", () => {
    if (state.hover === null) return;
    state.hover = null;
    drawPad(state);
  });
  return state;
}

function pin(state, z) {
  state.data.pinned = z;
  if (state.data.follow) publishPin(state.data.model, state.data.dims, z);
  state.trigger("pin", z);
  drawPad(state);
}

const PAD_KEYS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };

function keyOnPad(state, event) {
  const { data } = state;
  if (data === null) return;
  const e = data.extent;
  const point = state.hover ?? data.pinned ?? [data.base[data.dims[0]], data.base[data.dims[1]]];
  if (event.key in PAD_KEYS) {
    const step = (event.shiftKey ? 0.01 : 0.05) * 2 * e; // 1/20 of the pad, 1/100 with Shift
    const [dx, dy] = PAD_KEYS[event.key];
    const round = (x) => Math.round(Math.min(e, Math.max(-e, x)) * 1000) / 1000;
    state.hover = [round(point[0] + dx * step), round(point[1] + dy * step)];
    drawPad(state);
  } else if (event.key === "Enter" || event.key === " ") {
    pin(state, point);
    state.hover = null;
    drawPad(state);
  } else if (event.key === "Escape") {
    state.hover = null;
    drawPad(state);
  } else {
    return;
  }
  event.preventDefault(); // the arrows move the point, not the page
}

function fingerScreen() {
  return window.matchMedia("(pointer: coarse)").matches;
}

// Plane: x grows to the right, y upwards, over [−e, e]². Grid: cell centres at linspace(−e, e, steps).
function toUnit(state, canvas, event) {
  const box = canvas.getBoundingClientRect();
  const u = (event.clientX - box.left) / box.width;
  const v = (event.clientY - box.top) / box.height;
  if (canvas === state.grid) {
    const steps = state.data.steps; // the outer half-cells lie beyond ±e
    return [(u * steps - 0.5) / (steps - 1), (v * steps - 0.5) / (steps - 1)];
  }
  return [u, v];
}

function pointFromEvent(state, canvas, event) {
  const e = state.data.extent;
  const [u, v] = toUnit(state, canvas, event);
  const round = (x) => Math.round(x * 1000) / 1000;
  return [round(-e + 2 * e * u), round(e - 2 * e * v)];
}

function hoverAt(state, canvas, event) {
  if (state.data === null) return;
  state.hover = pointFromEvent(state, canvas, event);
  drawPad(state);
}

// A slice pad follows the latent sliders of its model in the page: while a thumb moves, the live digit and
// the crosshair (once a frame); when it settles, the decoded grid too (225 decodes: not on every move).
function followSliders(state, { model, code, settled }) {
  const { data } = state;
  if (data === null || !data.follow || model !== data.model || code.length !== data.base.length) return;
  data.base = code;
  if (settled) {
    state.spec = specOf(data);
    if (state.net !== null) drawGridLayer(state);
    drawPad(state);
  } else if (!state.framePending) {
    state.framePending = true;
    requestAnimationFrame(() => {
      state.framePending = false;
      drawPad(state);
    });
  }
}

function specOf(data) {
  return JSON.stringify([data.model, data.dims, data.base, data.extent, data.steps]);
}

// The test codes to draw: sent with their arrays the first time, later by id (kept on globalThis); a page
// that lacks them (a run cut short) asks again.
function pointsFor(state) {
  const packed = state.data.points;
  if (!packed) return null;
  if (packed.x !== undefined && !POINTS.has(packed.id)) {
    POINTS.set(packed.id, { xs: unpackHalf(packed.x), ys: unpackHalf(packed.y), digits: unpackBytes(packed.digits) });
  }
  const points = POINTS.get(packed.id) ?? null;
  if (points === null) state.trigger("need_points", packed.id);
  return points;
}

function codeAt(state, point) {
  const z = state.data.base.slice();
  z[state.data.dims[0]] = point[0];
  z[state.data.dims[1]] = point[1];
  return z;
}

function planePx(state, point) {
  const e = state.data.extent;
  return [((point[0] + e) / (2 * e)) * PLANE_PX, ((e - point[1]) / (2 * e)) * PLANE_PX];
}

function drawPlaneLayer(state) {
  const { data } = state;
  const g = state.plane.getContext("2d");
  const e = data.extent;
  g.fillStyle = "#fafafa";
  g.fillRect(0, 0, PLANE_PX, PLANE_PX);
  g.strokeStyle = "#e3e3e3";
  g.fillStyle = "#888";
  g.font = "22px sans-serif";
  g.lineWidth = 2;
  for (let t = Math.ceil(-e); t <= Math.floor(e); t++) {
    const [x, y] = planePx(state, [t, t]);
    g.beginPath();
    g.moveTo(x, 0);
    g.lineTo(x, PLANE_PX);
    g.moveTo(0, y);
    g.lineTo(PLANE_PX, y);
    g.stroke();
    if (t !== 0 && t % 2 === 0) {
      g.fillText(String(t), x + 4, PLANE_PX / 2 + 24);
      g.fillText(String(t), PLANE_PX / 2 + 6, y - 4);
    }
  }
  const points = pointsFor(state);
  state.pointsDrawn = points === null ? null : data.points.id;
  if (points !== null) {
    const { xs, ys, digits } = points;
    g.globalAlpha = 0.55;
    for (let i = 0; i < xs.length; i++) {
      const [x, y] = planePx(state, [xs[i], ys[i]]);
      g.fillStyle = data.colours[digits[i]];
      g.fillRect(x - 2.5, y - 2.5, 5, 5);
    }
    g.globalAlpha = 1;
  }
}

function drawGridLayer(state) {
  const { data, net } = state;
  const steps = data.steps;
  state.grid.width = state.grid.height = 28 * steps;
  const image = new ImageData(28 * steps, 28 * steps);
  const e = data.extent;
  for (let row = 0; row < steps; row++) {
    for (let col = 0; col < steps; col++) {
      const point = [-e + (2 * e * col) / (steps - 1), e - (2 * e * row) / (steps - 1)];
      putDigit(image, decodeInto(net, codeAt(state, point), state.pixels), col, row);
    }
  }
  state.grid.getContext("2d").putImageData(image, 0, 0);
}

function place(node, x, y) {
  node.style.left = `${(100 * x).toFixed(3)}%`;
  node.style.top = `${(100 * y).toFixed(3)}%`;
}

function drawPad(state) {
  const { data, net } = state;
  if (data === null || net === null) return;
  const point = state.hover ?? data.pinned ?? [data.base[data.dims[0]], data.base[data.dims[1]]];
  // The crosshair on the plane, the pinned point's ring, and a one-digit marker on the decoded grid.
  const [px, py] = planePx(state, point).map((v) => v / PLANE_PX);
  // A code beyond the pad's range (a slider dragged past it) has no place on it: no crosshair and no
  // grid marker (they would land on the picture beside it), and the readout says so.
  const inside = px >= 0 && px <= 1 && py >= 0 && py <= 1;
  for (const node of [state.across, state.down, state.marker]) node.style.display = inside ? "" : "none";
  place(state.across, 0, py);
  place(state.down, px, 0);
  state.ring.hidden = !data.pinned;
  if (data.pinned) place(state.ring, ...planePx(state, data.pinned).map((v) => v / PLANE_PX));
  const steps = data.steps;
  const toCell = (v) => ((v * (steps - 1) + 0.5) / steps); // cell centres span [½, steps − ½] / steps
  place(state.marker, toCell(px), toCell(py));
  state.marker.style.width = state.marker.style.height = `${100 / steps}%`;
  // The live digit.
  decodeInto(net, codeAt(state, point), state.pixels);
  putDigit(state.image, state.pixels);
  state.digit.getContext("2d").putImageData(state.image, 0, 0);
  const [a, b] = data.axis_labels;
  const outside = inside ? "" : " (outside this pad)";
  state.readout.textContent = `${a} = ${formatValue(point[0])}, ${b} = ${formatValue(point[1])}${outside}`;
  const finger = fingerScreen();
  const idle = finger ? "drag a finger over the plane or the grid; lift it to pin the point" : data.idle_hint;
  const live = finger ? "lift your finger to pin this point" : "click or press Enter to pin this point";
  state.hint.textContent = state.hover ? live : data.pinned ? "pinned" : idle;
  state.digit.setAttribute("aria-label", `decoded digit at ${state.readout.textContent}`);
  state.frames += 1;
  Object.assign(state.root.dataset, {
    frames: String(state.frames),
    point: JSON.stringify(point),
    code: JSON.stringify(codeAt(state, point)),
    crosshair: JSON.stringify([px, py]),
  });
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let state = PADS.get(parentElement);
  if (state === undefined) {
    state = buildPad(parentElement);
    PADS.set(parentElement, state);
  }
  state.trigger = setTriggerValue;
  state.planeCaption.textContent = data.plane_caption;
  state.gridCaption.textContent = data.grid_caption;
  const [a, b] = data.axis_labels;
  state.plane.setAttribute(
    "aria-label",
    `latent pad, ${a} across and ${b} up, from ${-data.extent} to ${data.extent}: ${data.plane_caption}. ` +
      "Arrow keys move the point (Shift for small steps), Enter pins it.",
  );
  state.grid.setAttribute("aria-label", `${data.grid_caption}: a grid of decoded digits over ${a} and ${b}`);
  const previous = state.data;
  state.data = { ...data, pinned: data.pinned ?? null };
  const spec = specOf(data);
  const redrawGrid = spec !== state.spec;
  state.spec = spec;
  const samePlane = previous !== null && previous.extent === data.extent && state.pointsDrawn === (data.points?.id ?? null);
  if (!samePlane) drawPlaneLayer(state);
  if (state.net !== null && state.net.id === data.model) {
    if (redrawGrid) drawGridLayer(state);
    drawPad(state);
    return state.cleanup;
  }
  state.net = null;
  state.root.dataset.ready = "false";
  decoderFor(data, (id) => state.trigger("need_weights", id)).then((net) => {
    if (state.data.model !== net.id) return;
    state.net = net;
    drawGridLayer(state);
    state.root.dataset.ready = "true";
    drawPad(state);
  });
  return state.cleanup;
}
