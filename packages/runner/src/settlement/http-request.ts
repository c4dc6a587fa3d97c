// SPEC §15 settlement transport: one HTTP(S) request with node:http/https — a whole-request deadline,
// redirects never followed (a 3xx is an answer like any other), and the response body read up to a
// bound (the rest is dropped and the socket closed). No proxy variables, no retries here.
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

export interface HttpAnswer {
  readonly status: number
  /** The body's first `maxBodyBytes` bytes. */
  readonly body: Buffer
}

export interface HttpRequestOptions {
  readonly method: 'GET' | 'POST'
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: Uint8Array
  /** Whole request, connect to last byte read. */
  readonly timeoutMs: number
  readonly maxBodyBytes: number
}

/** Resolves with the status and bounded body; rejects on any transport failure or the deadline. */
export async function httpCall(url: URL, options: HttpRequestOptions): Promise<HttpAnswer> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false
    const finish = (error: Error | null, answer?: HttpAnswer): void => {
      if (settled) return
      settled = true
      clearTimeout(deadline)
      if (error !== null) reject(error)
      else resolve(answer as HttpAnswer)
    }
    const req = send(url, {
      method: options.method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(options.body.byteLength) } : {}),
        ...options.headers
      },
      timeout: options.timeoutMs
    }, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      const done = (): void => {
        finish(null, { status: res.statusCode ?? 0, body: Buffer.concat(chunks) })
        res.destroy()
      }
      res.on('data', (chunk: Buffer) => {
        const room = options.maxBodyBytes - size
        if (room > 0) chunks.push(chunk.subarray(0, room))
        size += chunk.byteLength
        if (size >= options.maxBodyBytes) done()
      })
      res.on('end', done)
      res.on('error', (error) => finish(error))
      res.on('close', done)
    })
    const deadline = setTimeout(() => {
      finish(new Error(`no answer within ${options.timeoutMs} ms`))
      req.destroy()
    }, options.timeoutMs)
    req.on('timeout', () => {
      finish(new Error(`no answer within ${options.timeoutMs} ms`))
      req.destroy()
    })
    req.on('error', (error) => finish(error))
    req.end(options.body)
  })
}

/** The first line of a body, printable, at most `max` characters (a refusal's reason). */
export function firstLine(body: Buffer, max = 200): string {
  const line = body.toString('utf8').split(/\r?\n/, 1)[0] ?? ''
  // eslint-disable-next-line no-control-regex
  const clean = line.replace(/[\u0000-\u001f\u007f]/g, ' ').trim()
  return clean.length > max ? `${clean.slice(0, max)}…` : clean
}
