// Marks drawn over a Plotly map (st.plotly_chart with key `chart`): a ring, a letter and the digit's picture
// at each picked point. They are not part of the figure on purpose: Streamlit gives a chart whose figure
// changed a new identity, which throws away the user's zoom and pan; the figure stays the same, the marks
// move. They follow zoom and pan from Plotly's own axes (l2p), redrawn on every relayout.

const MARKS = new WeakMap(); // parentElement → state

function plotOf(chart) {
  return document.querySelector(`.st-key-${chart} .js-plotly-plot`);
}

function attach(state) {
  const gd = plotOf(state.data.chart);
  if (gd === state.gd || !gd || !gd._fullLayout || !gd._fullLayout.xaxis || !gd.on) return;
  state.gd = gd;
  state.layer?.remove();
  const layer = document.createElement("div");
  layer.className = "map-marks";
  Object.assign(layer.style, { position: "absolute", inset: "0", pointerEvents: "none", overflow: "hidden" });
  gd.appendChild(layer);
  state.layer = layer;
  const redraw = () => draw(state);
  gd.on("plotly_relayout", redraw);
  gd.on("plotly_afterplot", redraw);
  redraw();
}

function draw(state) {
  const { gd, layer, data } = state;
  if (!gd || !layer || !gd._fullLayout.xaxis) return;
  const xa = gd._fullLayout.xaxis;
  const ya = gd._fullLayout.yaxis;
  layer.replaceChildren();
  layer.dataset.rows = JSON.stringify(data.marks.map((m) => m.row));
  for (const mark of data.marks) {
    const px = xa._offset + xa.l2p(mark.x);
    const py = ya._offset + ya.l2p(mark.y);
    if (px < xa._offset || px > xa._offset + xa._length || py < ya._offset || py > ya._offset + ya._length) continue;
    const ring = document.createElement("div");
    Object.assign(ring.style, {
      position: "absolute", left: `${px - 9}px`, top: `${py - 9}px`, width: "12px", height: "12px",
      border: "3px solid #111", borderRadius: "50%", boxShadow: "0 0 0 2px #fff",
    });
    layer.appendChild(ring);
    if (mark.label) {
      const label = document.createElement("div");
      label.textContent = mark.label;
      Object.assign(label.style, {
        position: "absolute", left: `${px - 6}px`, top: `${py - 30}px`, font: "bold 16px sans-serif",
        color: "#111", textShadow: "0 0 3px #fff, 0 0 3px #fff",
      });
      layer.appendChild(label);
    }
    const picture = document.createElement("img");
    picture.src = mark.picture;
    picture.alt = mark.alt ?? `${mark.label ? `${mark.label}: ` : ""}test digit #${mark.row}, marked on the map`;
    Object.assign(picture.style, {
      position: "absolute", left: `${px + 8}px`, top: `${py + 8}px`, width: "48px", height: "48px",
      imageRendering: "pixelated", border: "2px solid #111", borderRadius: "3px",
    });
    layer.appendChild(picture);
  }
}

export default function ({ data, parentElement }) {
  let state = MARKS.get(parentElement);
  if (state === undefined) {
    state = { gd: null, layer: null, data };
    state.timer = setInterval(() => attach(state), 300); // the chart may (re)mount after this runs
    MARKS.set(parentElement, state);
  }
  state.data = data;
  attach(state);
  draw(state);
  return () => {
    clearInterval(state.timer);
    state.layer?.remove();
    MARKS.delete(parentElement);
  };
}
