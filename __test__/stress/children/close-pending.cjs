// Runtime.close() (the internal runtime API the test suites use; documented as "stops the
// engine; pending timers never run") with a ref'd timer still pending, in a later turn than
// the arming. The process must then exit by itself.
'use strict'

const { join } = require('node:path')
const { done } = require('./common.cjs')

const { createRuntime, selectEngine } = require(join(process.env.AFTERFUNC_ENTRY, '..', 'runtime.js'))
const rt = createRuntime(selectEngine())
rt.time.afterFunc(60_000, () => {})
setTimeout(() => {
  rt.close()
  done({ closed: true, closedAt: performance.timeOrigin + performance.now() })
}, 20)
