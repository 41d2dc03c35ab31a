/**
 * `time.parseDuration`: Go's `time.ParseDuration`, returning milliseconds. The contract is in
 * `index.d.ts`.
 *
 * A duration is a sign and one or more terms, `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, each a
 * decimal number and a unit; "0" alone (with or without a sign) is zero. Go computes in
 * unsigned 64-bit nanoseconds and rejects anything past 2^63 ns (2^63 - 1 for a positive
 * total); this module does the same with bigints, so every input Go accepts gives Go's
 * nanoseconds exactly, and every input Go rejects is rejected with Go's message.
 *
 * The fraction of a term is where Go uses floating point: it keeps the fraction's digits
 * while they fit 2^63 (ignoring the rest) and adds `trunc(float64(digits) * (unit / 10^k))`
 * nanoseconds. The same double arithmetic here gives the same nanoseconds.
 */

import { describe } from './arguments'

/** Nanoseconds per unit, Go's `unitMap`: both spellings of the micro sign are accepted. */
const NANOS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // µ, the micro sign
  ['\u03bcs', 1_000n], // μ, the Greek letter mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
])

/** 2^63: the largest magnitude of a negative duration, and one past the largest positive one. */
const LIMIT = 1n << 63n
const NANOS_PER_MS = 1_000_000n

const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE
}

const utf8 = new TextEncoder()

/**
 * Go's `quote` for error messages: the string in double quotes, `"` and `\` escaped, and each
 * byte of the UTF-8 encoding of a control or non-ASCII character written as `\xNN`.
 */
function quote(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    if (c < 0x20 || c >= 0x80) {
      for (const byte of utf8.encode(ch)) out += `\\x${byte.toString(16).padStart(2, '0')}`
    } else {
      out += ch === '"' || ch === '\\' ? `\\${ch}` : ch
    }
  }
  return `${out}"`
}

/** The RangeError for `input` with Go's reason (`time: <reason> "<input>"`, naming this call). */
function malformed(reason: string, input: string): RangeError {
  return new RangeError(`time.parseDuration: ${reason} ${quote(input)}`)
}

/**
 * The fraction digits of `s` from `from` to `to`, as Go reads them: digits are kept while the
 * number they make stays within 2^63, and the first digit that would pass it ends the kept part
 * (the remaining digits still belong to the term but change nothing). Returns the kept digits'
 * value and 10^(number kept), computed in doubles as Go's `scale` is.
 */
function fraction(s: string, from: number, to: number): { digits: bigint; scale: number } {
  let digits = 0n
  let scale = 1
  for (let i = from; i < to; i++) {
    const next = digits * 10n + BigInt(s.charCodeAt(i) - ZERO)
    if (next > LIMIT) break
    digits = next
    scale *= 10
  }
  return { digits, scale }
}

/** Go's `time.ParseDuration(s)`, in milliseconds. */
export function parseDuration(s: string): number {
  if (typeof s !== 'string') throw new TypeError(`time.parseDuration: the duration must be a string, got ${describe(s)}`)
  const end = s.length
  let i = 0
  let negative = false
  if (s[0] === '-' || s[0] === '+') {
    negative = s[0] === '-'
    i = 1
  }
  if (end - i === 1 && s.charCodeAt(i) === ZERO) return 0
  if (i === end) throw malformed('invalid duration', s)

  let total = 0n
  while (i < end) {
    // A number: digits, then an optional '.' and digits; at least one digit in all.
    const first = s.charCodeAt(i)
    if (first !== DOT && !isDigit(first)) throw malformed('invalid duration', s)
    const wholeStart = i
    while (i < end && isDigit(s.charCodeAt(i))) i++
    const wholeEnd = i
    const whole = wholeEnd > wholeStart ? BigInt(s.slice(wholeStart, wholeEnd)) : 0n
    if (whole > LIMIT) throw malformed('invalid duration', s)
    let fractionStart = i
    if (i < end && s.charCodeAt(i) === DOT) {
      fractionStart = ++i
      while (i < end && isDigit(s.charCodeAt(i))) i++
    }
    const fractionEnd = i
    // A number with no digit on either side of its point (".s", "-.h") is malformed.
    if (wholeEnd === wholeStart && fractionEnd === fractionStart) throw malformed('invalid duration', s)

    // The unit: everything up to the next number.
    const unitStart = i
    while (i < end) {
      const c = s.charCodeAt(i)
      if (c === DOT || isDigit(c)) break
      i++
    }
    if (i === unitStart) throw malformed('missing unit in duration', s)
    const unitName = s.slice(unitStart, i)
    const unit = NANOS_PER_UNIT.get(unitName)
    if (unit === undefined) throw malformed(`unknown unit ${quote(unitName)} in duration`, s)

    if (whole > LIMIT / unit) throw malformed('invalid duration', s)
    let nanos = whole * unit
    const { digits, scale } = fraction(s, fractionStart, fractionEnd)
    if (digits > 0n) {
      nanos += BigInt(Math.trunc(Number(digits) * (Number(unit) / scale)))
      if (nanos > LIMIT) throw malformed('invalid duration', s)
    }
    total += nanos
    if (total > LIMIT) throw malformed('invalid duration', s)
  }
  if (!negative && total > LIMIT - 1n) throw malformed('invalid duration', s)
  return toMilliseconds(negative ? -total : total)
}

/**
 * `nanos` in milliseconds, the double nearest to the exact value: the exact value is a decimal
 * with at most six fraction digits, and `Number` rounds a decimal string correctly (dividing a
 * converted bigint by 1e6 would round twice).
 */
function toMilliseconds(nanos: bigint): number {
  if (nanos === 0n) return 0
  const magnitude = nanos < 0n ? -nanos : nanos
  const whole = magnitude / NANOS_PER_MS
  const rest = (magnitude % NANOS_PER_MS).toString().padStart(6, '0')
  return Number(`${nanos < 0n ? '-' : ''}${whole}.${rest}`)
}
