// S6 the server pattern: a 30 s deadline per request, cancelled when the request is done.
//
//   afterfunc:     const [ctx, cancel] = context.withTimeout(context.background(), 30_000); cancel()
//   afterfunc+sig: the same, and reading ctx.signal (what a handler passes to fetch or a driver)
//   node-ac:       const ac = new AbortController(); const t = setTimeout(() => ac.abort(), 30_000); clearTimeout(t)
//   node-signal:   AbortSignal.timeout(30_000) (cannot be cancelled: its timer stays pending
//                  until it fires or the signal is collected)
//
// Under a parent (a server-wide shutdown signal or an outer request), the same job:
//   afterfunc (request_child): const [ctx, cancel] = context.withTimeout(parent, 30_000); cancel()
//                  with parent = context.withCancel(context.background())[0], long-lived
//   node-any:      AbortSignal.any([parent.signal, AbortSignal.timeout(30_000)]) with parent a
//                  long-lived AbortController (neither part can be cancelled: the timeout stays
//                  pending and the composite stays registered with the parent until collected)
//
// ns/op: tinybench, K requests per iteration, then one microtask (the scheduler's publish).
// bytes (part 'bytes', its own process): heapUsed+external and RSS per in-flight request, M
// requests made and held (not cancelled), after two collections; then they are cancelled.

import { Bench } from 'tinybench'
import { gcMemory, settle, sleep, slots } from './common.mjs'

const K = 1000
const DEADLINE = 30_000

export async function ctxSuite(lib, variant, M, { time, warmupTime }, part = 'time') {
  const held = slots(M)
  let make, finish // make(i) creates request i's deadline and holds it; finish(i) cancels it
  let makeChild // afterfunc only: make(i) under a long-lived cancellable parent
  let cleanup = () => {}
  const tasks = {}
  if (variant === 'afterfunc') {
    const { context } = lib
    const bg = context.background()
    const withTimeout = context.withTimeout
    tasks.request = async () => {
      for (let k = 0; k < K; k++) {
        const [, cancel] = withTimeout(bg, DEADLINE)
        cancel()
      }
      await null
    }
    tasks.request_with_signal = async () => {
      for (let k = 0; k < K; k++) {
        const [ctx, cancel] = withTimeout(bg, DEADLINE)
        if (ctx.signal.aborted) throw new Error('aborted')
        cancel()
      }
      await null
    }
    const [parent, cancelParent] = context.withCancel(bg)
    tasks.request_child = async () => {
      for (let k = 0; k < K; k++) {
        const [, cancel] = withTimeout(parent, DEADLINE)
        cancel()
      }
      await null
    }
    make = (i) => (held[i] = withTimeout(bg, DEADLINE))
    finish = (i) => held[i][1]()
    // For the bytes part: the same requests held under the long-lived parent.
    makeChild = (i) => (held[i] = withTimeout(parent, DEADLINE))
    cleanup = cancelParent
  } else if (variant === 'node-any') {
    const parent = new AbortController()
    tasks.request = async () => {
      for (let k = 0; k < K; k++) {
        const signal = AbortSignal.any([parent.signal, AbortSignal.timeout(DEADLINE)])
        if (signal.aborted) throw new Error('aborted')
      }
      await null
    }
    make = (i) => (held[i] = AbortSignal.any([parent.signal, AbortSignal.timeout(DEADLINE)]))
    finish = (i) => (held[i] = 0)
  } else if (variant === 'node-ac') {
    tasks.request = async () => {
      for (let k = 0; k < K; k++) {
        const ac = new AbortController()
        const t = setTimeout(() => ac.abort(), DEADLINE)
        if (ac.signal.aborted) throw new Error('aborted')
        clearTimeout(t)
      }
      await null
    }
    make = (i) => {
      const ac = new AbortController()
      held[i] = [ac, setTimeout(() => ac.abort(), DEADLINE)]
    }
    finish = (i) => clearTimeout(held[i][1])
  } else if (variant === 'node-signal') {
    tasks.request = async () => {
      for (let k = 0; k < K; k++) {
        const signal = AbortSignal.timeout(DEADLINE)
        if (signal.aborted) throw new Error('aborted')
      }
      await null
    }
    make = (i) => (held[i] = AbortSignal.timeout(DEADLINE))
    finish = (i) => (held[i] = 0)
  } else {
    throw new Error(`unknown S6 variant ${variant}`)
  }

  const out = {}
  if (part === 'bytes') {
    // Bytes per in-flight request, in a fresh process of their own (after one request, which
    // creates the engine and its command ring).
    make(0)
    finish(0)
    await settle(lib)
    /** Makes M requests with `fn` and returns the memory they hold per request; then cancels them. */
    const perRequest = async (fn) => {
      await sleep(100)
      const before = gcMemory()
      for (let i = 0; i < M; i++) fn(i)
      await settle(lib)
      await sleep(100)
      const after = gcMemory()
      for (let i = 0; i < M; i++) finish(i)
      await settle(lib)
      // Released too: `held` still refers to the cancelled requests.
      for (let i = 0; i < M; i++) held[i] = 0
      return { heap: (after.heap - before.heap) / M, rss: (after.rss - before.rss) / M }
    }
    const top = await perRequest(make)
    out.heap_bytes = top.heap
    out.rss_bytes = top.rss
    if (makeChild !== undefined) {
      // The same, under the parent, measured from the level the first set came back to.
      const child = await perRequest(makeChild)
      out.child_heap_bytes = child.heap
      // Not comparable with rss_bytes: the pages the first set freed are reused. Recorded only.
      out.child_rss_bytes = child.rss
    }
    cleanup()
    return out
  }

  // ns per request, in a fresh process (after a burst of M in-flight requests, the figures of
  // both afterfunc engines were bimodal from one process to the next: see benchmark/README.md).

  for (const [name, fn] of Object.entries(tasks)) {
    const bench = new Bench({ time, warmupTime, warmup: true, retainSamples: false })
    bench.add(name, fn)
    await bench.run()
    const r = bench.tasks[0].result
    if (r.state !== 'completed') throw new Error(`tinybench task ${name}: ${r.state} ${r.error ?? ''}`)
    out[`${name}_ns`] = (r.latency.mean * 1e6) / K
    out[`${name}_rme_pct`] = r.latency.rme
    await settle(lib)
  }
  cleanup()

  return out
}
