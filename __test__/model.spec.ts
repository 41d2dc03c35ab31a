// Model-based property tests (fast-check): random sequences of timer and context operations
// run against both engines under the virtual clock and against small reference models of
// Go's rules. Every callback must run exactly as often as the model says, never early, in
// deadline order with FIFO for equal deadlines, and every return value must match.
//
// The virtual clock starts on a whole millisecond and moves in whole milliseconds here, so
// the model's deadlines are exact: ceil(now + max(d, 0)) for a timer armed (or reset) at
// virtual time `now`, which is also when its batch is published (all operations between two
// advances run in one synchronous stretch).

import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { Shared } from '../src/constants.ts'
import { ceilTick, engines, runtime } from './helpers.ts'

const delay = fc.oneof(
  fc.integer({ min: 0, max: 120 }),
  fc.constantFrom(0, -0, -5, 0.5, 1.25, 63.9, 64, 4096, 1e9, Infinity),
  fc.double({ min: -10, max: 300, noNaN: true }),
)

/** What a timer's callback does besides recording that it ran (re-entering the API). */
const action = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resetSelf' as const), d: delay }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stopOther' as const), target: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resetOther' as const), target: fc.nat(), d: delay }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('armNew' as const), d: delay }) },
)
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never

const timerOp = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('arm' as const), d: delay, then: action }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('stop' as const), target: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('reset' as const), target: fc.nat(), d: delay }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 150 }) }) },
)


/**
 * Deadline relative to the clock's start, computed as the engine does: in absolute time
 * (`start + now` is what the clock reads), so a delay too small to change it (5e-324) does not.
 */
function deadlineAt(start: number, now: number, d: number): number {
  const delay = d > 0 ? Math.min(d, Shared.MAX_DURATION_MS) : 0
  return ceilTick(start + now + delay) - start
}

/**
 * The timer of `model` that the engines expire next among those due by `target`: the earliest
 * deadline, and among equal deadlines the one armed or reset first (the lowest `seq`); -1 if
 * none is due.
 */
function nextDue(model: { active: boolean; deadline: number; seq: number }[], target: number): number {
  let next = -1
  for (let i = 0; i < model.length; i++) {
    const t = model[i]!
    if (!t.active || t.deadline > target) continue
    if (next < 0 || t.deadline < model[next]!.deadline || (t.deadline === model[next]!.deadline && t.seq < model[next]!.seq)) next = i
  }
  return next
}

interface ModelTimer {
  active: boolean
  deadline: number
  seq: number
  /** Runs on the first firing only, so no sequence re-arms forever. */
  then: Action
  acted: boolean
}

