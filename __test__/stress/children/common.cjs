// Helpers shared by the stress children. Each child runs with `node --expose-gc`, loads the
// built package from AFTERFUNC_ENTRY (the engine is chosen by AFTERFUNC_BACKEND), and prints
// one JSON line of results as its last line of stdout.
'use strict'

const { readFileSync } = require('node:fs')

/** The package, or undefined in `node` mode (the setTimeout baseline loads nothing). */
function load() {
  return process.env.STRESS_MODE === 'node' ? undefined : require(process.env.AFTERFUNC_ENTRY)
}

/** An integer setting from the environment. */
function int(name, dflt) {
  const v = process.env[name]
  return v === undefined || v === '' ? dflt : Math.round(Number(v))
}

/** xoshiro128** on four uint32 words: fast, seeded, the same sequence every run. */
function rng(seed = 0x9e3779b9) {
  let a = seed >>> 0 || 1
  let b = 0x6d2b79f5
  let c = 0x1b873593
  let d = 0xcc9e2d51
  /** A float in [0, 1). */
  return function next() {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9)
    const t = b << 9
    c ^= a
    d ^= b
    b ^= c
    a ^= d
    c ^= t
    d = rotl(d, 11)
    return (r >>> 0) / 4294967296
  }
}
function rotl(x, k) {
  return (x << k) | (x >>> (32 - k))
}

/** Two full collections, then the memory figures (MB). */
function settledMemory() {
  global.gc()
  global.gc()
  const m = process.memoryUsage()
  return { rssMB: m.rss / 2 ** 20, heapUsedMB: m.heapUsed / 2 ** 20, externalMB: m.external / 2 ** 20, arrayBuffersMB: m.arrayBuffers / 2 ** 20 }
}

/** Peak resident set size of this process so far, MB. */
function peakRssMB() {
  return process.resourceUsage().maxRSS / 1024
}

/** Threads of this process (Linux), or -1 where /proc is not there. */
function threads() {
  try {
    const m = /^Threads:\s+(\d+)/m.exec(readFileSync('/proc/self/status', 'utf8'))
    return m ? Number(m[1]) : -1
  } catch {
    return -1
  }
}

/** Prints the result line. */
function done(result) {
  process.stdout.write(JSON.stringify(result) + '\n')
}

const tick = () => new Promise((r) => setImmediate(r))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

module.exports = { load, int, rng, settledMemory, peakRssMB, threads, done, tick, sleep }
