// a small SVG line chart (no dependency): series of (x, y) points, axes with ticks, a legend

export interface Series {
  name: string;
  points: Array<[number, number]>;
  color: string;
  dashed?: boolean;
  /** markers only, no line */
  markers?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const niceStep = (span: number, ticks: number) => {
  const raw = span / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
};

export const lineChart = (o: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logY?: boolean;
  logX?: boolean;
  xTicks?: Array<{ x: number; label: string }>;
}): string => {
  const W = 720;
  const H = 380 + Math.ceil(o.series.length / 2) * 18;
  const legendRows = Math.ceil(o.series.length / 2);
  const m = { l: 70, r: 20, t: 40, b: 52 + legendRows * 18 };
  const pts = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const tx = (x: number) => (o.logX ? Math.log10(Math.max(x, 0.1)) : x);
  const xMin = o.logX ? Math.floor(Math.min(...pts.map((p) => tx(p[0])))) : Math.min(0, ...pts.map((p) => p[0]));
  const xMax = o.logX ? Math.ceil(Math.max(...pts.map((p) => tx(p[0])))) : Math.max(1, ...pts.map((p) => p[0]));
  const ty = (y: number) => (o.logY ? Math.log10(Math.max(y, 0.1)) : y);
  const yMinRaw = o.logY ? Math.min(...pts.map((p) => ty(p[1]))) : 0;
  const yMaxRaw = Math.max(o.logY ? yMinRaw + 1 : 1, ...pts.map((p) => ty(p[1])));
  const yMin = o.logY ? Math.floor(yMinRaw) : 0;
  const yStep = o.logY ? 1 : niceStep(yMaxRaw - yMin, 5);
  const yMax = o.logY ? Math.ceil(yMaxRaw) : Math.ceil(yMaxRaw / yStep) * yStep;
  const sx = (x: number) => m.l + ((tx(x) - xMin) / (xMax - xMin || 1)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((ty(y) - yMin) / (yMax - yMin || 1)) * (H - m.t - m.b);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12" role="img" aria-label="${esc(o.title)}">`,
  );
  out.push(`<title>${esc(o.title)}</title><rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  // y grid
  for (let v = yMin; v <= yMax + 1e-9; v += yStep) {
    const y = o.logY ? H - m.b - ((v - yMin) / (yMax - yMin || 1)) * (H - m.t - m.b) : sy(v);
    const label = o.logY ? String(10 ** v) : String(Math.round(v * 100) / 100);
    out.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${label}</text>`,
    );
  }
  // x ticks
  const xt =
    o.xTicks ??
    (o.logX
      ? Array.from({ length: xMax - xMin + 1 }, (_, k) => ({ x: 10 ** (xMin + k), label: String(10 ** (xMin + k)) }))
      : (() => {
          const step = niceStep(xMax - xMin, 8);
          const t: Array<{ x: number; label: string }> = [];
          for (let v = Math.ceil(xMin / step) * step; v <= xMax + 1e-9; v += step)
            t.push({ x: v, label: String(Math.round(v * 100) / 100) });
          return t;
        })());
  for (const t of xt)
    out.push(
      `<line x1="${sx(t.x)}" x2="${sx(t.x)}" y1="${H - m.b}" y2="${H - m.b + 5}" stroke="#333"/><text x="${sx(t.x)}" y="${H - m.b + 18}" text-anchor="middle">${esc(t.label)}</text>`,
    );
  out.push(
    `<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/>`,
  );
  out.push(`<text x="${(W + m.l) / 2}" y="${H - m.b + 36}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(H - m.b + m.t) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  for (const s of o.series) {
    const p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (!s.markers && p.length > 1)
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`,
      );
    if (s.markers || p.length <= 12)
      for (const [x, y] of p) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="4" fill="${s.color}"/>`);
  }
  // legend
  o.series.forEach((s, i) => {
    const x = m.l + (i % 2) * 330;
    const y = H - m.b + 58 + Math.floor(i / 2) * 18;
    out.push(`<rect x="${x}" y="${y - 9}" width="14" height="4" fill="${s.color}"/><text x="${x + 20}" y="${y - 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
};
