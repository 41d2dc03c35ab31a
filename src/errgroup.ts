/**
 * The `errgroup` namespace: golang.org/x/sync/errgroup over a runtime's `context`. The
 * contract is in `index.d.ts`.
 *
 * A group counts its active functions: those running (called, their promise not yet settled)
 * and those queued behind the limit. Go's `Go` blocks its caller at the limit; here `go`
 * returns at once and the function waits in a FIFO queue, so a queued function is the
 * counterpart of a goroutine blocked in `Go`, and counts for `wait` and `setLimit` as one.
 *
 * - A function starts in a microtask, never inside `go` (Go starts a goroutine), and its
 *   throw or rejection is caught here: the first one is the group's error, the others are
 *   dropped, as Go drops them, and none reaches `unhandledRejection`.
 * - When the count falls to zero with a `wait()` pending, the group's context (if any) is
 *   cancelled with the first error as its cause (Go's `cancel(g.err)`), then the promise
 *   settles. `wait()` with nothing active does the same at once.
 */

import type { context as ContextApi, errgroup as ErrgroupApi } from '../index'
import { isContext } from './context'
import { describe } from './arguments'

type Task = () => unknown
type CancelCause = ContextApi.CancelCauseFunc

/** Taken queue entries that may accumulate before the queue array is copied without them. */
const COMPACT_AFTER = 1024

/** A `wait()` promise with its settle functions. */
interface Waiter {
  readonly promise: Promise<void>
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}

function checkTask(f: unknown, where: string): asserts f is Task {
  if (typeof f !== 'function') throw new TypeError(`${where}: f must be a function, got ${describe(f)}`)
}

class Group implements ErrgroupApi.Group {
  /** Cancels the group's context; undefined for a group without one (`errgroup.group()`). */
  readonly #cancel: CancelCause | undefined
  /** At most this many run at once: Infinity for no limit. */
  #limit = Infinity
  #running = 0
  /** Functions waiting for a free slot; `#head` is the index of the oldest (those before it were taken). */
  #queue: (Task | undefined)[] = []
  #head = 0
  #failed = false
  #error: unknown = undefined
  #waiter: Waiter | undefined

  constructor(cancel: CancelCause | undefined) {
    this.#cancel = cancel
  }

  static check(self: unknown, method: string): Group {
    if (typeof self === 'object' && self !== null && #limit in self) return self as Group
    throw new TypeError(`Group.${method}: called on ${describe(self)}, which is not a Group made by afterfunc's errgroup`)
  }

  go(f: () => unknown): void {
    const g = Group.check(this, 'go')
    checkTask(f, 'Group.go')
    if (g.#running < g.#limit) g.#start(f)
    else g.#queue.push(f)
  }

  tryGo(f: () => unknown): boolean {
    const g = Group.check(this, 'tryGo')
    checkTask(f, 'Group.tryGo')
    if (g.#running >= g.#limit) return false
    g.#start(f)
    return true
  }

  setLimit(n: number): void {
    const g = Group.check(this, 'setLimit')
    if (typeof n !== 'number' || n !== n) {
      throw new TypeError(`Group.setLimit: the limit must be a number, got ${typeof n === 'number' ? 'NaN' : describe(n)}`)
    }
    if (!Number.isInteger(n) && Number.isFinite(n)) {
      throw new RangeError(`Group.setLimit: the limit must be a whole number, got ${n}`)
    }
    if (n === 0) {
      throw new RangeError('Group.setLimit: a limit of 0 would never let a function run; use a negative limit for no limit')
    }
    const active = g.#active()
    if (active > 0) {
      throw new Error(`Group.setLimit: cannot change the limit while ${active} function${active === 1 ? ' is' : 's are'} active in the group`)
    }
    g.#limit = n < 0 ? Infinity : n
  }

  wait(): Promise<void> {
    const g = Group.check(this, 'wait')
    if (g.#active() === 0) {
      g.#cancel?.(g.#error)
      return g.#failed ? Promise.reject(g.#error) : Promise.resolve()
    }
    let waiter = g.#waiter
    if (waiter === undefined) {
      let resolve!: () => void
      let reject!: (err: unknown) => void
      const promise = new Promise<void>((res, rej) => {
        resolve = res
        reject = rej
      })
      waiter = g.#waiter = { promise, resolve, reject }
    }
    return waiter.promise
  }

  /** Functions running or queued. */
  #active(): number {
    return this.#running + this.#queue.length - this.#head
  }

  /** Takes a slot and calls `f` in a microtask. */
  #start(f: Task): void {
    this.#running++
    Promise.resolve()
      .then(() => f())
      .then(this.#finished, this.#failedWith)
  }

  readonly #failedWith = (err: unknown): void => {
    if (!this.#failed) {
      this.#failed = true
      this.#error = err
      this.#cancel?.(err)
    }
    this.#finished()
  }

  /** A function settled: its slot goes to the oldest queued function, or the count falls. */
  readonly #finished = (): void => {
    this.#running--
    const queue = this.#queue
    if (this.#head < queue.length) {
      const next = queue[this.#head]!
      queue[this.#head++] = undefined
      // Drop the taken part once it is most of the array, so a queue that never empties
      // (a producer that keeps up with the group) does not grow without bound.
      if (this.#head === queue.length || (this.#head > COMPACT_AFTER && this.#head * 2 > queue.length)) {
        this.#queue = queue.slice(this.#head)
        this.#head = 0
      }
      this.#start(next)
      return
    }
    if (this.#running > 0) return
    const waiter = this.#waiter
    if (waiter === undefined) return
    this.#waiter = undefined
    this.#cancel?.(this.#error)
    if (this.#failed) waiter.reject(this.#error)
    else waiter.resolve()
  }
}

/** Builds the `errgroup` namespace over a runtime's `context`. */
export function createErrgroup(context: typeof ContextApi): typeof ErrgroupApi {
  return Object.freeze({
    withContext(parent: ContextApi.Context): [ErrgroupApi.Group, ContextApi.Context] {
      if (!isContext(parent)) throw new TypeError(`errgroup.withContext: the parent must be a Context, got ${describe(parent)}`)
      const [ctx, cancel] = context.withCancelCause(parent)
      return [new Group(cancel), ctx]
    },
    group(): ErrgroupApi.Group {
      return new Group(undefined)
    },
  })
}
