// The summary table: one row per figure, one column per engine, ratios against Node's timers
// and the issue's targets marked met or missed.

export const fmt = (v, digits = 3) => {
  if (v === undefined || v === null || Number.isNaN(v)) return '—'
  if (typeof v === 'string') return v
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 10_000) return Math.round(v).toLocaleString('en-US')
  if (a >= 100) return v.toFixed(0)
  return String(+v.toPrecision(digits))
}
const x = (r) => (r === undefined || !Number.isFinite(r) ? '—' : `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toFixed(2)}×`)

/**
 * rows: [{ suite, figure, kind: 'lower' | 'higher' | 'bytes' | 'abs', values: {native, js, node, retimer, go},
 *          targets: [{ text, ok: boolean|undefined, info?: true }] }]
 * 'lower' (time, CPU): ratio = node / engine, "× faster/less"; 'bytes': ratio = engine / node;
 * 'higher' (req/s): ratio = engine / node; 'abs': no ratio.
 */
export function ratio(row, engine) {
  const v = row.values[engine]
  const b = row.values.node
  if (v === undefined || b === undefined || !(v > 0) || !(b > 0)) return undefined
  if (row.kind === 'lower') return b / v
  if (row.kind === 'bytes' || row.kind === 'higher') return v / b
  return undefined
}

export function renderTable(rows) {
  const header = ['suite', 'figure', 'native', 'js', 'node', 'retimer', 'go', 'native vs node', 'js vs node', 'retimer vs node', 'target (native unless named): result']
  const lines = rows.map((r) => {
    const word = r.kind === 'lower' ? (r.unit === 'op' ? ' faster' : r.unit === 'ms' ? ' lower' : ' less') : ''
    const cell = (e) => `${fmt(r.values[e])}${r.noisy?.includes(e) ? ' †' : ''}`
    const against = (e) => {
      const v = ratio(r, e)
      return v === undefined ? '' : `${x(v)}${word}`
    }
    return [
      r.suite,
      r.figure,
      cell('native'),
      cell('js'),
      cell('node'),
      cell('retimer'),
      cell('go'),
      against('native'),
      against('js'),
      against('retimer'),
      (r.targets ?? []).map((t) => (t.info ? t.text : `${t.text}: ${t.ok === undefined ? 'n/a' : t.ok ? '**met**' : '**missed**'}`)).join('; '),
    ]
  })
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)))
  const row = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [row(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(row)].join('\n')
}

/** Target checks. Each returns { text, ok } with ok undefined when a figure is missing. */
export const target = {
  /** Not a target: a fact for reading the row against one (printed as is, never met or missed). */
  info(text) {
    return { text, ok: undefined, info: true }
  },
  /** node / engine ≥ min (time or CPU: "min× faster"). */
  faster(row, engine, min, label = `${min}× faster`) {
    const r = ratio(row, engine)
    return { text: `${engine === 'native' ? '' : `${engine} `}≥ ${label} (${x(r)})`.trim(), ok: r === undefined ? undefined : r >= min }
  },
  /** engine / node ≤ max (bytes). */
  fraction(row, engine, max) {
    const r = ratio(row, engine)
    return { text: `${engine === 'native' ? '' : `${engine} `}≤ ${max}× Node's (${x(r)})`.trim(), ok: r === undefined ? undefined : r <= max }
  },
  /** engine's value ≤ max. */
  atMost(row, engine, max, unit) {
    const v = row.values[engine]
    return { text: `${engine === 'native' ? '' : `${engine} `}≤ ${max}${unit}`.trim(), ok: v === undefined || Number.isNaN(v) ? undefined : v <= max }
  },
  /** engine's value ≤ Go's. */
  noSlowerThanGo(row, engine) {
    const v = row.values[engine]
    const g = row.values.go
    return {
      text: `no slower than Go (${g > 0 && v > 0 ? x(g / v) : '—'} Go's speed)`,
      ok: v === undefined || g === undefined ? undefined : v <= g,
    }
  },
}
