/**
 * The `http` namespace: the request context and the graceful shutdown of Go's net/http, for
 * Node's servers, over a runtime's `context`. The contract is in `index.d.ts`.
 *
 * requestContext
 *
 * Go cancels `r.Context()` when the client's connection closes and when `ServeHTTP` returns.
 * Node tells both through the response: 'finish' when the last byte was handed to the
 * operating system, 'close' when the response is done or its connection (HTTP/1) or stream
 * (HTTP/2) closed before it was. The request's 'close' says nothing by itself (Node emits it
 * once the body has been read); it matters only when the request did not complete or was
 * destroyed with an error, which is how Node aborts pipelined requests still queued on a
 * connection that closes (their responses never had the socket, so they may never emit).
 *
 * shutdown
 *
 * Go's `Server.Shutdown` closes the listeners, then closes each connection once it is idle,
 * polling for quiescence; keep-alives are off meanwhile, so responses say `Connection: close`.
 * Here, for Node's HTTP/1 servers (`http` and `https`), without polling:
 *
 * - `server.close()` stops accepting and (Node 19+) closes the idle connections.
 * - A connection becomes idle when a response on it finishes: Node publishes that on the
 *   diagnostics channel `http.server.response.finish`, and on the next turn (once Node has
 *   detached the response from the socket) `closeIdleConnections()` closes it unless the
 *   client has already sent another request, whose response will publish again.
 * - Requests that arrive during the shutdown get `Connection: close`, so Node ends their
 *   connection after the response and the client does not reuse it.
 * - The server's 'close' event (every connection ended) resolves; the context being done
 *   first destroys what Node's HTTP server still tracks (`closeAllConnections()`) and rejects.
 *
 * Node's server does not expose its connections, only these operations on them, which bounds
 * what can be done without reaching into its internals:
 *
 * - A connection that has not sent its first request is not idle to Node before 26 (its
 *   parser counts from the connection, to time out silent clients), so `closeIdleConnections()`
 *   leaves it: it is waited for until it sends a request, closes, or the deadline destroys it.
 * - Connections Node's HTTP server does not track are neither closed when idle nor destroyed
 *   at the deadline: upgraded ones (WebSocket), TLS connections still in their handshake when
 *   the deadline comes, and every connection of a server that is not an HTTP/1 server (`net`,
 *   `http2`), for which this is `close()` and a wait.
 */

import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { Server as NetServer } from 'node:net'
import type { context as ContextApi, http as HttpApi } from '../index'
import { isContext } from './context'
import { describe } from './arguments'

type Context = ContextApi.Context
type Request = IncomingMessage | Http2ServerRequest
type Response = ServerResponse | Http2ServerResponse

/** The channel on which Node's HTTP/1 server publishes each finished response. */
const RESPONSE_FINISH = 'http.server.response.finish'

/** What Node publishes on {@link RESPONSE_FINISH}. */
interface ResponseFinish {
  readonly server: unknown
}

/** The part of Node's HTTP/1 server (`http.Server`, `https.Server`) shutdown uses. */
interface HttpServer extends NetServer {
  closeIdleConnections(): void
  closeAllConnections(): void
}

function isHttpServer(server: NetServer): server is HttpServer {
  const s = server as Partial<HttpServer>
  return typeof s.closeIdleConnections === 'function' && typeof s.closeAllConnections === 'function'
}

/** Whether the response can no longer be written: finished, or its connection or stream gone. */
function responseOver(res: Response): boolean {
  if (res.writableFinished) return true
  if (res instanceof Http2ServerResponse) return res.stream?.destroyed !== false
  return res.destroyed || res.closed
}

/** Whether the request was aborted: destroyed before it completed, or with an error. */
function requestAborted(req: Request): boolean {
  return req.destroyed && (!req.complete || req.errored != null)
}

/** Builds the `http` namespace over a runtime's `context`. */
export function createHttp(context: typeof ContextApi): typeof HttpApi {
  function requestContext(parent: Context, req: unknown, res: unknown): [Context, ContextApi.CancelFunc] {
    if (!isContext(parent)) throw new TypeError(`http.requestContext: the parent must be a Context, got ${describe(parent)}`)
    if (!(req instanceof IncomingMessage || req instanceof Http2ServerRequest)) {
      throw new TypeError(`http.requestContext: req must be a request of a node:http, node:https or node:http2 server, got ${describe(req)}`)
    }
    if (!(res instanceof ServerResponse || res instanceof Http2ServerResponse)) {
      throw new TypeError(`http.requestContext: res must be a response of a node:http, node:https or node:http2 server, got ${describe(res)}`)
    }
    if (res.req !== req) throw new TypeError('http.requestContext: res is not the response to req')

    const [ctx, cancel] = context.withCancel(parent)
    if (ctx.err() !== undefined) return [ctx, cancel]
    if (responseOver(res) || requestAborted(req)) {
      cancel()
      return [ctx, cancel]
    }
    const onRequestClose = (): void => {
      if (requestAborted(req)) release()
    }
    const release = (): void => {
      res.removeListener('finish', release)
      res.removeListener('close', release)
      req.removeListener('close', onRequestClose)
      cancel()
    }
    res.on('finish', release)
    res.on('close', release)
    req.on('close', onRequestClose)
    return [ctx, release]
  }

  function shutdown(server: unknown, ctx: Context): Promise<void> {
    if (!(server instanceof NetServer)) {
      throw new TypeError(`http.shutdown: server must be a net.Server (node:http, node:https, node:http2 or node:net), got ${describe(server)}`)
    }
    if (!isContext(ctx)) throw new TypeError(`http.shutdown: ctx must be a Context, got ${describe(ctx)}`)
    const httpServer = isHttpServer(server) ? server : undefined

    return new Promise<void>((resolve, reject) => {
      let settled = false
      const ctxSignal = ctx.signal

      const onResponseFinish = (message: unknown): void => {
        // On the next turn: Node publishes before it detaches the response from the socket.
        if ((message as ResponseFinish).server === server) setImmediate(() => httpServer!.closeIdleConnections())
      }
      const closeAfterResponse = (_req: IncomingMessage, res: ServerResponse): void => {
        res.setHeader('Connection', 'close')
      }
      const release = (): boolean => {
        if (settled) return false
        settled = true
        server.removeListener('close', onClose)
        ctxSignal.removeEventListener('abort', onDone)
        if (httpServer !== undefined) {
          unsubscribe(RESPONSE_FINISH, onResponseFinish)
          server.removeListener('request', closeAfterResponse)
        }
        return true
      }
      const onClose = (): void => {
        if (release()) resolve()
      }
      const onDone = (): void => {
        if (!release()) return
        httpServer?.closeAllConnections()
        reject(context.cause(ctx))
      }

      server.on('close', onClose)
      if (httpServer !== undefined) {
        subscribe(RESPONSE_FINISH, onResponseFinish)
        server.prependListener('request', closeAfterResponse)
      }
      if (server.listening) {
        server.close()
      } else {
        // Closed before (or never listening): 'close' comes when the last connection ends,
        // or came already if none is left.
        server.getConnections((err, count) => {
          if (err === null && count === 0) onClose()
        })
      }
      if (ctxSignal.aborted) onDone()
      else ctxSignal.addEventListener('abort', onDone, { once: true })
    })
  }

  return Object.freeze({ requestContext, shutdown })
}
