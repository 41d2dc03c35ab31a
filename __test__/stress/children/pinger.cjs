// The client side of the storm's I/O check, in its own process so that the storm cannot delay
// it: connects to 127.0.0.1:<argv[2]> and sends one byte every millisecond, for as long as the
// connection is open. The storm process records when each byte is served.
'use strict'

const net = require('node:net')

const socket = net.connect(Number(process.argv[2]), '127.0.0.1', () => {
  socket.setNoDelay(true)
  const ping = Buffer.from('p')
  const timer = setInterval(() => socket.write(ping), 1)
  socket.on('close', () => clearInterval(timer))
})
socket.on('data', () => {})
socket.on('error', () => process.exit(0))
socket.on('close', () => process.exit(0))
