// Writes cases.json, the table duration.spec.ts checks time.parseDuration against: each input
// below with what Go's time.ParseDuration returns for it (main.go, run with `go run`), one
// `[input, nanoseconds as a decimal string or null, error message or null]` per line. Run it
// again, with Go installed, after changing the inputs:
//
//   node __test__/go/parseduration/generate.mjs

import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** Chosen cases: the grammar's corners, every unit, the range's ends, Go's error messages. */
const EDGES = [
  // Valid forms.
  '0', '+0', '-0', '0s', '-0s', '+5s', '5s', '30s', '1478s', '-5s', '1.5h', '-1.5h', '1h15m30.5s', '300ms',
  '2us', '2\u00b5s', '2\u03bcs', '7ns', '1.s', '.5s', '-.5h', '1.0004s', '1.00004s', '1.000004s', '1.0000004s',
  '100.00100s', '10ns', '11us', '12\u00b5s', '13ms', '14s', '15m', '16h', '3h30m', '10.5s4m', '-2m3.4s',
  '1h2m3s4ms5us6ns', '39h9m14.425s', '1h1h', '0.3333333333333333333h', '9007199254740993ns',
  '9223372036854775807ns', '9223372036854775.807us', '9223372036s854ms775us807ns', '-9223372036854775808ns',
  '-9223372036854775807ns', '0.100000000000000000000h', '0.830103483285477580700h', '00000000000000000000001s',
  '0.000000000000000000000000000000000000000000001s', '1.00000000000000000000000000000000000000000001h',
  '2562047h47m16.854775807s', '-2562047h47m16.854775808s', '1.12345678901234567890123456789s',
  // Malformed.
  '', '3', '-', '+', '.', '.s', '-.s', '1e3s', '1E3s', '1S', '1H', 's', '1s2', '1.2.3s', '1..2s', '- 1s',
  '1 s', ' 1s', '1s ', '+-1s', '--1s', '0x10s', '1_000s', '\u00b5s', '1\u00b5', '1sec', '1d', 'inf', 'NaN',
  '1"s', '1\\s', '1\ts', '1\u0000s', '1\u{1F600}s', '00', '-00', '0.0', '1.5',
  // Beyond Go's range.
  '9223372036854775808ns', '-9223372036854775809ns', '9223372036854775807.5ns', '9223372036854776us',
  '2562048h', '3000000h', '-3000000h', '9223372036854775807ns1ns', '99999999999999999999ns',
  '0.9999999999999999999999999999999999999999999999999h9223372036854775807ns', '5124095576030431h',
]

/** A deterministic pseudo-random source (Lehmer), so the table is the same on every run. */
function lehmer(seed) {
  return (n) => {
    seed = (seed * 48271) % 2147483647
    return seed % n
  }
}

/** Strings over the grammar's alphabet and its near misses: mostly malformed. */
function fuzz(count) {
  const pieces = ['0', '1', '2', '5', '9', '00', '123', '999999999', '.', '.', 'h', 'm', 's', 'ms', 'us', '\u00b5s', 'ns', 'x', '-', '+', 'e', 'S', ' ']
  const random = lehmer(20240613)
  return Array.from({ length: count }, () => {
    let s = ''
    for (let j = 1 + random(8); j > 0; j--) s += pieces[random(pieces.length)]
    return s
  })
}

/** Sums of random numbers with random units: valid, to compare values. */
function validTerms(count) {
  const units = ['ns', 'us', '\u00b5s', 'ms', 's', 'm', 'h']
  const random = lehmer(7)
  const digits = (n) => Array.from({ length: n }, () => String(random(10))).join('')
  return Array.from({ length: count }, () => {
    let s = random(3) === 0 ? '-' : ''
    for (let t = 1 + random(3); t > 0; t--) {
      s += digits(1 + random(6))
      if (random(2) === 0) s += `.${digits(random(12))}`
      s += units[random(units.length)]
    }
    return s
  })
}

const inputs = [...new Set([...EDGES, ...fuzz(1200), ...validTerms(800)])]
const results = JSON.parse(execFileSync('go', ['run', join(here, 'main.go')], { input: JSON.stringify(inputs), encoding: 'utf8' }))
const lines = inputs.map((input, i) => JSON.stringify([input, results[i].nanos, results[i].err]))
writeFileSync(join(here, 'cases.json'), `[\n${lines.join(',\n')}\n]\n`)
console.log(`cases.json: ${inputs.length} cases, ${results.filter((r) => r.err === null).length} valid`)
