// time.parseDuration against Go's time.ParseDuration itself: go/parseduration/cases.json holds
// about 1,900 inputs (the grammar's corners, the range's ends, every error, and deterministic
// random strings) with what Go returned for each, written by go/parseduration/generate.mjs,
// which runs go/parseduration/main.go. The result must be Go's duration in milliseconds, or a
// RangeError with Go's message.

import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { engines, runtime } from './helpers.ts'

/** One case: the input, Go's nanoseconds (a decimal string) or null, Go's error message or null. */
type Case = [input: string, nanos: string | null, err: string | null]

const CASES = JSON.parse(readFileSync(resolve(__dirname, 'go', 'parseduration', 'cases.json'), 'utf8')) as Case[]

/** Go's nanoseconds in milliseconds: the double nearest to the exact decimal value. */
function nanosToMs(nanos: string): number {
  const negative = nanos.startsWith('-')
  const digits = (negative ? nanos.slice(1) : nanos).padStart(7, '0')
  const ms = Number(`${negative ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`)
  return ms === 0 ? 0 : ms
}

/** What parseDuration does with `s`: its value, or its error's class and message. */
function ours(parse: (s: string) => number, s: string): { ms: number } | { error: string; message: string } {
  try {
    return { ms: parse(s) }
  } catch (err) {
    return { error: (err as Error).constructor.name, message: (err as Error).message }
  }
}

describe.each(engines)('time.parseDuration on the %s engine', (kind) => {
  test('the examples of the brief', () => {
    const { time } = runtime(kind)
    expect(time.parseDuration('1h15m30.5s')).toBe(time.Hour + 15 * time.Minute + 30.5 * time.Second)
    expect(time.parseDuration('300ms')).toBe(300)
    expect(time.parseDuration('-1.5h')).toBe(-1.5 * time.Hour)
    expect(time.parseDuration('2us')).toBe(0.002)
    expect(time.parseDuration('1h')).toBe(time.Hour)
    expect(Object.is(time.parseDuration('-0'), 0)).toBe(true)
    expect(Object.is(time.parseDuration('-0s'), 0)).toBe(true)
  })

  test(`${CASES.length} inputs give Go's duration, or a RangeError with Go's message`, () => {
    const { time } = runtime(kind)
    const mismatches: unknown[] = []
    for (const [input, nanos, err] of CASES) {
      const got = ours(time.parseDuration, input)
      const want = nanos !== null ? { ms: nanosToMs(nanos) } : { error: 'RangeError', message: err!.replace(/^time: /, 'time.parseDuration: ') }
      if (JSON.stringify(got) !== JSON.stringify(want) || ('ms' in got && 'ms' in want && !Object.is(got.ms, want.ms))) {
        mismatches.push({ input, got, want })
      }
    }
    expect(mismatches).toEqual([])
    // Both kinds are well represented.
    const valid = CASES.filter(([, nanos]) => nanos !== null).length
    expect(valid).toBeGreaterThan(800)
    expect(CASES.length - valid).toBeGreaterThan(800)
  })

  test('the edge cases of the brief, one by one', () => {
    const { time } = runtime(kind)
    const message = (s: string): string => {
      try {
        time.parseDuration(s)
      } catch (err) {
        expect(err).toBeInstanceOf(RangeError)
        return (err as Error).message
      }
      throw new Error(`${JSON.stringify(s)} parsed`)
    }
    expect(message('')).toBe('time.parseDuration: invalid duration ""')
    expect(message('3')).toBe('time.parseDuration: missing unit in duration "3"')
    expect(message('.s')).toBe('time.parseDuration: invalid duration ".s"')
    expect(time.parseDuration('1.s')).toBe(1000)
    expect(time.parseDuration('+5s')).toBe(5000)
    expect(time.parseDuration('1h1h')).toBe(2 * time.Hour)
    expect(time.parseDuration('9223372036854775807ns')).toBe(9223372036854.775807)
    expect(message('9223372036854775808ns')).toBe('time.parseDuration: invalid duration "9223372036854775808ns"')
    expect(time.parseDuration('-9223372036854775808ns')).toBe(-9223372036854.775808)
    expect(message('1e3s')).toBe('time.parseDuration: unknown unit "e" in duration "1e3s"')
    expect(message('1\u00b5')).toBe('time.parseDuration: unknown unit "\\xc2\\xb5" in duration "1\\xc2\\xb5"')
  })

  test('a value that is not a string is a TypeError', () => {
    const { time } = runtime(kind)
    for (const bad of [undefined, null, 5, 5n, {}, ['1s'], Symbol('1s')]) {
      expect(() => time.parseDuration(bad as unknown as string)).toThrow(TypeError)
    }
    expect(() => time.parseDuration(5 as unknown as string)).toThrow('time.parseDuration: the duration must be a string, got number 5')
  })
})
