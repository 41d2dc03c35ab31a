// The basics of time, context and the virtual clock, as an application uses the installed
// package, on whichever runtime runs this file (Node, Bun, Deno). `scripts/runtimes.mjs`
// copies it into an application that has afterfunc installed and runs it on each runtime,
// once per engine:
//
//   <runtime> smoke.mjs --backend native|js [--warning TEXT] [--import-error TEXT]
//
// --backend       the engine the package must report;
// --warning       exactly one AFTERFUNC_NATIVE_UNAVAILABLE warning must be emitted, containing
//                 TEXT (without it, none may be);
// --import-error  the import must throw an error containing TEXT, and nothing else is checked.
//
// Expectations come as arguments, not environment variables, because Deno without --allow-env
// cannot read the environment. Prints one line per failed check and a summary line
// `smoke: <passed> passed, <failed> failed (<runtime>, backend <engine>)`; exits 1 on any failure.

const args = process.argv.slice(2)
/** The value after `--name`, or undefined. */
function option(name) {
  const at = args.indexOf(`--${name}`)
  return at < 0 ? undefined : args[at + 1]
}
const expectedBackend = option('backend')
const expectedWarning = option('warning')
const expectedImportError = option('import-error')

const runtimeName =
  process.versions.bun !== undefined
    ? `Bun ${process.versions.bun}`
    : process.versions.deno !== undefined
      ? `Deno ${process.versions.deno}`
      : `Node ${process.version}`

const warnings = []
process.on('warning', (w) => {
  if (w.code === 'AFTERFUNC_NATIVE_UNAVAILABLE') warnings.push(w.message)
})

let passed = 0
let failed = 0
function finish() {
  console.log(`smoke: ${passed} passed, ${failed} failed (${runtimeName}, backend ${expectedBackend ?? 'none'})`)
  process.exitCode = failed === 0 ? 0 : 1
}

