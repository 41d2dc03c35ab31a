// Packs the npm tarballs exactly as the release publishes them:
//
//   node scripts/pack.mjs [--out DIR]
//
// - the root package `afterfunc`, from `npm pack`, with the `prepare` script removed (it builds
//   the addon in a development checkout; a published package has nothing to build, and npm 11
//   flags dependencies that declare install-time scripts);
// - one package per `npm/<platform>/` directory whose binary is available, either inside that
//   directory (as the release's `napi artifacts` puts it) or at the repository root (a local
//   `napi build --platform`).
//
// Prints a JSON array of the tarball paths. The release workflow publishes these files; the
// install test (`__test__/install.spec.ts`) installs them.

import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outArg = process.argv.indexOf('--out')
const out = resolve(outArg > 0 ? process.argv[outArg + 1] : join(root, 'artifacts'))
mkdirSync(out, { recursive: true })

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
function pack(dir) {
  const json = execFileSync(npm, ['pack', dir, '--ignore-scripts', '--json', '--pack-destination', out], {
    encoding: 'utf8',
    shell: process.platform === 'win32',
  })
  return join(out, JSON.parse(json)[0].filename)
}

const staging = mkdtempSync(join(tmpdir(), 'afterfunc-pack-'))
const tarballs = []
try {
  // Root package: pack, unpack, drop the development-only `prepare`, pack again.
  const first = pack(root)
  const unpacked = join(staging, 'root')
  mkdirSync(unpacked)
  execFileSync('tar', ['-xzf', first, '-C', unpacked])
  rmSync(first)
  const manifestPath = join(unpacked, 'package', 'package.json')
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
  delete manifest.scripts.prepare
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`)
  tarballs.push(pack(join(unpacked, 'package')))

  // Platform packages whose binary is at hand.
  const { binaryName } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).napi
  for (const platform of readdirSync(join(root, 'npm')).sort()) {
    const file = `${binaryName}.${platform}.node`
    const source = [join(root, 'npm', platform, file), join(root, file)].find((p) => existsSync(p))
    if (source === undefined) continue
    const dir = join(staging, platform)
    cpSync(join(root, 'npm', platform), dir, { recursive: true })
    cpSync(source, join(dir, file))
    tarballs.push(pack(dir))
  }
} finally {
  rmSync(staging, { recursive: true, force: true })
}
process.stdout.write(`${JSON.stringify(tarballs)}\n`)
