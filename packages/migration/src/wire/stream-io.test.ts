import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import type { MigrationErrorCode } from '../errors.js'
import { readJsonMessage, writeMessage, WRITE_CHUNK_BYTES } from './stream-io.js'
import { asyncRefusal as refusal } from '../test-support.js'

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'))
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')
const limits = { maxBytes: 1024, timeoutMs: 2000 }

/** A source yielding the given chunks, then ending (or hanging forever with `hang`). */
async function * chunks(parts: Array<string | Uint8Array | Uint8ArrayList>, hang = false): AsyncGenerator<Uint8Array | Uint8ArrayList> {
  for (const part of parts) yield typeof part === 'string' ? bytes(part) : part
  if (hang) await new Promise(() => {})
}

/** A source that tracks how far it was read and whether return() was called. */
function tracked(parts: string[], hang = true): { source: AsyncIterable<Uint8Array>; pulled: () => number; returned: () => boolean } {
  let pulled = 0
  let returned = false
  const iterator: AsyncIterator<Uint8Array> = {
    next: async () => {
      const part = parts[pulled]
      if (part === undefined) {
        if (hang) await new Promise(() => {})
        return { done: true, value: undefined }
      }
      pulled++
      return { done: false, value: bytes(part) }
    },
    return: () => {
      returned = true
      return Promise.resolve({ done: true, value: undefined })
    }
  }
  return { source: { [Symbol.asyncIterator]: () => iterator }, pulled: () => pulled, returned: () => returned }
}

describe('readJsonMessage', () => {
  it('returns one object as soon as it is complete, while the peer keeps the stream open', async () => {
    const src = tracked(['  {"a":', '1}', '{"never":"read"}'])
    const out = await readJsonMessage(src.source, limits)
    expect(text(out)).toBe('  {"a":1}')
    expect(src.pulled()).toBe(2)
    expect(src.returned()).toBe(true)
  })

  it('drops bytes after the object in the same chunk', async () => {
    expect(text(await readJsonMessage(chunks(['{"a":[1,{}]}\n{"b":2}garbage']), limits))).toBe('{"a":[1,{}]}')
  })

  it('tracks strings with braces, brackets and escaped quotes across odd chunk boundaries', async () => {
    const message = '{"s":"}{][\\"\\\\","t":{"u":["\\\\\\"}"]},"v":"\\u007d"}'
    expect(JSON.parse(message)).toBeTruthy()
    for (let cut = 1; cut < message.length; cut++) {
      for (const cut2 of [cut + 1, cut + 3]) {
        const parts = [message.slice(0, cut), message.slice(cut, cut2), message.slice(cut2) + ' {"next":1}']
        expect(text(await readJsonMessage(chunks(parts), limits))).toBe(message)
      }
    }
  })

  it('splits byte by byte, as Uint8ArrayList chunks too', async () => {
    const message = '{"k":"a\\"}b","n":[1,2,{"x":"]"}]}'
    const single = Array.from(bytes(message), (b) => new Uint8Array([b]))
    expect(text(await readJsonMessage(chunks(single, true), limits))).toBe(message)
    const lists = [new Uint8ArrayList(bytes('{"k":'), bytes('"v')), new Uint8ArrayList(bytes('"}'), bytes('tail'))]
    expect(text(await readJsonMessage(chunks(lists, true), limits))).toBe('{"k":"v"}')
  })

  it('finds the end of any valid JSON object, however it is split', async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 3 })), fc.array(fc.nat(), { maxLength: 6 }), async (obj, cuts) => {
        const message = JSON.stringify(obj)
        const points = [...new Set(cuts.map((c) => c % (message.length + 1)))].sort((a, b) => a - b)
        const parts: string[] = []
        let last = 0
        for (const p of points) {
          parts.push(message.slice(last, p))
          last = p
        }
        parts.push(message.slice(last) + '{"trailing":true}')
        expect(text(await readJsonMessage(chunks(parts, true), { maxBytes: 1 << 20, timeoutMs: 2000 }))).toBe(message)
      }),
      { numRuns: 200 }
    )
  })

  it('refuses past maxBytes without reading further, and accepts exactly maxBytes', async () => {
    const big = tracked(['{"pad":"' + 'x'.repeat(600), 'x'.repeat(600), '"}'], true)
    const err = await refusal(readJsonMessage(big.source, limits))
    expect(err.code).toBe('TRANSFER_TOO_LARGE')
    expect(err.message).toBe('read: message exceeds 1024 bytes')
    expect(big.pulled()).toBe(2)
    expect(big.returned()).toBe(true)

    const exact = '{"p":"' + 'y'.repeat(1024 - 8) + '"}'
    expect(exact.length).toBe(1024)
    expect(text(await readJsonMessage(chunks([exact + '   more']), limits))).toBe(exact)
    const oneOver = '{"p":"' + 'y'.repeat(1024 - 7) + '"}'
    expect((await refusal(readJsonMessage(chunks([oneOver]), limits))).code).toBe('TRANSFER_TOO_LARGE')
  })

  it('times out when the message does not complete, even if the source never yields again', async () => {
    const slow = tracked(['{"a":'], true)
    const err = await refusal(readJsonMessage(slow.source, { maxBytes: 1024, timeoutMs: 50 }))
    expect(err.code).toBe('TRANSFER_TIMEOUT')
    expect(err.message).toBe('read: no complete message within 50 ms (5 bytes arrived)')
    expect(slow.returned()).toBe(true)
    expect((await refusal(readJsonMessage(chunks([], true), { maxBytes: 10, timeoutMs: 20 }))).code).toBe('TRANSFER_TIMEOUT')
  })

  it('stops when the signal fires', async () => {
    const controller = new AbortController()
    const pending = readJsonMessage(chunks(['{'], true), { ...limits, signal: controller.signal })
    controller.abort()
    expect((await refusal(pending)).code).toBe('TRANSFER_ABORTED')
    expect((await refusal(readJsonMessage(chunks([]), { ...limits, signal: controller.signal }))).code).toBe('TRANSFER_ABORTED')
  })

  it.each([
    [[], 'TRANSFER_EMPTY'],
    [[' \n\t', '\r '], 'TRANSFER_EMPTY'],
    [['{"a":"}'], 'TRANSFER_TRUNCATED'],
    [['{"a":{}'], 'TRANSFER_TRUNCATED'],
    [['[1,2]'], 'BAD_TRANSFER'],
    [['  garbage{}'], 'BAD_TRANSFER'],
    [['"{}"'], 'BAD_TRANSFER']
  ] as Array<[string[], MigrationErrorCode]>)('%j → %s', async (parts, code) => {
    expect((await refusal(readJsonMessage(chunks(parts), limits))).code).toBe(code)
  })

  it('wraps a failing source as STREAM_FAILED', async () => {
    async function * broken (): AsyncGenerator<Uint8Array> {
      yield bytes('{"a"')
      await Promise.resolve()
      throw new Error('stream reset')
    }
    const err = await refusal(readJsonMessage(broken(), limits))
    expect(err.code).toBe('STREAM_FAILED')
    expect(err.message).toBe('read: stream failed: stream reset')
  })

  it('rejects nonsensical limits as programming errors', async () => {
    await expect(readJsonMessage(chunks([]), { maxBytes: 0, timeoutMs: 10 })).rejects.toThrow(RangeError)
    await expect(readJsonMessage(chunks([]), { maxBytes: 10, timeoutMs: Number.NaN })).rejects.toThrow(RangeError)
  })
})