describe.each(engines)('model-based: timers on the %s engine', (kind) => {
  test('afterFunc / stop / reset / advance match the model, with callbacks that re-enter the API', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(timerOp, { minLength: 1, maxLength: 60 }), async (ops) => {
        const rt = runtime(kind)
        const { time, testing } = rt
        using clock = testing.virtualClock()
        const start = clock.now()
        const rel = () => clock.now() - start

        // The system and the model side by side. Timer i of the system is model[i].
        const timers: ReturnType<typeof time.afterFunc>[] = []
        const model: ModelTimer[] = []
        let seq = 0
        let modelNow = 0
        const log: string[] = []
        const expected: string[] = []

        /** What timer i's callback does after recording that it ran: on the system or the model. */
        function react(i: number, then: Action, onModel: boolean): void {
          const count = onModel ? model.length : timers.length
          const out = onModel ? expected : log
          switch (then.kind) {
            case 'none':
              return
            case 'resetSelf':
              out.push(`resetSelf ${i} -> ${onModel ? modelReset(i, then.d) : timers[i]!.reset(then.d)}`)
              return
            case 'stopOther': {
              const j = then.target % count
              out.push(`stopOther ${j} -> ${onModel ? modelStop(j) : timers[j]!.stop()}`)
              return
            }
            case 'resetOther': {
              const j = then.target % count
              out.push(`resetOther ${j} -> ${onModel ? modelReset(j, then.d) : timers[j]!.reset(then.d)}`)
              return
            }
            case 'armNew':
              if (onModel) modelArm(then.d, { kind: 'none' })
              else sysArm(then.d, { kind: 'none' })
              return
          }
        }

        function sysArm(d: number, then: Action): void {
          const i = timers.length
          let acted = false
          timers.push(
            time.afterFunc(d, () => {
              log.push(`fire ${i} at ${rel()}`)
              if (acted) return
              acted = true
              react(i, then, false)
            }),
          )
        }
        function modelArm(d: number, then: Action): void {
          model.push({ active: true, deadline: deadlineAt(start, modelNow, d), seq: seq++, then, acted: false })
        }
        function modelStop(i: number): boolean {
          const was = model[i]!.active
          model[i]!.active = false
          return was
        }
        function modelReset(i: number, d: number): boolean {
          const t = model[i]!
          const was = t.active
          t.active = true
          t.deadline = deadlineAt(start, modelNow, d)
          t.seq = seq++
          return was
        }
        function modelAdvance(ms: number): void {
          const target = modelNow + ms
          for (;;) {
            const next = nextDue(model, target)
            if (next < 0) break
            const t = model[next]!
            modelNow = Math.max(modelNow, t.deadline)
            t.active = false
            expected.push(`fire ${next} at ${modelNow}`)
            if (t.acted) continue
            t.acted = true
            react(next, t.then, true)
          }
          modelNow = target
        }

        for (const op of ops) {
          switch (op.op) {
            case 'arm':
              sysArm(op.d, op.then)
              modelArm(op.d, op.then)
              break
            case 'stop':
              if (timers.length === 0) break
              log.push(`stop ${op.target % timers.length} -> ${timers[op.target % timers.length]!.stop()}`)
              expected.push(`stop ${op.target % model.length} -> ${modelStop(op.target % model.length)}`)
              break
            case 'reset':
              if (timers.length === 0) break
              log.push(`reset ${op.target % timers.length} -> ${timers[op.target % timers.length]!.reset(op.d)}`)
              expected.push(`reset ${op.target % model.length} -> ${modelReset(op.target % model.length, op.d)}`)
              break
            case 'advance':
              await clock.advance(op.ms)
              modelAdvance(op.ms)
              expect(rel()).toBe(modelNow)
              break
          }
        }
        // Let everything that is due within a while run (saturated timers never do).
        await clock.advance(1000)
        modelAdvance(1000)
        expect(log).toEqual(expected)
        expect(clock.pending()).toBe(model.filter((t) => t.active).length)
      }),
      { numRuns: 400 },
    )
  }, 120_000)
})

// ---- Timer sets --------------------------------------------------------------------------

const keyOp = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('reset' as const), key: fc.integer({ min: 0, max: 15 }), d: delay }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('stop' as const), key: fc.integer({ min: 0, max: 15 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 150 }) }) },
)

/** What the set's callback does for a key, the first time it runs for it. */
const keyAction = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), key: fc.integer({ min: 0, max: 15 }), d: delay }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('stop' as const), key: fc.integer({ min: 0, max: 15 }) }) },
)

describe.each(engines)('model-based: timer sets on the %s engine', (kind) => {
  test('reset / stop / advance of keys, with a callback that re-enters the set, match a model of Go timers per key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(keyOp, { minLength: 1, maxLength: 60 }), fc.array(keyAction, { minLength: 16, maxLength: 16 }), async (ops, actions) => {
        const { time, testing } = runtime(kind)
        using clock = testing.virtualClock()
        const start = clock.now()
        const rel = () => clock.now() - start
        const model = Array.from({ length: 16 }, () => ({ active: false, deadline: 0, seq: 0, acted: false }))
        let seq = 0
        let modelNow = 0
        const log: string[] = []
        const expected: string[] = []
        const acted = new Set<number>()

        const modelReset = (key: number, d: number): boolean => {
          const t = model[key]!
          const was = t.active
          Object.assign(t, { active: true, deadline: deadlineAt(start, modelNow, d), seq: seq++ })
          return was
        }
        const modelStop = (key: number): boolean => {
          const was = model[key]!.active
          model[key]!.active = false
          return was
        }
        const react = (key: number, onModel: boolean): void => {
          const then = actions[key]!
          const out = onModel ? expected : log
          if (then.kind === 'reset') out.push(`in ${key}: reset ${then.key} -> ${onModel ? modelReset(then.key, then.d) : set.reset(then.key, then.d)}`)
          if (then.kind === 'stop') out.push(`in ${key}: stop ${then.key} -> ${onModel ? modelStop(then.key) : set.stop(then.key)}`)
        }
        const set = time.newTimerSet((key) => {
          log.push(`fire ${key} at ${rel()}`)
          if (acted.has(key)) return
          acted.add(key)
          react(key, false)
        })
        const modelAdvance = (ms: number): void => {
          const target = modelNow + ms
          for (;;) {
            const next = nextDue(model, target)
            if (next < 0) break
            const t = model[next]!
            modelNow = Math.max(modelNow, t.deadline)
            t.active = false
            expected.push(`fire ${next} at ${modelNow}`)
            if (t.acted) continue
            t.acted = true
            react(next, true)
          }
          modelNow = target
        }

        for (const op of ops) {
          if (op.op === 'reset') {
            log.push(`reset ${op.key} -> ${set.reset(op.key, op.d)}`)
            expected.push(`reset ${op.key} -> ${modelReset(op.key, op.d)}`)
          } else if (op.op === 'stop') {
            log.push(`stop ${op.key} -> ${set.stop(op.key)}`)
            expected.push(`stop ${op.key} -> ${modelStop(op.key)}`)
          } else {
            await clock.advance(op.ms)
            modelAdvance(op.ms)
          }
          expect(set.size).toBe(model.filter((t) => t.active).length)
        }
        await clock.advance(1000)
        modelAdvance(1000)
        expect(log).toEqual(expected)
        expect(clock.pending()).toBe(model.filter((t) => t.active).length)
        set[Symbol.dispose]()
      }),
      { numRuns: 300 },
    )
  }, 120_000)
})