/** Runs one named check; a thrown error or rejected promise is its failure. */
async function check(name, body) {
  try {
    await body()
    passed++
  } catch (error) {
    failed++
    console.log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message)
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const now = () => performance.now()

if (expectedImportError !== undefined) {
  await check(`importing afterfunc throws an error containing ${JSON.stringify(expectedImportError)}`, async () => {
    let thrown
    try {
      await import('afterfunc')
    } catch (error) {
      thrown = error
    }
    assert(thrown instanceof Error, 'the import did not throw')
    assert(thrown.message.includes(expectedImportError), `it threw ${JSON.stringify(thrown.message)}`)
  })
  finish()
} else {
  const esm = await import('afterfunc')
  const { createRequire } = await import('node:module')
  const cjs = createRequire(import.meta.url)('afterfunc')
  const { time, context, testing } = esm

  await check(`ESM import and CommonJS require give one runtime, on the ${expectedBackend} engine`, () => {
    assert(esm.backend === expectedBackend, `backend is ${esm.backend}`)
    assert(cjs.backend === esm.backend && cjs.time === esm.time && cjs.context === esm.context, 'require and import gave two runtimes')
  })

  await check('afterFunc calls f once, never before its duration', async () => {
    const start = now()
    let calls = 0
    const firedAt = await new Promise((resolve) =>
      time.afterFunc(25, () => {
        calls++
        resolve(now())
      }),
    )
    await delay(30)
    assert(firedAt - start >= 25, `fired after ${(firedAt - start).toFixed(3)} ms`)
    assert(calls === 1, `called ${calls} times`)
  })

  await check('stop is true while pending and prevents the call; false afterwards', async () => {
    let ran = false
    const t = time.afterFunc(10, () => (ran = true))
    assert(t.stop() === true, 'the first stop was not true')
    assert(t.stop() === false, 'the second stop was not false')
    await delay(30)
    assert(!ran, 'the stopped timer ran')
    const fired = await new Promise((resolve) => {
      const u = time.afterFunc(1, () => resolve(u))
    })
    assert(fired.stop() === false, 'stop after the call was not false')
  })

  await check('reset is true while pending and moves the deadline; false once fired, and arms again', async () => {
    const times = []
    const start = now()
    const t = time.afterFunc(10, () => times.push(now() - start))
    assert(t.reset(40) === true, 'reset of a pending timer was not true')
    await delay(25)
    assert(times.length === 0, `fired at ${times[0]} ms, before its new deadline`)
    await delay(40)
    assert(times.length === 1 && times[0] >= 40, `fired at ${JSON.stringify(times)} ms`)
    assert(t.reset(5) === false, 'reset of a fired timer was not false')
    await delay(30)
    assert(times.length === 2, 'reset of a fired timer did not arm it again')
  })

  await check('sleep resolves no earlier than its duration; a cancelled ctx rejects it with Canceled', async () => {
    const start = now()
    await time.sleep(20)
    assert(now() - start >= 20, `slept ${(now() - start).toFixed(3)} ms`)
    const [ctx, cancel] = context.withCancel(context.background())
    const sleeping = time.sleep(60_000, { ctx })
    cancel()
    const reason = await sleeping.then(
      () => 'resolved',
      (e) => e,
    )
    assert(reason === context.Canceled, `sleep ended with ${String(reason)}`)
  })

  await check('a ticker ticks on its grid and stops', async () => {
    const start = now()
    const ticks = []
    await new Promise((resolve) => {
      const ticker = time.newTicker(10, () => {
        ticks.push(now() - start)
        if (ticks.length === 3) {
          ticker.stop()
          resolve()
        }
      })
    })
    await delay(40)
    assert(ticks.length === 3, `${ticks.length} ticks after stop at the third`)
    ticks.forEach((at, i) => assert(at >= 10 * (i + 1), `tick ${i + 1} came at ${at.toFixed(3)} ms`))
  })

  await check('withTimeout: done with DeadlineExceeded at its deadline, not before; signal aborts with it', async () => {
    const start = now()
    const [ctx, cancel] = context.withTimeout(context.background(), 25)
    assert(ctx.err() === undefined && !ctx.signal.aborted, 'done before its deadline')
    await ctx.done()
    assert(now() - start >= 25, `done after ${(now() - start).toFixed(3)} ms`)
    assert(ctx.err() === context.DeadlineExceeded, `err() is ${String(ctx.err())}`)
    assert(ctx.signal.aborted && ctx.signal.reason === context.DeadlineExceeded, 'signal not aborted with DeadlineExceeded')
    cancel()
  })

  await check('withCancel: cancel is Canceled at once, in the child too, never in the parent', () => {
    const [parent, cancelParent] = context.withCancel(context.background())
    const [child, cancelChild] = context.withCancel(parent)
    cancelChild()
    assert(child.err() === context.Canceled && parent.err() === undefined, 'cancelling the child reached the parent')
    const [other] = context.withCancel(parent)
    cancelParent()
    assert(other.err() === context.Canceled, 'cancelling the parent did not reach its child')
  })

  await check('ctx.signal aborts with the cause given to cancel', () => {
    const [ctx, cancel] = context.withCancelCause(context.background())
    const why = new Error('shutting down')
    let heard
    ctx.signal.addEventListener('abort', () => (heard = ctx.signal.reason))
    cancel(why)
    assert(ctx.signal.aborted && ctx.signal.reason === why && heard === why, 'signal.reason is not the cause')
    assert(context.cause(ctx) === why && ctx.err() === context.Canceled, 'cause or err wrong')
  })

  await check('context.afterFunc calls f once the context is done; stop before prevents it', async () => {
    const [ctx, cancel] = context.withCancel(context.background())
    let calls = 0
    const stopNot = context.afterFunc(ctx, () => calls++)
    const [other, cancelOther] = context.withCancel(context.background())
    let prevented = true
    const stop = context.afterFunc(other, () => (prevented = false))
    assert(stop() === true, 'stop before done was not true')
    cancel()
    cancelOther()
    await delay(20)
    assert(calls === 1, `f ran ${calls} times`)
    assert(prevented, 'a stopped afterFunc ran')
    assert(stopNot() === false, 'stop after f ran was not false')
  })

  await check('virtualClock: timers and deadlines move only with advance, in order', async () => {
    const clock = testing.virtualClock()
    try {
      const order = []
      time.afterFunc(2000, () => order.push('b'))
      time.afterFunc(1000, () => order.push('a'))
      const [ctx, cancel] = context.withTimeout(context.background(), 5000)
      await delay(20)
      assert(order.length === 0 && ctx.err() === undefined, 'moved without advance')
      await clock.advance(1999)
      assert(order.join() === 'a', `after 1999 ms: ${order.join()}`)
      await clock.advance(1)
      assert(order.join() === 'a,b', `after 2000 ms: ${order.join()}`)
      await clock.advance(3000)
      assert(ctx.err() === context.DeadlineExceeded, 'the deadline did not pass at 5000 ms')
      cancel()
      assert(clock.pending() === 0, `${clock.pending()} still pending`)
    } finally {
      clock[Symbol.dispose]()
    }
  })

  await check(
    expectedWarning === undefined
      ? 'no AFTERFUNC_NATIVE_UNAVAILABLE warning'
      : `exactly one AFTERFUNC_NATIVE_UNAVAILABLE warning, containing ${JSON.stringify(expectedWarning)}`,
    () => {
      if (expectedWarning === undefined) assert(warnings.length === 0, `warned: ${JSON.stringify(warnings)}`)
      else assert(warnings.length === 1 && warnings[0].includes(expectedWarning), `warned: ${JSON.stringify(warnings)}`)
    },
  )

  // The last check is the process staying alive for a pending timer: the summary comes from
  // its callback, so a runtime that exits early prints none, which the runner counts as failure.
  const armed = now()
  time.afterFunc(30, () => {
    if (now() - armed >= 30) passed++
    else {
      failed++
      console.log('FAIL the last timer fired early')
    }
    finish()
  })
}
