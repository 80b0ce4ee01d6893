// Plotly figures under a finger (installed once per page, for every figure of every view).
//
// Plotly on a touch screen takes a one-finger swipe as pan or zoom (the page cannot be scrolled over a
// figure) and a tap as a hover first: its click then confirms the point hovered before, so a tap on the
// map picked the digit tapped the time before. Here the figures' plot areas never see a touch:
//  - a tap asks Plotly which point is under the finger (its own hover, so the label shows it) and, on a
//    chart that picks (Streamlit's on_select sets clickmode "event+select"), sends that point as the
//    selection, the way a mouse click does: one tap, the tapped digit;
//  - a swipe scrolls the page, unless the figure's "Pan and zoom" toggle is on: then one finger pans and
//    two fingers pinch-zoom (drawn through Plotly.relayout), and the page stays put over the figure.
// Mouse and pen are left to Plotly as they were.

const KEY = "__vaeFigureTouch";
const TAP_MOVE = 10; // px a finger may drift and still tap
const TAP_MS = 600;
const COMPAT_MS = 900; // the mouse events Chromium makes up after a tap, kept from Plotly

function touchScreen() {
  return navigator.maxTouchPoints > 0 || "ontouchstart" in window;
}

function plotOf(target) {
  if (!(target instanceof Element)) return null;
  const drag = target.closest(".drag"); // Plotly's drag layers: the plot area, the axes' edges
  if (!drag) return null;
  const gd = drag.closest(".js-plotly-plot");
  return gd && gd._fullLayout ? { gd, drag } : null;
}

function chartKey(gd) {
  const keyed = gd.closest("[class*='st-key-']");
  const name = keyed && [...keyed.classList].find((c) => c.startsWith("st-key-"));
  return name || "";
}

function panOn(state, gd) {
  return state.pan.has(chartKey(gd)) && chartKey(gd) !== "";
}

function subplotAxes(gd, drag) {
  const layout = gd._fullLayout;
  const id = drag.getAttribute("data-subplot") || "xy";
  const plot = layout._plots && layout._plots[id];
  return plot ? { id, xa: plot.xaxis, ya: plot.yaxis } : { id: "xy", xa: layout.xaxis, ya: layout.yaxis };
}

function ranges(axes) {
  return { x: axes.xa.range.slice(), y: axes.ya.range.slice() };
}

function tap(state, gd, drag, x, y) {
  const Plotly = window.Plotly;
  if (!Plotly || !Plotly.Fx) return;
  const { id } = subplotAxes(gd, drag);
  gd._hoverdata = undefined;
  Plotly.Fx.hover(gd, { clientX: x, clientY: y, target: drag }, id);
  // Plotly throttles its hover (a few tens of ms): read the point once it has been found.
  setTimeout(() => {
    const points = gd._hoverdata || [];
    gd.dataset.tapped = String(points.length);
    if (!points.length || !String(gd._fullLayout.clickmode || "").includes("select")) return;
    const p = points[0];
    state.taps += 1;
    const point = {
      curveNumber: p.curveNumber,
      pointNumber: p.pointNumber,
      pointIndex: p.pointIndex ?? p.pointNumber,
      x: p.x,
      y: p.y,
      customdata: p.customdata,
      data: p.data,
      tap: state.taps, // the same dot tapped twice is still a pick (for the morph's other end)
    };
    gd.emit("plotly_selected", { points: [point] });
  }, 90);
}

function relayout(gd, axes, xr, yr) {
  const Plotly = window.Plotly;
  if (!Plotly) return;
  Plotly.relayout(gd, { [`${axes.xa._name}.range`]: xr, [`${axes.ya._name}.range`]: yr });
}

function spread(touches) {
  const [a, b] = [touches[0], touches[1]];
  return {
    d: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY) || 1,
    x: (a.clientX + b.clientX) / 2,
    y: (a.clientY + b.clientY) / 2,
  };
}

function move(state, event) {
  const t = state.touch;
  const first = event.touches[0];
  if (Math.hypot(first.clientX - t.x, first.clientY - t.y) > TAP_MOVE || event.touches.length > 1) t.tap = false;
  if (!t.pan || t.frame) return;
  const touches = [...event.touches].map((e) => ({ clientX: e.clientX, clientY: e.clientY }));
  t.frame = requestAnimationFrame(() => {
    t.frame = 0;
    const { xa, ya } = t.axes;
    const [x0, x1] = t.start.x;
    const [y0, y1] = t.start.y;
    const sx = (x1 - x0) / xa._length;
    const sy = (y1 - y0) / ya._length;
    if (touches.length > 1) {
      if (!t.pinch) t.pinch = spread(touches);
      const now = spread(touches);
      const scale = t.pinch.d / now.d;
      const box = t.gd.getBoundingClientRect();
      const mx = x0 + (t.pinch.x - box.left - xa._offset) * sx;
      const my = y1 - (t.pinch.y - box.top - ya._offset) * sy;
      relayout(t.gd, t.axes, [mx + (x0 - mx) * scale, mx + (x1 - mx) * scale], [my + (y0 - my) * scale, my + (y1 - my) * scale]);
    } else if (!t.pinch) {
      const dx = (touches[0].clientX - t.x) * sx;
      const dy = (touches[0].clientY - t.y) * sy;
      relayout(t.gd, t.axes, [x0 - dx, x1 - dx], [y0 + dy, y1 + dy]);
    }
  });
}

