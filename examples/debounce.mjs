// A debouncer: calls that come in a burst run once, `wait` after the last of them. One timer
// per debouncer, pushed back with reset() on every call, so a burst of a thousand calls arms
// no new timer.

import { time } from 'afterfunc'

/**
 * Returns a function that calls `f` with its latest arguments once `wait` ms have passed
 * without another call, with `flush()` to run a pending call now and `cancel()` to drop it.
 */
function debounce(f, wait) {
  let pending // the arguments of the call waiting to run
  let timer
  const run = () => {
    const args = pending
    pending = undefined
    f(...args)
  }
  const debounced = (...args) => {
    pending = args
    if (timer === undefined) timer = time.afterFunc(wait, run)
    else timer.reset(wait)
  }
  debounced.flush = () => {
    if (timer?.stop()) run()
  }
  debounced.cancel = () => {
    timer?.stop()
    pending = undefined
  }
  return debounced
}

let saves = 0
const save = debounce((text) => console.log(`save #${++saves}: ${JSON.stringify(text)}`), 100 * time.Millisecond)

// Someone types "hello", pauses, types " world", pauses, types "!" and closes the editor at
// once: 12 keystrokes, 20 ms apart within a burst.
let text = ''
let keystrokes = 0
for (const burst of ['hello', ' world', '!']) {
  for (const key of burst) {
    text += key
    keystrokes++
    save(text)
    await time.sleep(20 * time.Millisecond)
  }
  if (burst === '!') save.flush() // closing: save now rather than in 100 ms
  else await time.sleep(300 * time.Millisecond) // a pause
}
console.log(`${saves} saves for ${keystrokes} keystrokes`)
