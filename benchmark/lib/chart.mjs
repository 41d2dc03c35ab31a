// A hand-written SVG chart: S1, S3 and S5 against N for each engine, log-log, one panel per
// suite. Solid lines: the steady figure (S1, S3) or main-thread CPU per fire (S5); dashed
// lines: the cold "scale" figure (S1, S3) or process CPU per fire (S5).

const COLORS = { native: '#d62728', js: '#1f77b4', node: '#2ca02c', go: '#9467bd', retimer: '#8c564b', 'set-native': '#ff7f0e', 'set-js': '#17becf' }
const LABELS = {
  native: 'afterfunc native',
  js: 'afterfunc js',
  node: "Node's timers",
  go: 'Go time.AfterFunc',
  retimer: 'retimer',
  'set-native': 'TimerSet native',
  'set-js': 'TimerSet js',
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const fmtN = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n))
const fmtNs = (v) => (v >= 1000 ? `${+(v / 1000).toPrecision(3)} µs` : `${+v.toPrecision(3)} ns`)

/**
 * panels: [{ title, unit, series: [{ engine, dashed, points: [[n, value], ...] }] }]
 */
export function chartSvg({ title, subtitle, panels }) {
  const W = 360
  const H = 300
  const M = { l: 62, r: 14, t: 40, b: 44 }
  const width = panels.length * W
  const height = H + 110
  const out = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
  )
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`)
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`)
  out.push(`<text x="${width / 2}" y="38" text-anchor="middle" font-size="11" fill="#555">${esc(subtitle)}</text>`)
  panels.forEach((panel, p) => {
    const x0 = p * W + M.l
    const y0 = 40 + M.t
    const pw = W - M.l - M.r
    const ph = H - M.t - M.b
    const ns = [...new Set(panel.series.flatMap((s) => s.points.map(([n]) => n)))].sort((a, b) => a - b)
    const values = panel.series.flatMap((s) => s.points.map(([, v]) => v)).filter((v) => v > 0 && Number.isFinite(v))
    if (ns.length === 0 || values.length === 0) return
    const lo = Math.floor(Math.log10(Math.min(...values)))
    const hi = Math.ceil(Math.log10(Math.max(...values)))
    const xl = Math.log10(ns[0])
    const xh = Math.log10(ns[ns.length - 1])
    const X = (n) => x0 + (xh === xl ? pw / 2 : ((Math.log10(n) - xl) / (xh - xl)) * pw)
    const Y = (v) => y0 + ph - ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * ph
    out.push(`<text x="${x0 + pw / 2}" y="${y0 - 12}" text-anchor="middle" font-size="13" font-weight="bold">${esc(panel.title)}</text>`)
    out.push(`<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`)
    for (let e = lo; e <= hi; e++) {
      const y = Y(10 ** e)
      out.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`)
      out.push(`<text x="${x0 - 5}" y="${y + 4}" text-anchor="end">${esc(fmtNs(10 ** e))}</text>`)
    }
    for (const n of ns) {
      const x = X(n)
      out.push(`<line x1="${x}" x2="${x}" y1="${y0}" y2="${y0 + ph}" stroke="#eee"/>`)
      out.push(`<text x="${x}" y="${y0 + ph + 15}" text-anchor="middle">${fmtN(n)}</text>`)
    }
    out.push(`<text x="${x0 + pw / 2}" y="${y0 + ph + 32}" text-anchor="middle" fill="#333">N (live timers), log scale</text>`)
    out.push(
      `<text transform="translate(${x0 - 48},${y0 + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(panel.unit)}, log scale</text>`,
    )
    for (const s of panel.series) {
      const pts = s.points.filter(([, v]) => v > 0 && Number.isFinite(v))
      if (pts.length === 0) continue
      const color = COLORS[s.engine] ?? '#000'
      const d = pts.map(([n, v], i) => `${i ? 'L' : 'M'}${X(n).toFixed(1)},${Y(v).toFixed(1)}`).join(' ')
      out.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4" opacity="0.75"' : ''}/>`,
      )
      for (const [n, v] of pts) {
        out.push(
          `<circle cx="${X(n).toFixed(1)}" cy="${Y(v).toFixed(1)}" r="${s.dashed ? 2.5 : 3.5}" fill="${s.dashed ? '#fff' : color}" stroke="${color}"><title>${esc(`${LABELS[s.engine]} ${s.dashed ? panel.dashedLabel : panel.solidLabel}, N=${fmtN(n)}: ${fmtNs(v)}`)}</title></circle>`,
        )
      }
    }
    out.push(
      `<text x="${x0 + pw / 2}" y="${y0 + ph + 46}" text-anchor="middle" fill="#555" font-size="10">solid: ${esc(panel.solidLabel)}; dashed: ${esc(panel.dashedLabel)}</text>`,
    )
  })
  // Legend.
  const engines = [...new Set(panels.flatMap((p) => p.series.map((s) => s.engine)))]
  const ly = height - 22
  let lx = width / 2 - (engines.length * 150) / 2
  for (const e of engines) {
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${COLORS[e]}" stroke-width="3"/>`)
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(LABELS[e] ?? e)}</text>`)
    lx += 150
  }
  out.push('</svg>')
  return out.join('\n') + '\n'
}
