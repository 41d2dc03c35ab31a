/**
 * The JavaScript side of one engine: it writes a table's commands into the engine's ring in
 * batches, publishes each batch once per synchronous run, keeps the engine's ref state, and
 * moves the table's timers to another engine when asked (for the virtual clock).
 *
 * A table names timers by small integer indices and gives every arming a generation; it is the
 * scheduler's slot table (`src/slots.ts`) or a timer set's keys (`src/timerset.ts`). Each
 * table has its own link and its own engine, so their index spaces never meet.
 *
 * Rules:
 * - The hot path never reads the clock. A command carries a delay; the batch starts with a BASE
 *   command whose time is read when the batch is published, after every command in it was
 *   written, so a deadline computed from it is never early.
 * - A batch is published at the end of the synchronous run that opened it (a microtask), or as
 *   soon as it holds BATCH_MAX commands, so the engine can start on a long run before it ends.
 * - The ring never overflows: when it has no room, the engine applies what is published first.
 */

import { Shared } from '../constants'
import { RingWriter } from './ring'
import type { Deliver, Engine, EngineFactory, EngineStats } from './types'

/** A batch is published once it holds this many commands. */
const BATCH_MAX = 1024

const resolved = Promise.resolve()

/** What a link needs from the table whose timers it carries. */
export interface TimerTable {
  /** Whether `generation` is the current arming of `index` and that arming is pending. */
  isCurrent(index: number, generation: number): boolean
  /** Starts a new arming of `index` and returns its generation. */
  nextGeneration(index: number): number
  /** Receives a batch of expired (index, generation) pairs, all due by tick `nowTick` of `now`. */
  receive(ids: Uint32Array, nowTick: number, now: () => number): void
  /** Pending timers. */
  pendingCount(): number
  /** Every pending timer's index with the generation of its arming (for the virtual clock). */
  pendingArmings(): Map<number, number>
  /** Stops every pending timer whose arming is not the one `keep` has for it; returns how many. */
  discardExcept(keep: Map<number, number>): number
}

/**
 * Where a runtime's links get their engines: the current engine factory and clock, which a
 * virtual clock replaces for every live link at once.
 */
export class EngineSource {
  factory: EngineFactory
  now: () => number
  /** Every link of the runtime, held weakly: a link is kept alive by its table's owner. */
  private readonly links = new Set<WeakRef<EngineLink>>()

  constructor(factory: EngineFactory, now: () => number) {
    this.factory = factory
    this.now = now
  }

  /** Makes a link for `table`, registered for swaps. */
  link(table: TimerTable): EngineLink {
    const link = new EngineLink(this, table)
    this.links.add(new WeakRef(link))
    return link
  }

  /** The links still alive. */
  live(): EngineLink[] {
    const live: EngineLink[] = []
    for (const ref of this.links) {
      const link = ref.deref()
      if (link === undefined) this.links.delete(ref)
      else live.push(link)
    }
    return live
  }

  /**
   * Moves every live link's pending timers to a new engine made by `factory` on the clock `now`
   * (see {@link EngineLink.swap}); links made from then on get engines from `factory` too.
   * Returns `restore` (idempotent), which moves every link back: to its previous engine, or,
   * for a link made meanwhile, to a new one of the previous factory.
   */
  swap(factory: EngineFactory, now: () => number): () => void {
    const previousFactory = this.factory
    const previousNow = this.now
    const restores = new Map<EngineLink, () => void>()
    for (const link of this.live()) restores.set(link, link.swap(factory, now))
    this.factory = factory
    this.now = now
    let restored = false
    return () => {
      if (restored) return
      restored = true
      this.factory = previousFactory
      this.now = previousNow
      for (const link of this.live()) {
        const restore = restores.get(link)
        if (restore !== undefined) restore()
        else link.relocate(previousFactory, previousNow)
      }
    }
  }
}

