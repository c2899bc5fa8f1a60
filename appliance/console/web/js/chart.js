// chart.js - a small live line chart on <canvas>: a few series over the last
// N samples, y axis from 0 to a rounded maximum, crisp on high-DPI screens.
export class LineChart {
  constructor(canvas, { series, max = 120, format = (v) => String(Math.round(v)), fixedMax } = {}) {
    this.canvas = canvas;
    this.series = series.map((s) => ({ ...s, data: [] }));
    this.max = max;
    this.format = format;
    this.fixedMax = fixedMax;
  }

  push(values) {
    this.series.forEach((s, i) => {
      s.data.push(values[i] ?? null);
      if (s.data.length > this.max) s.data.shift();
    });
    this.draw();
  }

  draw() {
    const c = this.canvas, dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth || 600, hgt = c.clientHeight || 180;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(hgt * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(hgt * dpr); }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    const css = getComputedStyle(document.documentElement);
    const grid = css.getPropertyValue('--line').trim() || '#e5e7eb';
    const text = css.getPropertyValue('--muted').trim() || '#6b7280';
    const padL = 56, padR = 8, padT = 8, padB = 18;
    const pw = w - padL - padR, ph = hgt - padT - padB;
    let top = this.fixedMax || 0;
    if (!this.fixedMax) for (const s of this.series) for (const v of s.data) if (v !== null && v > top) top = v;
    top = niceMax(top || 1);
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = text;
    g.strokeStyle = grid;
    g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = padT + ph - (ph * i) / 4 + 0.5;
      g.beginPath(); g.moveTo(padL, y); g.lineTo(w - padR, y); g.stroke();
      g.textAlign = 'right'; g.textBaseline = 'middle';
      g.fillText(this.format((top * i) / 4), padL - 6, y);
    }
    g.textAlign = 'left'; g.textBaseline = 'alphabetic';
    g.fillText(`last ${this.max} samples`, padL, hgt - 4);
    for (const s of this.series) {
      const step = pw / Math.max(1, this.max - 1);
      const x0 = padL + pw - step * (s.data.length - 1);
      g.strokeStyle = s.color; g.lineWidth = 2; g.lineJoin = 'round';
      g.beginPath();
      let pen = false;
      s.data.forEach((v, i) => {
        if (v === null) { pen = false; return; }
        const x = x0 + step * i, y = padT + ph - (ph * v) / top;
        if (pen) g.lineTo(x, y); else g.moveTo(x, y);
        pen = true;
      });
      g.stroke();
      if (s.fill) {
        const pts = s.data.map((v, i) => [x0 + step * i, v]).filter(([, v]) => v !== null);
        if (pts.length > 1) {
          g.globalAlpha = 0.12; g.fillStyle = s.color; g.beginPath();
          g.moveTo(pts[0][0], padT + ph);
          for (const [x, v] of pts) g.lineTo(x, padT + ph - (ph * v) / top);
          g.lineTo(pts[pts.length - 1][0], padT + ph); g.closePath(); g.fill(); g.globalAlpha = 1;
        }
      }
    }
  }
}

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}
