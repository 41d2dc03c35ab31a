// The constants shared by the Rust and TypeScript engines must agree: the native binding
// reports the values it was compiled with. The TypeScript side is the `const enum` Shared, which the
// build compiles away (every use becomes its value); the test runner compiles it to an object,
// whose numeric-valued entries are the members (a numeric enum also maps each value back to its
// name, as a string).

import { expect, test } from 'vitest'
import * as constants from '../src/constants.ts'
import { loadBinding } from '../src/engine/native.ts'

/** The enum as the test runner compiles it; TypeScript does not let a `const enum` be named as a value. */
const Shared = (constants as unknown as { Shared: Record<string, unknown> }).Shared

test('every constant exported by the native engine equals the TypeScript one, and none is missing', () => {
  const loaded = loadBinding()
  if (!('binding' in loaded)) throw new Error(`the native binding must be built for this test: ${String(loaded.error)}`)
  const native = loaded.binding.constants()
  const shared = Object.fromEntries(Object.entries(Shared).filter(([, v]) => typeof v === 'number'))
  expect(Object.keys(native).sort()).toEqual(Object.keys(shared).sort())
  for (const [name, value] of Object.entries(native)) expect([name, value]).toEqual([name, shared[name]])
})