/** The JavaScript side of one engine (see the module doc). */
export class EngineLink {
  private readonly source: EngineSource
  /** The table whose timers the link carries. */
  readonly table: TimerTable
  /** The clock of the current engine (ms); every deadline is measured on it. */
  private now: () => number
  private engine: Engine | undefined
  private writer: RingWriter | undefined

  /** Whether a batch is open: its BASE is written and it is not published yet. */
  private batchOpen = false
  /** Sequence number of the open batch's BASE command. */
  private batchBase = 0
  /** Commands that may still be written into the open batch; 0 when none is open. */
  private writesLeft = 0
  /** While timers are moved to another engine: the time the batches' BASE commands carry. */
  private pinnedBase: number | undefined = undefined
  private flushScheduled = false
  /** Whether pending timers should keep the process alive, and what the engine was last told. */
  private wantRef = false
  private engineRef = false

  constructor(source: EngineSource, table: TimerTable) {
    this.source = source
    this.table = table
    this.now = source.now
  }

  /** The current engine's clock, in ms. */
  clock(): number {
    return this.now()
  }

  /** The engine's counters (zeros before the engine is created), for tests and diagnostics. */
  stats(): EngineStats {
    return this.engine?.stats() ?? { armed: 0, protocolErrors: 0, rounds: 0 }
  }

  /** The deadline the engine holds for `index`, in ms (a whole tick); undefined if none seen. */
  deadlineOf(index: number): number | undefined {
    const tick = this.engine?.deadlineOf(index)
    return tick === undefined ? undefined : tick / Shared.TICKS_PER_MS
  }

  /** Writes an ARM of `index` (generation `generation`) `delay` ms after the batch's time. */
  arm(index: number, generation: number, delay: number): void {
    this.reserveWrite()
    this.writer!.writeArm(index, generation, delay)
  }

  /** Writes an ARM of `index` at `time`, in ms on the engine's clock. */
  armAt(index: number, generation: number, time: number): void {
    this.reserveWrite()
    this.writer!.writeArmAt(index, generation, time)
  }

  /** Writes a CANCEL of `index`. */
  cancel(index: number): void {
    this.reserveWrite()
    this.writer!.writeCancel(index)
  }

  /** The ring position after the last command written: what {@link takeBack} compares with. */
  position(): number {
    return this.writer!.position()
  }

  /**
   * Removes the last command written if it ends at `position` and is not published (the batch
   * is still open); returns whether it did. The engine never sees that command.
   */
  takeBack(position: number): boolean {
    const writer = this.writer
    if (!this.batchOpen || writer === undefined || writer.position() !== position) return false
    writer.takeBack()
    this.writesLeft++
    return true
  }

  /** Sets whether pending timers keep the process alive; the engine learns it at the next publish. */
  setRef(on: boolean): void {
    if (on === this.wantRef) return
    this.wantRef = on
    this.scheduleFlush()
  }

  /** Publishes the commands written so far, now rather than at the end of the synchronous run. */
  publish(): void {
    this.flush()
  }

  /** Stops the engine; pending timers never run. Idempotent; a later command starts a new engine. */
  close(): void {
    this.flush()
    this.engine?.close()
    this.engine = undefined
    this.writer = undefined
    this.engineRef = false
  }

  /**
   * Moves every pending timer to a new engine made by `factory` on the clock `now`; from then
   * on every command goes there. Each timer keeps its deadline tick exactly, and its place in
   * the order: the new clock must read, at the swap, the current time rounded up to a tick (as
   * the virtual clock does), so a deadline means the same instant on both. Returns `restore`
   * (idempotent), which moves the timers pending at that point back to the previous engine (a
   * new one of the source's factory if there was none), each with the time it had left on the
   * new clock, and closes the new engine. Expirations an engine had already sent on their way
   * are still delivered: they were due.
   */
  swap(factory: EngineFactory, now: () => number): () => void {
    const previous = this.engine
    const previousNow = this.now
    const next = this.createEngine(factory, now)
    this.moveTo(next, now, 0)
    let restored = false
    return () => {
      if (restored) return
      restored = true
      if (previous === undefined) this.moveTo(this.createEngine(this.source.factory, this.source.now), this.source.now, this.source.now() - now())
      else this.moveTo(previous, previousNow, previousNow() - now())
      next.close()
    }
  }

