/**
 * Delivery: runs the callbacks of the timers an engine reports expired, on the JavaScript
 * thread, in the order reported (deadline, then arming order).
 *
 * Rules:
 * - Each reported (index, generation) pair is handed to its table (`Claims.fire`): a pair whose
 *   arming was stopped or replaced since is dropped there, so `stop()` returning true means
 *   the callback never runs.
 * - A batch runs for at most SLICE_MS of wall time; the rest continues in a `setImmediate`,
 *   so a storm of expirations cannot starve I/O.
 * - A callback that throws rethrows to the engine's caller (an `uncaughtException`, as from
 *   `setTimeout`); the rest of its batch continues in a `setImmediate`, so nothing is lost or
 *   held back past the next turn.
 * - Batches that arrive while an earlier one still waits queue behind it: order is kept.
 * - An engine whose clock ran ahead of the scheduler's (the native wheel thread reads its own)
 *   never makes a callback run early: the batch waits in a Node timer until it is due.
 */

import { Shared } from './constants'

/** Longest a batch of callbacks runs before yielding to the event loop, in ms. */
const SLICE_MS = 8
/** Callbacks run between two readings of the clock. */
const CLOCK_EVERY = 32
/**
 * Pairs read ahead at once (see `SlotTable.readAhead`). The read-ahead is kept because expiry
 * storms show it: it halves delivery's own cost per fire at a million timers due at once.
 */
const READ_AHEAD = 32

/** The rest of a batch that could not run at once. */
interface Backlog {
  readonly ids: Uint32Array
  /** Position in `ids` of the next pair to run. */
  from: number
  readonly nowTick: number
  /** The clock of the engine that sent the batch. */
  readonly now: () => number
}

/** What delivery runs the pairs it is handed with. */
export interface Claims {
  /**
   * Runs the timer of `index` if `generation` is its current arming (it is no longer pending
   * when its callback starts); does nothing otherwise. What the callback throws propagates.
   */
  fire(index: number, generation: number): void
  /** Reads ahead what firing the pairs `ids[from..to]` will read; returns a meaningless value. */
  readAhead(ids: Uint32Array, from: number, to: number): number
}

export class Delivery {
  private readonly claims: Claims
  private readonly backlog: Backlog[] = []
  private continuationScheduled = false
  /** Written by the read-ahead, so that its reads are kept; means nothing. */
  private readAheadSum = 0

  constructor(claims: Claims) {
    this.claims = claims
  }

  /**
   * Runs a batch: `ids` holds (slot, generation) pairs, every one due by tick `nowTick` of the
   * clock `now`. Rethrows what a callback throws (after queueing the rest).
   */
  receive(ids: Uint32Array, nowTick: number, now: () => number): void {
    if (this.backlog.length > 0) {
      this.backlog.push({ ids, from: 0, nowTick, now })
      return
    }
    this.run({ ids, from: 0, nowTick, now })
  }

  /**
   * Runs `batch` from `batch.from` until it is done, its slice is used up or a callback throws;
   * in the last two cases the rest waits at the front of the backlog.
   */
  private run(batch: Backlog): void {
    const { ids, nowTick } = batch
    let now = batch.now()
    if (nowTick > now * Shared.TICKS_PER_MS) {
      this.postpone(batch, batch.from, nowTick / Shared.TICKS_PER_MS - now)
      return
    }
    const sliceEnd = now + SLICE_MS
    const claims = this.claims
    for (let k = batch.from; k < ids.length; k += 2) {
      if (((k - batch.from) >> 1) % READ_AHEAD === 0) {
        this.readAheadSum ^= claims.readAhead(ids, k, Math.min(ids.length, k + 2 * READ_AHEAD))
      }
      try {
        claims.fire(ids[k]!, ids[k + 1]!)
      } catch (err) {
        this.postpone(batch, k + 2, 0)
        throw err
      }
      if ((k >> 1) % CLOCK_EVERY === CLOCK_EVERY - 1 && k + 2 < ids.length) {
        now = batch.now()
        if (now > sliceEnd) {
          this.postpone(batch, k + 2, 0)
          return
        }
      }
    }
  }

  /** Puts the rest of `batch`, from `from`, at the front of the backlog, to run in `waitMs` (or at the next turn). */
  private postpone(batch: Backlog, from: number, waitMs: number): void {
    if (this.backlog[0] === batch) batch.from = from
    else if (from < batch.ids.length) this.backlog.unshift({ ...batch, from })
    if (this.backlog.length === 0 || this.continuationScheduled) return
    this.continuationScheduled = true
    if (waitMs > 0) setTimeout(this.continue, Math.ceil(waitMs))
    else setImmediate(this.continue)
  }

  private readonly continue = (): void => {
    this.continuationScheduled = false
    while (this.backlog.length > 0) {
      const batch = this.backlog[0]!
      this.run(batch)
      // `run` either finished the batch, or moved `batch.from` on and scheduled a continuation.
      if (this.continuationScheduled) return
      this.backlog.shift()
    }
  }
}