describe('writeMessage', () => {
  function fakeStream(consume: (source: AsyncIterable<Uint8Array | Uint8ArrayList> | Iterable<Uint8Array | Uint8ArrayList>) => Promise<void>) {
    const aborted: Error[] = []
    return {
      aborted,
      sink: consume,
      abort: (err: Error) => { aborted.push(err) }
    }
  }

  it('sinks the message in bounded subarrays without copying', async () => {
    const message = new Uint8Array(WRITE_CHUNK_BYTES * 2 + 5).map((_, i) => i & 0xff)
    const seen: Uint8Array[] = []
    const stream = fakeStream(async (source) => {
      for await (const chunk of source) seen.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())
    })
    await writeMessage(stream, message)
    expect(seen.map((c) => c.length)).toEqual([WRITE_CHUNK_BYTES, WRITE_CHUNK_BYTES, 5])
    expect(seen.every((c) => c.buffer === message.buffer)).toBe(true)
    expect(stream.aborted).toEqual([])
  })

  it('aborts the stream when the peer stops reading past the timeout', async () => {
    const stream = fakeStream(() => new Promise(() => {}))
    const err = await refusal(writeMessage(stream, bytes('{}'), { timeoutMs: 30 }))
    expect(err.code).toBe('TRANSFER_TIMEOUT')
    expect(stream.aborted).toEqual([err])
  })

  it('maps a failing sink to STREAM_FAILED', async () => {
    const stream = fakeStream(() => Promise.reject(new Error('connection reset')))
    const err = await refusal(writeMessage(stream, bytes('{}')))
    expect(err.code).toBe('STREAM_FAILED')
    expect(err.message).toBe('write: stream failed: connection reset')
  })

  it('stops on abort', async () => {
    const controller = new AbortController()
    const stream = fakeStream(() => new Promise(() => {}))
    const pending = writeMessage(stream, bytes('{}'), { signal: controller.signal })
    controller.abort()
    expect((await refusal(pending)).code).toBe('TRANSFER_ABORTED')
    expect(stream.aborted).toHaveLength(1)
  })
})
