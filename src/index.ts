/**
 * The package entry point: the runtime of this JavaScript environment (the main thread or a
 * worker), on the engine {@link selectEngine} picks. The API is documented in `index.d.ts`.
 */

import { createRuntime, selectEngine } from './runtime'

const runtime = createRuntime(selectEngine())

export const backend = runtime.backend
export const time = runtime.time
export const context = runtime.context
export const testing = runtime.testing
export const signal = runtime.signal
export const errgroup = runtime.errgroup
export const http = runtime.http