  /**
   * Moves every pending timer to a new engine made by `factory` on the clock `now`, each with the
   * time it had left on the current clock, and closes the current engine.
   */
  relocate(factory: EngineFactory, now: () => number): void {
    const current = this.engine
    const currentNow = this.now
    this.moveTo(this.createEngine(factory, now), now, now() - currentNow())
    current?.close()
  }

  /** Makes sure a batch is open with room for one more command, which the caller then writes. */
  private reserveWrite(): void {
    if (this.writesLeft > 0) this.writesLeft--
    else this.openBatch()
  }

  /**
   * Publishes the open batch, if any (it is full, or the ring is), then opens a new one with
   * room for at least the command about to be written. When the ring has no room for a BASE
   * and that command, the engine applies what is published first.
   */
  private openBatch(): void {
    if (this.batchOpen) this.flush()
    const engine = this.ensureEngine()
    const writer = this.writer!
    if (writer.room() < 2) engine.makeRoom()
    this.batchBase = writer.writeBase()
    this.batchOpen = true
    // One of these is the command the caller writes now.
    this.writesLeft = Math.min(BATCH_MAX - 1, writer.room()) - 1
    this.scheduleFlush()
  }

  /** Publishes the open batch and brings the engine's ref state up to date. */
  private flush(): void {
    const engine = this.engine
    if (engine === undefined) return
    if (this.batchOpen) {
      const earliest = this.writer!.publish(this.batchBase, this.pinnedBase ?? this.now())
      this.batchOpen = false
      this.writesLeft = 0
      engine.published(earliest)
    }
    if (this.wantRef !== this.engineRef) {
      this.engineRef = this.wantRef
      engine.setRef(this.wantRef)
    }
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false
    this.flush()
  }

  /** Publishes at the end of this synchronous run (one microtask), unless already scheduled. */
  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true
      resolved.then(this.flushTask)
    }
  }

  /** The engine, created on first use from the source's current factory. */
  private ensureEngine(): Engine {
    if (this.engine === undefined) this.useEngine(this.createEngine(this.source.factory, this.source.now), this.source.now)
    return this.engine!
  }

  /** An engine on the clock `now`, whose batches are delivered against that same clock. */
  private createEngine(factory: EngineFactory, now: () => number): Engine {
    const table = this.table
    const deliver: Deliver = (ids, nowTick) => table.receive(ids, nowTick, now)
    return factory(deliver, now)
  }

  /** Makes `engine`, on the clock `now`, the one every command goes to. */
  private useEngine(engine: Engine, now: () => number): void {
    this.engine = engine
    this.writer = new RingWriter(engine.ring)
    this.now = now
    this.batchOpen = false
    this.writesLeft = 0
  }

  /**
   * Moves every pending timer to `to`, on the clock `toNow`, its deadline moved by `shiftMs`.
   * The moved ARMs count from one BASE time read once, so that a deadline already on a tick
   * stays on the same tick.
   */
  private moveTo(to: Engine, toNow: () => number, shiftMs: number): void {
    this.flush()
    const from = this.engine
    const taken = from?.takeAll() ?? new Float64Array(0)
    if (from !== undefined && this.engineRef) {
      from.setRef(false)
      this.engineRef = false
    }
    this.useEngine(to, toNow)
    const base = toNow()
    this.pinnedBase = base
    const table = this.table
    for (let k = 0; k < taken.length; k += 3) {
      const index = taken[k]!
      // Skip what was stopped or re-armed while its command was in flight; re-arming with a
      // new generation drops any expiry of the old arming still on its way.
      if (!table.isCurrent(index, taken[k + 1]!)) continue
      this.arm(index, table.nextGeneration(index), Math.max(0, taken[k + 2]! / Shared.TICKS_PER_MS + shiftMs - base))
    }
    this.flush()
    this.pinnedBase = undefined
  }
}
