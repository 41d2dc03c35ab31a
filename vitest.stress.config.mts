// `npm run test:stress`: the long, heavy suites (stress, soak, storms, faults). Each scenario runs
// in child processes against the built package (dist/), one file at a time so that heavy
// suites never overlap on a 2-core machine. Figures are printed and gathered in
// $TMPDIR/afterfunc-stress-results.json.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['__test__/stress/**/*.stress.ts'],
    fileParallelism: false,
    testTimeout: 20 * 60_000,
    hookTimeout: 5 * 60_000,
    reporters: ['verbose'],
  },
})