// Every figure says what it shows (layout.meta.alt, set in explorer/ui/figures.py) to screen readers.
function labels() {
  for (const gd of document.querySelectorAll(".js-plotly-plot")) {
    const alt = gd.layout?.meta?.alt;
    if (alt && gd.getAttribute("aria-label") !== alt) {
      gd.setAttribute("role", "figure");
      gd.setAttribute("aria-label", alt);
    }
  }
}

// A figure whose legend is under the plot (the loss curves, the morph's errors) gets a band under its legend
// for the toggles, inside the figure's own height (Streamlit sizes the chart's boxes to the figure): over the
// plot they hid that legend. A figure the server sends anew (Plotly.react: a new layout object) gets it again.
// Maps keep their layout: their legend is above or beside, and a tap must land where the point was drawn.
const BAND = 52; // px: a 44-px button and its margins
const banded = new WeakMap(); // gd → the layout object looked at

function band(gd) {
  if (banded.get(gd) === gd.layout || !window.Plotly) return;
  banded.set(gd, gd.layout);
  const layout = gd._fullLayout;
  if (!layout.showlegend || !layout.legend || layout.legend.yref === "container" || !(layout.legend.y < 0)) return;
  window.Plotly.relayout(gd, {
    "margin.b": (layout.margin?.b ?? 80) + BAND,
    "legend.yref": "container", // just above the band, where the plot's margin ended before
    "legend.yanchor": "bottom",
    "legend.y": BAND / layout.height,
  });
}

function toggles(state) {
  labels();
  if (!touchScreen()) return;
  for (const gd of document.querySelectorAll(".js-plotly-plot")) {
    const key = chartKey(gd);
    if (!key || !gd._fullLayout) continue;
    band(gd);
    if (gd.querySelector(":scope > .figure-pan")) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "figure-pan figure-pan-toggle";
    const reset = document.createElement("button");
    reset.type = "button";
    reset.className = "figure-pan figure-reset";
    reset.textContent = "Whole figure";
    reset.title = "Back to the whole figure, as it was before any pan or zoom";
    reset.addEventListener("click", () => {
      const update = {};
      for (const name of Object.keys(gd._fullLayout)) {
        if (/^[xy]axis\d*$/.test(name)) update[`${name}.autorange`] = true;
      }
      window.Plotly?.relayout(gd, update);
    });
    const show = () => {
      const on = state.pan.has(key);
      reset.hidden = !on;
      button.setAttribute("aria-pressed", String(on));
      button.textContent = on ? "Pan and zoom: on" : "Pan and zoom: off";
      button.title = on
        ? "Drag to pan, pinch to zoom; the page scrolls beside the figure. Tap to turn off."
        : "Swipes scroll the page. Tap to pan and zoom this figure instead.";
      gd.classList.toggle("figure-pan-on", on);
    };
    button.addEventListener("click", () => {
      if (state.pan.has(key)) state.pan.delete(key);
      else state.pan.add(key);
      show();
    });
    show();
    gd.appendChild(button);
    gd.appendChild(reset);
  }
}

function install() {
  const state = { taps: 0, touch: null, lastTouch: 0, pan: new Set() };
  window[KEY] = state;
  document.addEventListener(
    "touchstart",
    (event) => {
      state.lastTouch = performance.now();
      if (state.touch) {
        // a second finger on the same figure: a pinch
        event.stopPropagation();
        state.touch.tap = false;
        return;
      }
      const hit = plotOf(event.target);
      if (!hit) return;
      event.stopPropagation(); // Plotly never sees it: no hover-first, no drag of its own
      const first = event.touches[0];
      const pan = panOn(state, hit.gd);
      const axes = subplotAxes(hit.gd, hit.drag);
      state.touch = {
        gd: hit.gd, drag: hit.drag, x: first.clientX, y: first.clientY, at: performance.now(), tap: true,
        pan: pan && axes.xa && axes.ya && !axes.xa.fixedrange, axes, start: axes.xa ? ranges(axes) : null,
        pinch: null, frame: 0,
      };
    },
    { capture: true, passive: true },
  );
  document.addEventListener(
    "touchmove",
    (event) => {
      if (!state.touch) return;
      event.stopPropagation();
      move(state, event);
    },
    { capture: true, passive: true },
  );
  const end = (event) => {
    state.lastTouch = performance.now();
    const t = state.touch;
    if (!t) return;
    event.stopPropagation();
    if (event.touches.length > 0) return; // a finger is still down
    state.touch = null;
    if (event.type === "touchend" && t.tap && performance.now() - t.at < TAP_MS) {
      if (event.cancelable) event.preventDefault(); // no made-up mouse click after it
      tap(state, t.gd, t.drag, t.x, t.y);
    }
  };
  document.addEventListener("touchend", end, { capture: true, passive: false });
  document.addEventListener("touchcancel", end, { capture: true, passive: true });
  for (const type of ["mousedown", "mousemove", "mouseup", "click", "dblclick"]) {
    document.addEventListener(
      type,
      (event) => {
        const madeUp = event.sourceCapabilities?.firesTouchEvents || performance.now() - state.lastTouch < COMPAT_MS;
        if (madeUp && plotOf(event.target)) event.stopPropagation();
      },
      true,
    );
  }
  let queued = false; // once a frame at most, however many nodes a rerun or a hover changes
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      toggles(state);
    });
  }).observe(document.body, { childList: true, subtree: true });
  toggles(state);
  return state;
}

export default function () {
  if (!window[KEY]) install();
  toggles(window[KEY]);
}
