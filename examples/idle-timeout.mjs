// Idle connection timeouts: a TCP echo server closes a connection after 100 ms without data.
// Each connection has one timer, pushed back with reset() on every read; resetting a pending
// timer is a write to memory, not a new timer, so doing it per read costs next to nothing.

import { createServer, connect } from 'node:net'
import { once } from 'node:events'
import { time } from 'afterfunc'

const IDLE = 100 * time.Millisecond
let closedForIdleness = 0

const server = createServer((conn) => {
  const idle = time.afterFunc(IDLE, () => {
    closedForIdleness++
    conn.destroy()
  })
  conn.on('data', (chunk) => {
    idle.reset(IDLE)
    conn.write(chunk)
  })
  conn.on('close', () => idle.stop())
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')
const { port } = server.address()

/** Connects, sends `messages` lines at `every` ms, and reports what happened. */
async function client(messages, every) {
  const conn = connect(port, '127.0.0.1')
  await once(conn, 'connect')
  let echoed = ''
  conn.setEncoding('utf8').on('data', (data) => (echoed += data))
  const closed = once(conn, 'close')
  let sent = 0
  if (messages > 0) {
    for await (const _ of time.tick(every)) {
      conn.write(`message ${++sent}\n`)
      if (sent === messages) break
    }
  }
  const lastSent = performance.now()
  await closed
  const quiet = performance.now() - lastSent
  return { echoed: echoed.split('\n').filter(Boolean).length, closedWhenIdle: quiet >= IDLE }
}

const quiet = await client(0)
console.log(`quiet client: closed by the server after ${IDLE} ms without data: ${quiet.closedWhenIdle}`)
const chatty = await client(6, 30 * time.Millisecond)
console.log(`chatty client: ${chatty.echoed} of 6 messages echoed while it talked, then closed when idle: ${chatty.closedWhenIdle}`)

server.close()
console.log(`server: ${closedForIdleness} connections closed for idleness`)
