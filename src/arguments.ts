/**
 * Argument checking for the public API: each check throws a TypeError or RangeError at the
 * call that received the bad input, naming the call, before anything changes.
 */

import { Shared } from './constants'

/** A short description of a value for error messages: its type, and the value if primitive. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  switch (typeof value) {
    case 'undefined':
      return 'undefined'
    case 'string':
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`
    case 'bigint':
      return `a bigint (${value}n)`
    case 'symbol':
      return `a symbol (${String(value)})`
    case 'function':
      return 'a function'
    case 'object':
      return Array.isArray(value) ? 'an array' : 'an object'
    default:
      return `${typeof value} ${String(value)}`
  }
}

/**
 * Checks a duration in milliseconds and clamps it for the engine: a TypeError for anything but
 * a number and for NaN; zero for negative values and -0; MAX_DURATION_MS (Go's largest
 * Duration, about 292 years) for longer ones, Infinity included.
 */
export function toDelay(d: unknown, where: string): number {
  if (typeof d !== 'number' || d !== d) throw badDuration(d, where)
  return d > 0 ? (d < Shared.MAX_DURATION_MS ? d : Shared.MAX_DURATION_MS) : 0
}

/** The TypeError of {@link toDelay} for `d`, which is not a number or is NaN. */
function badDuration(d: unknown, where: string): TypeError {
  const got = typeof d === 'number' ? 'NaN' : describe(d)
  return new TypeError(`${where}: the duration must be a number of milliseconds, got ${got}`)
}

/**
 * Checks a period (a Ticker's) and returns it as a delay: as {@link toDelay}, and a RangeError
 * when it is not greater than zero (Go panics on d <= 0).
 */
export function toPeriod(d: unknown, where: string): number {
  const period = toDelay(d, where)
  if (period <= 0) throw new RangeError(`${where}: the period must be greater than zero, got ${String(d)}`)
  return period
}

/** Checks that `f` is a function. */
export function checkFunction(f: unknown, where: string): asserts f is () => void {
  if (typeof f !== 'function') throw notAFunction(f, where)
}

/** The TypeError of {@link checkFunction} for `f`, which is not a function. */
function notAFunction(f: unknown, where: string): TypeError {
  return new TypeError(`${where}: the callback must be a function, got ${describe(f)}`)
}

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!

/**
 * Whether `v` is a real `AbortSignal`: one the runtime made, whose `aborted` getter answers.
 * `instanceof` alone is not enough: `Object.create(AbortSignal.prototype)` passes it, and then
 * fails in every API that reads it (Node's `ERR_INVALID_THIS`), long after the call.
 */
export function isAbortSignal(v: unknown): v is AbortSignal {
  if (typeof v !== 'object' || v === null) return false
  try {
    abortedGetter.call(v)
    return true
  } catch {
    return false
  }
}
