// A small line chart on a canvas (no library): one series of [ts, value] over a time window,
// redrawn in one pass. Used for the ingest rate and a device's telemetry.

export class LineChart {
  /** opts: { color, label, unit, windowMs, min, decimals (a number, or 'auto': 1 below a range of 10, else 0) } */
  constructor(canvas, opts = {}) {
    this.canvas = canvas;
    this.opts = { color: '#4fc3f7', unit: '', windowMs: 120_000, min: 0, decimals: 0, ...opts };
    this.points = [];
  }

  set(points) {
    this.points = points;
  }

  push(ts, value, max = 2000) {
    this.points.push([ts, value]);
    if (this.points.length > max) this.points.splice(0, this.points.length - max);
  }

  draw(now = Date.now()) {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth;
    const hgt = c.clientHeight;
    if (w === 0 || hgt === 0) return;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(hgt * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(hgt * dpr);
    }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, hgt);
    const { windowMs, color, unit, decimals } = this.opts;
    const from = now - windowMs;
    const pts = this.points.filter(([t, v]) => t >= from && v !== null && v !== undefined);
    const values = pts.map(([, v]) => v);
    const maxV = Math.max(this.opts.max ?? 0, ...values, 1);
    const minV = Math.min(this.opts.min ?? 0, ...values);
    const places = decimals === 'auto' ? (maxV - minV < 10 ? 1 : 0) : decimals;
    const pad = { l: 44, r: 8, t: 8, b: 18 };
    const x = (t) => pad.l + ((t - from) / windowMs) * (w - pad.l - pad.r);
    const y = (v) => pad.t + (1 - (v - minV) / (maxV - minV || 1)) * (hgt - pad.t - pad.b);
    // Grid and labels.
    g.strokeStyle = 'rgba(255,255,255,0.08)';
    g.fillStyle = 'rgba(230,237,243,0.55)';
    g.font = '11px system-ui, sans-serif';
    g.lineWidth = 1;
    for (const f of [0, 0.5, 1]) {
      const v = minV + f * (maxV - minV);
      g.beginPath();
      g.moveTo(pad.l, y(v));
      g.lineTo(w - pad.r, y(v));
      g.stroke();
      g.fillText(`${v.toFixed(places)}${unit}`, 2, y(v) + 4);
    }
    g.fillText(`-${Math.round(windowMs / 60_000) || 1}${windowMs >= 60_000 ? 'm' : 's'}`, pad.l, hgt - 4);
    g.fillText('now', w - pad.r - 22, hgt - 4);
    if (pts.length === 0) {
      g.fillText('no data', w / 2 - 20, hgt / 2);
      return;
    }
    // Area and line.
    g.beginPath();
    pts.forEach(([t, v], i) => (i === 0 ? g.moveTo(x(t), y(v)) : g.lineTo(x(t), y(v))));
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.stroke();
    g.lineTo(x(pts[pts.length - 1][0]), y(minV));
    g.lineTo(x(pts[0][0]), y(minV));
    g.closePath();
    g.fillStyle = color + '22';
    g.fill();
  }
}
