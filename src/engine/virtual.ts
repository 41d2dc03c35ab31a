/**
 * The engine of a virtual clock (`testing.virtualClock()`): the TypeScript wheel on a clock
 * that moves only when the test says so. Nothing polls it by itself; `VirtualClock.advance`
 * asks for the next deadline, moves the clock there, and calls `fire`.
 */

import { WheelEngine } from './js'

export class VirtualEngine extends WheelEngine {
  private closed = false

  /** The earliest tick at which `fire` has something to do, or undefined if nothing is armed (or it is closed). */
  next(): number | undefined {
    return this.closed ? undefined : this.wheel.nextExpiration()
  }

  override close(): void {
    this.closed = true
  }

  /** Commands applied so far (a wrapping count): it changes whenever a timer is armed or stopped. */
  commandsApplied(): number {
    return this.ring.head()
  }

  /** Expires and delivers every timer due at the clock's current tick (synchronously). */
  fire(): void {
    this.expire()
  }
}
