// tracekit big-trace waterfall: canvas renderer with level of detail (see tracekit/plotting/gl.py).
(function () {
  "use strict";
  function arr(s, T) {
    const bin = atob(s), u = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    return new T(u.buffer);
  }
  function rgb(hex) { const v = parseInt(hex.slice(1), 16); return [(v >> 16) & 255, (v >> 8) & 255, v & 255]; }
  // any CSS colour ("red", "rgb(…)", "#abc") as [r, g, b], read back through the canvas: parsing "red" as hex drew
  // the spans narrower than a pixel blue (0,0,237) and the wide ones red
  function cssRgb(ctx, c) {
    ctx.fillStyle = "#000000"; ctx.fillStyle = c;
    const v = String(ctx.fillStyle);
    if (v[0] === "#") return rgb(v);
    const m = v.match(/[\d.]+/g);
    return m ? [+m[0], +m[1], +m[2]] : [0, 0, 0];
  }
  // a duration in ms by tracekit's one rule (tracekit.core.words.ms_label, ported; a test compares the two): one
  // decimal with thousands separators from 1 ms up, below it the two significant digits that tell. toFixed(3) wrote
  // a 40 ns span "0.000 ms"
  // (half to even, as Python's format and numpy's positional format round the exact binary value)
  const MS1 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1, roundingMode: "halfEven" });
  const MS2 = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 2, useGrouping: false, roundingMode: "halfEven" });
  function fmt(v) {
    if (!isFinite(v)) return "n/a";
    return (Math.abs(v) >= 1 || v === 0 ? MS1.format(v) : MS2.format(v)) + " ms";
  }

  function Waterfall(root, d) {
    const n = d.n, S = arr(d.start, Float64Array), E = arr(d.end, Float64Array);
    const depth = arr(d.depth, Int32Array), svc = arr(d.svc, Int32Array), nm = arr(d.name, Int32Array);
    const flags = arr(d.flags, Uint8Array), parent = arr(d.parent, Int32Array);
    const logErr = d.log_errors ? arr(d.log_errors, Int32Array) : new Int32Array(n);
    const cpRow = arr(d.cp_row, Int32Array), cpS = arr(d.cp_start, Float64Array), cpE = arr(d.cp_end, Float64Array);
    const colors = d.colors;
    const LABEL = 220, W = Math.max(200, (root.clientWidth || 1200) - LABEL - 10), H = d.height;
    root.querySelector(".tkw-title").textContent = d.title;
    const canvas = root.querySelector("canvas");
    canvas.width = W + LABEL; canvas.height = H;
    const ctx = canvas.getContext("2d");
    const packed = colors.map(c => { const [r, g, b] = cssRgb(ctx, c); return (255 << 24) | (b << 16) | (g << 8) | r; });
    const img = ctx.createImageData(W, H), pix = new Uint32Array(img.data.buffer);
    const full = { x0: 0, x1: Math.max(d.t_end, 1e-9), r0: 0, r1: Math.max(n, 1) };
    let view = Object.assign({}, full), matches = null, matchPos = -1, selected = -1;
    const self = { n: n, W: W, H: H, LABEL: LABEL, last: null, record: false, drawn: null };

    // a row's label: indented by depth up to MAX_INDENT levels, a deeper row saying its depth (it was drawn at level
    // 40 whatever its depth: a span 500 deep read as one 40 deep), as tracekit.waterfall_data's labels do
    const MAX_INDENT = 40;
    function labelOf(i) {
      return "\u00a0\u00a0".repeat(Math.min(depth[i], MAX_INDENT)) + (depth[i] > MAX_INDENT ? "[depth " + depth[i] + "] " : "")
        + ((flags[i] & 1) ? "\u26a0 " : "") + d.names[nm[i]];
    }

    function draw() {
      const t0 = performance.now();
      const { x0, x1, r0, r1 } = view, sx = W / (x1 - x0), rh = H / (r1 - r0);
      const i0 = Math.max(0, Math.floor(r0)), i1 = Math.min(n, Math.ceil(r1));
      const bh = Math.max(1, rh >= 3 ? Math.floor(rh * 0.8) : Math.ceil(rh)), off = rh >= 3 ? (rh - bh) / 2 : 0;
      ctx.clearRect(0, 0, W + LABEL, H);
      pix.fill(0);
      const wide = [];
      let tiny = 0;
      const drawn = self.record ? new Uint8Array(n) : null;
      for (let i = i0; i < i1; i++) {
        let a = (S[i] - x0) * sx, b = (E[i] - x0) * sx;
        if (b < 0 || a > W) continue;
        const y = Math.floor((i - r0) * rh + off);
        if (y >= H || y + bh <= 0) continue;
        if (drawn) drawn[i] = 1;
        if (b - a >= 1) { wide.push(i); continue; }
        tiny++;  // narrower than a pixel: merged into the pixel it falls in
        const px = Math.min(W - 1, Math.max(0, Math.floor(a))), c = packed[svc[i]];
        for (let yy = Math.max(0, y); yy < Math.min(H, y + bh); yy++) pix[yy * W + px] = c;
      }
      ctx.putImageData(img, LABEL, 0);
      ctx.save();
      ctx.beginPath(); ctx.rect(LABEL, 0, W, H); ctx.clip();
      let fill = null;
      for (let k = 0; k < wide.length; k++) {
        const i = wide[k], c = colors[svc[i]];
        if (c !== fill) { ctx.fillStyle = c; fill = c; }
        const a = Math.max(-1, (S[i] - x0) * sx), b = Math.min(W + 1, (E[i] - x0) * sx);
        ctx.fillRect(LABEL + a, Math.floor((i - r0) * rh + off), b - a, bh);
      }
      // critical path: thin dark bars over the spans, at least a pixel wide
      let ncp = 0;
      ctx.fillStyle = d.critical_color;
      const ch = Math.max(1, Math.round(bh * 0.3));
      for (let k = 0; k < cpRow.length; k++) {
        const i = cpRow[k];
        if (i < i0 || i >= i1) continue;
        let a = (cpS[k] - x0) * sx, b = (cpE[k] - x0) * sx;
        if (b < 0 || a > W) continue;
        a = Math.max(-1, a); b = Math.min(W + 1, Math.max(b, a + 1));
        ctx.fillRect(LABEL + a, Math.floor((i - r0) * rh + rh / 2 - ch / 2), b - a, ch);
        ncp++;
      }
      // errors (red outline, at least 3 px wide) and search matches (yellow outline)
      let nerr = 0;
      const mark = (i, color) => {
        let a = (S[i] - x0) * sx, b = (E[i] - x0) * sx;
        if (b < 0 || a > W) return false;
        if (b - a < 3) { const m = (a + b) / 2; a = m - 1.5; b = m + 1.5; }
        a = Math.max(-2, a); b = Math.min(W + 2, b);
        ctx.strokeStyle = color;
        ctx.strokeRect(LABEL + a + 0.5, Math.floor((i - r0) * rh + off) + 0.5, Math.max(1, b - a - 1), Math.max(1, bh - 1));
        return true;
      };
      ctx.lineWidth = 1;
      for (let i = i0; i < i1; i++) if (flags[i] & 1) { if (mark(i, d.error_color)) nerr++; }
      // in progress (drawn to the trace end): a dashed grey outline
      let nprog = 0;
      ctx.setLineDash([4, 3]);
      for (let i = i0; i < i1; i++) if (flags[i] & 2) { if (mark(i, "#666666")) nprog++; }
      ctx.setLineDash([]);
      // ERROR log records on the span: a red diamond at its end
      let nlog = 0;
      const dz = Math.max(3, Math.min(6, Math.floor(bh / 2)));
      ctx.fillStyle = d.error_color;
      for (let i = i0; i < i1; i++) {
        if (logErr[i] <= 0) continue;
        const x = (E[i] - x0) * sx;
        if (x < -dz || x > W + dz) continue;
        const cx = LABEL + x, cy = Math.floor((i - r0) * rh + off) + bh / 2;
        ctx.beginPath(); ctx.moveTo(cx, cy - dz); ctx.lineTo(cx + dz, cy); ctx.lineTo(cx, cy + dz); ctx.lineTo(cx - dz, cy);
        ctx.closePath(); ctx.fill();
        nlog++;
      }
      if (matches) for (let k = 0; k < matches.length; k++) { const i = matches[k]; if (i >= i0 && i < i1) mark(i, "#E6B800"); }
      if (selected >= i0 && selected < i1) { ctx.lineWidth = 2; mark(selected, "#000000"); }
      ctx.restore();
      // labels only for the rows in view, and only when a row is tall enough to read
      let nlab = 0;
      if (rh >= 10) {
        ctx.fillStyle = "#222"; ctx.font = Math.min(12, Math.floor(rh * 0.8)) + "px sans-serif"; ctx.textBaseline = "middle";
        for (let i = i0; i < i1; i++) {
          const lab = labelOf(i);
          ctx.fillText(lab, 2, (i - r0) * rh + rh / 2, LABEL - 4);
          nlab++;
        }
      }
      ctx.fillStyle = "#666"; ctx.font = "10px sans-serif"; ctx.textBaseline = "top";
      ctx.fillText(fmt(x0) + " \u2013 " + fmt(x1) + " \u00b7 rows " + i0 + "\u2013" + i1 + " of " + n, 2, 2, LABEL - 4);
      self.drawn = drawn;
      self.last = { ms: performance.now() - t0, wide: wide.length, tiny: tiny, cp: ncp, errors: nerr, logs: nlog,
                    in_progress: nprog, labels: nlab };
      return self.last;
    }
    let pending = false;
    function schedule() { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; draw(); }); } }
    function setView(x0, x1, r0, r1) {
      if (x1 > x0) { view.x0 = x0; view.x1 = x1; }
      if (r1 > r0) { view.r0 = r0; view.r1 = r1; }
      return draw();
    }
    function rowAt(y) { return Math.floor(view.r0 + y / H * (view.r1 - view.r0)); }
    function spanAt(x, y) {
      const i = rowAt(y);
      if (i < 0 || i >= n) return -1;
      const t = view.x0 + (x - LABEL) / W * (view.x1 - view.x0), slack = 4 / W * (view.x1 - view.x0);
      return (x < LABEL || (t >= S[i] - slack && t <= E[i] + slack)) ? i : -1;
    }
    const details = root.querySelector(".tkw-details");
    function select(i) {
      selected = i;
      details.textContent = "";
      if (i >= 0) {
        const f = flags[i], p = parent[i];
        const lines = [["service", d.services[svc[i]]], ["name", d.names[nm[i]]], ["span id", d.span_ids[i]],
          ["start", fmt(S[i])], ["duration", (f & 2 ? "\u2265 " : "") + fmt(E[i] - S[i])], ["depth", String(depth[i])],
          ["parent", p >= 0 ? d.names[nm[p]] + " (" + d.span_ids[p] + ")" : "none"],
          ["flags", [f & 1 ? "error" : "", f & 2 ? "in progress (drawn to trace end)" : "", f & 4 ? "parent missing" : ""].filter(Boolean).join(", ") || "\u2013"]];
        if (logErr[i] > 0) lines.push(["ERROR logs", logErr[i] + " ERROR/FATAL log record" + (logErr[i] === 1 ? "" : "s")]);
        for (const [k, v] of lines) {
          const row = document.createElement("div"), b = document.createElement("b");
          b.textContent = k + ": "; row.appendChild(b); row.appendChild(document.createTextNode(v)); details.appendChild(row);
        }
      }
      schedule();
    }
    function search(q) {
      q = (q || "").toLowerCase();
      if (!q) { matches = null; matchPos = -1; schedule(); return 0; }
      const hitName = d.names.map(s => s.toLowerCase().includes(q)), hitSvc = d.services.map(s => s.toLowerCase().includes(q));
      const out = [];
      for (let i = 0; i < n; i++) if (hitName[nm[i]] || hitSvc[svc[i]] || d.span_ids[i].includes(q)) out.push(i);
      matches = Int32Array.from(out); matchPos = -1; schedule();
      return out.length;
    }
    function focus(i) {
      const pad = Math.max((E[i] - S[i]) * 0.25, 1e-6);
      setView(S[i] - pad, E[i] + pad, i - 10, i + 30);
      select(i);
    }
    const input = root.querySelector(".tkw-search"), count = root.querySelector(".tkw-count");
    input.addEventListener("input", () => { const k = search(input.value); count.textContent = input.value ? k + " matches" : ""; });
    root.querySelector(".tkw-next").addEventListener("click", () => {
      if (matches && matches.length) { matchPos = (matchPos + 1) % matches.length; focus(matches[matchPos]); }
    });
    root.querySelector(".tkw-reset").addEventListener("click", () => { view = Object.assign({}, full); schedule(); });
    canvas.addEventListener("wheel", ev => {
      ev.preventDefault();
      const r = canvas.getBoundingClientRect(), f = Math.exp(ev.deltaY * 0.002);
      if (ev.shiftKey || ev.clientX - r.left < LABEL) {
        const c = view.r0 + (ev.clientY - r.top) / H * (view.r1 - view.r0);
        view.r0 = c - (c - view.r0) * f; view.r1 = c + (view.r1 - c) * f;
      } else {
        const c = view.x0 + (ev.clientX - r.left - LABEL) / W * (view.x1 - view.x0);
        view.x0 = c - (c - view.x0) * f; view.x1 = c + (view.x1 - c) * f;
      }
      schedule();
    }, { passive: false });
    let drag = null;
    canvas.addEventListener("mousedown", ev => { drag = { x: ev.clientX, y: ev.clientY, v: Object.assign({}, view), moved: false }; });
    window.addEventListener("mousemove", ev => {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      const tx = dx / W * (drag.v.x1 - drag.v.x0), ty = dy / H * (drag.v.r1 - drag.v.r0);
      view.x0 = drag.v.x0 - tx; view.x1 = drag.v.x1 - tx; view.r0 = drag.v.r0 - ty; view.r1 = drag.v.r1 - ty;
      schedule();
    });
    window.addEventListener("mouseup", ev => {
      if (drag && !drag.moved) { const r = canvas.getBoundingClientRect(); select(spanAt(ev.clientX - r.left, ev.clientY - r.top)); }
      drag = null;
    });
    canvas.addEventListener("dblclick", () => { view = Object.assign({}, full); schedule(); });
    Object.assign(self, { draw: draw, setView: setView, search: search, select: select, focus: focus, spanAt: spanAt,
      view: () => Object.assign({}, view), start: S, end: E, cpRow: cpRow, cpStart: cpS, cpEnd: cpE, flags: flags, svc: svc,
      logErrors: logErr,
      colors: colors, selected: () => selected, fmt: fmt });
    draw();
    return self;
  }
  window.tkWaterfalls = window.tkWaterfalls || {};
  document.querySelectorAll("script.tkw-data").forEach(el => {
    const id = el.getAttribute("data-for");
    if (window.tkWaterfalls[id]) return;
    window.tkWaterfalls[id] = Waterfall(document.getElementById(id), JSON.parse(el.textContent));
  });
})();
