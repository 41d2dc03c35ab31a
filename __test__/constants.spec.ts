// The constants shared by the Rust and TypeScript engines must agree: the native binding
// reports the values it was compiled with.

import { expect, test } from 'vitest'
import * as ts from '../src/constants.ts'
import { loadBinding } from '../src/engine/native.ts'

test('every constant exported by the native engine equals the TypeScript one, and none is missing', () => {
  const loaded = loadBinding()
  if (!('binding' in loaded)) throw new Error(`the native binding must be built for this test: ${String(loaded.error)}`)
  const native = loaded.binding.constants()
  const shared = Object.fromEntries(Object.entries(ts).filter(([, v]) => typeof v === 'number'))
  expect(Object.keys(native).sort()).toEqual(Object.keys(shared).sort())
  for (const [name, value] of Object.entries(native)) expect([name, value]).toEqual([name, shared[name]])
})
