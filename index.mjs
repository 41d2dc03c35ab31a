// ESM entry point. It re-exports the CommonJS build, so a process that both imports and
// requires afterfunc gets one runtime (one set of timers, one wheel thread), not two.
import cjs from './dist/index.js'

export const { backend, time, context, testing, signal, errgroup, http } = cjs