// ---- Contexts ---------------------------------------------------------------------------

const ctxOp = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('withCancel' as const), parent: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('withTimeout' as const), parent: fc.nat(), ms: fc.integer({ min: -5, max: 100 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('withoutCancel' as const), parent: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('withValue' as const), parent: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel' as const), target: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('afterFunc' as const), target: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('stop' as const), target: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 60 }) }) },
)

type Err = 'none' | 'canceled' | 'deadline'

/** A registration in a cancelable context's kid set: a child context or an afterFunc callback, in insertion order. */
type Kid = { ctx: number } | { reg: number }

interface ModelCtx {
  /**
   * The nearest cancelable context (itself for withCancel/withTimeout), whose err this one
   * reports; -1 when there is none (background, withoutCancel and withValue over those).
   */
  owner: number
  /** Own err (meaningful for owners). */
  err: Err
  /** Its own timer's deadline (relative ms): only when not later than the parent's (Go). */
  timer: number | undefined
  /** Effective deadline (own or inherited), which decides whether a child gets its own timer. */
  deadline: number | undefined
  /** Kid set (owners only), in insertion order. */
  kids: Kid[]
}

type RegState = 'waiting' | 'armed' | 'ran' | 'stopped' | 'never'

describe.each(engines)('model-based: contexts on the %s engine', (kind) => {
  test("withCancel / withTimeout / withoutCancel / withValue / cancel / afterFunc / stop / advance match a model of Go's rules", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ctxOp, { minLength: 1, maxLength: 50 }), async (ops) => {
        const rt = runtime(kind)
        const { context, testing } = rt
        using clock = testing.virtualClock()
        const canceled = context.Canceled
        const exceeded = context.DeadlineExceeded

        const ctxs: ReturnType<typeof context.background>[] = [context.background()]
        const cancels: ((() => void) | undefined)[] = [undefined]
        const model: ModelCtx[] = [{ owner: -1, err: 'none', timer: undefined, deadline: undefined, kids: [] }]
        let now = 0
        const stops: (() => boolean)[] = []
        const regs: RegState[] = []
        /** Registrations armed on the scheduler (context done, callback not run yet), in arming order. */
        let armedQueue: number[] = []
        const ranLog: number[] = []
        const expectedRan: number[] = []

        const errOf = (e: Error | undefined): string => (e === undefined ? 'none' : e === canceled ? 'canceled' : e === exceeded ? 'deadline' : `other ${String(e)}`)
        const errOfModel = (i: number): Err => {
          const o = model[i]!.owner
          return o < 0 ? 'none' : model[o]!.err
        }

        /** Cancels owner `i` and every owner registered below it, breadth first; arms their waiting callbacks. */
        function markDone(i: number, err: Err): void {
          const queue = [i]
          while (queue.length > 0) {
            const k = queue.shift()!
            const m = model[k]!
            if (m.err !== 'none') continue
            m.err = err
            for (const kid of m.kids) {
              if ('reg' in kid) {
                if (regs[kid.reg] === 'waiting') {
                  regs[kid.reg] = 'armed'
                  armedQueue.push(kid.reg)
                }
              } else {
                queue.push(kid.ctx)
              }
            }
            m.kids = []
          }
        }
        function leaveParent(i: number, parent: number): void {
          const o = model[parent]!.owner
          if (o >= 0) model[o]!.kids = model[o]!.kids.filter((k) => !('ctx' in k && k.ctx === i))
        }
        function add(parent: number, kindOf: 'cancel' | 'timeout' | 'without' | 'value', ms = 0): void {
          const p = model[parent]!
          const i = model.length
          const m: ModelCtx = { owner: -1, err: 'none', timer: undefined, deadline: undefined, kids: [] }
          model.push(m)
          if (kindOf === 'without') return
          if (kindOf === 'value') {
            m.owner = p.owner
            m.deadline = p.deadline
            return
          }
          m.owner = i
          m.deadline = p.deadline
          const parentErr = errOfModel(parent)
          if (kindOf === 'timeout') {
            const own = Math.ceil(now + Math.max(ms, 0))
            if (!(p.deadline !== undefined && p.deadline < own)) {
              m.deadline = own
              m.timer = own
            }
          }
          if (parentErr !== 'none') {
            m.err = parentErr
          } else if (m.timer !== undefined && ms <= 0) {
            m.err = 'deadline'
          } else if (p.owner >= 0) {
            model[p.owner]!.kids.push({ ctx: i })
          }
        }
        function runArmed(): void {
          for (const id of armedQueue) {
            if (regs[id] !== 'armed') continue
            regs[id] = 'ran'
            expectedRan.push(id)
          }
          armedQueue = []
        }
        function advanceModel(ms: number): void {
          const target = now + ms
          for (;;) {
            let next = -1
            for (let i = 0; i < model.length; i++) {
              const m = model[i]!
              if (m.timer === undefined || m.err !== 'none' || m.timer > target) continue
              if (next < 0 || m.timer < model[next]!.timer!) next = i
            }
            if (next < 0) break
            now = Math.max(now, model[next]!.timer!)
            markDone(next, 'deadline')
            runArmed()
          }
          now = target
          runArmed()
        }

        const parents: number[] = [-1]
        for (const op of ops) {
          switch (op.op) {
            case 'withCancel':
            case 'withTimeout': {
              const p = op.parent % ctxs.length
              const [c, cancel] = op.op === 'withCancel' ? context.withCancel(ctxs[p]!) : context.withTimeout(ctxs[p]!, op.ms)
              ctxs.push(c)
              cancels.push(cancel)
              parents.push(p)
              add(p, op.op === 'withCancel' ? 'cancel' : 'timeout', op.op === 'withTimeout' ? op.ms : 0)
              break
            }
            case 'withoutCancel':
            case 'withValue': {
              const p = op.parent % ctxs.length
              ctxs.push(op.op === 'withoutCancel' ? context.withoutCancel(ctxs[p]!) : context.withValue(ctxs[p]!, 'k', p))
              cancels.push(undefined)
              parents.push(p)
              add(p, op.op === 'withoutCancel' ? 'without' : 'value')
              break
            }
            case 'cancel': {
              const i = op.target % ctxs.length
              const cancel = cancels[i]
              if (cancel === undefined) break
              cancel()
              if (model[i]!.err === 'none') {
                markDone(i, 'canceled')
                leaveParent(i, parents[i]!)
              }
              break
            }
            case 'afterFunc': {
              const i = op.target % ctxs.length
              const id = regs.length
              stops.push(context.afterFunc(ctxs[i]!, () => ranLog.push(id)))
              const o = model[i]!.owner
              if (o < 0) {
                regs.push('never')
              } else if (model[o]!.err !== 'none') {
                regs.push('armed')
                armedQueue.push(id)
              } else {
                regs.push('waiting')
                model[o]!.kids.push({ reg: id })
              }
              break
            }
            case 'stop': {
              if (stops.length === 0) break
              const id = op.target % stops.length
              const state = regs[id]!
              const prevents = state === 'waiting' || state === 'armed' || state === 'never'
              if (prevents) regs[id] = 'stopped'
              expect(stops[id]!(), `stop of registration ${id} (${state})`).toBe(prevents)
              break
            }
            case 'advance':
              await clock.advance(op.ms)
              advanceModel(op.ms)
              break
          }
          ctxs.forEach((c, i) => expect(errOf(c.err()), `err of context ${i} after ${op.op}`).toBe(errOfModel(i)))
        }
        await clock.advance(500)
        advanceModel(500)
        expect(ranLog).toEqual(expectedRan)
        for (const c of cancels) c?.()
      }),
      { numRuns: 400 },
    )
  }, 120_000)
})
