import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MigrationError } from '../errors.js'
import { decodeAgentTransfer, encodeAgentTransfer } from './agent-transfer.js'
import { RawJson } from './raw-json.js'
import type { AgentPackage, AgentTransfer } from './types.js'
import { refusal } from '../test-support.js'

const U64_MAX = (1n << 64n) - 1n
const I64_MAX = (1n << 63n) - 1n
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8')
const u8 = (values: number[] | Buffer): Uint8Array => new Uint8Array(values)

function pkg(overrides: Partial<AgentPackage> = {}): AgentPackage {
  return {
    AgentID: 'survivor',
    WASMBinary: u8([0, 97, 115, 109, 1, 0, 0, 0]),
    WASMHash: u8(Array.from({ length: 32 }, (_, i) => i)),
    Checkpoint: u8([3, 1, 2, 3, 4, 5]),
    ManifestData: u8(Buffer.from('{"version":1}')),
    Budget: 1_000_000n,
    PricePerSecond: 1000n,
    MajorVersion: 0n,
    LeaseGeneration: 0n,
    ...overrides
  }
}

function transfer(overrides: Partial<AgentPackage> = {}): AgentTransfer {
  return { Package: pkg(overrides), SourceNodeID: '12D3KooWExample' }
}

/** Decoding either succeeds or throws MigrationError('BAD_TRANSFER' or, for a field past its limit, 'TRANSFER_TOO_LARGE'); nothing else may escape. */
function decodesOrRefuses(input: Uint8Array | string): void {
  try {
    decodeAgentTransfer(input)
  } catch (err) {
    if (!(err instanceof MigrationError) || (err.code !== 'BAD_TRANSFER' && err.code !== 'TRANSFER_TOO_LARGE')) throw err
  }
}

// Hand-written in the exact layout Go's json.Encoder writes for the reference
// structs: field order, base64 with padding, exact integers, trailing newline.
const GOLDEN =
  '{"Package":{"AgentID":"survivor","WASMBinary":"AGFzbQEAAAA=",' +
  '"WASMHash":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","Checkpoint":"AwECAwQF",' +
  '"ManifestData":"eyJ2ZXJzaW9uIjoxfQ==","Budget":1000000,"PricePerSecond":1000,' +
  '"Receipts":[{"Amount":9007199254740993,"Memo":"a\\u003cb"}],' +
  '"MajorVersion":18446744073709551615,"LeaseGeneration":9007199254740993},' +
  '"SourceNodeID":"12D3KooWExample"}\n'

describe('AgentTransfer golden layout', () => {
  it('decodes the Go layout exactly', () => {
    const decoded = decodeAgentTransfer(GOLDEN)
    const { Receipts, ...rest } = decoded.Package
    expect(rest).toEqual(pkg({ MajorVersion: U64_MAX, LeaseGeneration: 2n ** 53n + 1n }))
    expect(decoded.SourceNodeID).toBe('12D3KooWExample')
    expect(Receipts).toBeInstanceOf(RawJson)
    expect((Receipts as RawJson).json).toBe('[{"Amount":9007199254740993,"Memo":"a\\u003cb"}]')
    expect((Receipts as RawJson).parse()).toEqual([{ Amount: 9007199254740993n, Memo: 'a<b' }])
  })

  it('re-encodes byte-identically', () => {
    expect(text(encodeAgentTransfer(decodeAgentTransfer(GOLDEN)))).toBe(GOLDEN)
    expect(text(encodeAgentTransfer(decodeAgentTransfer(Buffer.from(GOLDEN))))).toBe(GOLDEN)
  })

  it('omits MajorVersion/LeaseGeneration when 0 and Receipts when undefined (Go omitempty)', () => {
    const out = text(encodeAgentTransfer(transfer()))
    expect(out).toBe(
      '{"Package":{"AgentID":"survivor","WASMBinary":"AGFzbQEAAAA=",' +
      '"WASMHash":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=","Checkpoint":"AwECAwQF",' +
      '"ManifestData":"eyJ2ZXJzaW9uIjoxfQ==","Budget":1000000,"PricePerSecond":1000},' +
      '"SourceNodeID":"12D3KooWExample"}\n'
    )
    const back = decodeAgentTransfer(out)
    expect(back.Package.MajorVersion).toBe(0n)
    expect(back.Package.LeaseGeneration).toBe(0n)
    expect('Receipts' in back.Package).toBe(false)
  })

  it('writes a zero generation but a non-zero major, and vice versa', () => {
    expect(text(encodeAgentTransfer(transfer({ MajorVersion: 4n })))).toContain('"PricePerSecond":1000,"MajorVersion":4},')
    expect(text(encodeAgentTransfer(transfer({ LeaseGeneration: 9n })))).toContain('"PricePerSecond":1000,"LeaseGeneration":9},')
  })

  it('escapes strings as Go does (HTML-safe, U+2028/2029)', () => {
    const out = text(encodeAgentTransfer({ ...transfer({ AgentID: 'a<b>&"\\\n\u2028é😀' }), SourceNodeID: '\u0001' }))
    expect(out).toContain('"AgentID":"a\\u003cb\\u003e\\u0026\\"\\\\\\n\\u2028é😀"')
    expect(out).toContain('"SourceNodeID":"\\u0001"')
    expect(decodeAgentTransfer(out).Package.AgentID).toBe('a<b>&"\\\n\u2028é😀')
  })
})

describe('64-bit integers survive exactly', () => {
  const u64Edges = [0n, 1n, 2n ** 53n + 1n, I64_MAX, U64_MAX]
  it.each(u64Edges)('MajorVersion/LeaseGeneration %s', (value) => {
    const back = decodeAgentTransfer(encodeAgentTransfer(transfer({ MajorVersion: value, LeaseGeneration: value })))
    expect(back.Package.MajorVersion).toBe(value)
    expect(back.Package.LeaseGeneration).toBe(value)
  })

  it.each([0n, 2n ** 53n + 1n, I64_MAX])('Budget/PricePerSecond %s', (value) => {
    const back = decodeAgentTransfer(encodeAgentTransfer(transfer({ Budget: value, PricePerSecond: value })))
    expect(back.Package.Budget).toBe(value)
    expect(back.Package.PricePerSecond).toBe(value)
  })

  it('writes them as JSON numbers, never through a double', () => {
    const out = text(encodeAgentTransfer(transfer({ Budget: I64_MAX, MajorVersion: U64_MAX, LeaseGeneration: 2n ** 53n + 1n })))
    expect(out).toContain('"Budget":9223372036854775807,')
    expect(out).toContain('"MajorVersion":18446744073709551615,"LeaseGeneration":9007199254740993}')
  })
})

describe('decodeAgentTransfer refusals name the field', () => {
  const withField = (field: string, json: string): string =>
    GOLDEN.replace(new RegExp(`"${field}":(?:"[^"]*"|[^,}]*)`), `"${field}":${json}`)

  it.each([
    ['MajorVersion', '18446744073709551616', 'AgentTransfer.Package.MajorVersion: expected a uint64'],
    ['MajorVersion', '-1', 'AgentTransfer.Package.MajorVersion: expected a uint64'],
    ['LeaseGeneration', '1.0', 'AgentTransfer.Package.LeaseGeneration: expected a uint64'],
    ['LeaseGeneration', '1e3', 'AgentTransfer.Package.LeaseGeneration: expected a uint64'],
    ['LeaseGeneration', '"5"', 'AgentTransfer.Package.LeaseGeneration: expected a uint64 (0 … 2^64-1), got a string'],
    ['LeaseGeneration', '1' + '0'.repeat(400), 'AgentTransfer.Package.LeaseGeneration: expected a uint64'],
    ['Budget', '-1', 'AgentTransfer.Package.Budget: expected a non-negative int64'],
    ['Budget', '9223372036854775808', 'AgentTransfer.Package.Budget: expected a non-negative int64'],
    ['PricePerSecond', '-5', 'AgentTransfer.Package.PricePerSecond: expected a non-negative int64'],
    ['PricePerSecond', 'null', 'AgentTransfer.Package.PricePerSecond: expected a non-negative int64 (0 … 2^63-1), got null'],
    ['AgentID', '""', 'AgentTransfer.Package.AgentID: must not be empty'],
    ['AgentID', '7', 'AgentTransfer.Package.AgentID: expected a string, got the number 7'],
    ['WASMHash', '"AAEC AwQF"', 'AgentTransfer.Package.WASMHash: not base64'],
    ['WASMHash', '"AAEC-wQF"', 'AgentTransfer.Package.WASMHash: not base64'],
    ['WASMHash', '"AAEC_wQF"', 'AgentTransfer.Package.WASMHash: not base64'],
    ['WASMHash', '"AAECAwQ"', 'AgentTransfer.Package.WASMHash: not base64 (length 7 is not a multiple of 4)'],
    ['WASMHash', '"AAECAwQF===="', 'AgentTransfer.Package.WASMHash: not base64'],
    ['WASMHash', '"AA=A"', 'AgentTransfer.Package.WASMHash: not base64'],
    ['WASMHash', '"A==="', 'AgentTransfer.Package.WASMHash: not base64'],
    ['WASMHash', '"AB=="', 'AgentTransfer.Package.WASMHash: not base64'],
    ['WASMHash', '"AAEC\\nAwQF"', 'AgentTransfer.Package.WASMHash: not base64'],
    ['WASMHash', '[1,2]', 'AgentTransfer.Package.WASMHash: expected a base64 string, got an array'],
    ['Checkpoint', 'true', 'AgentTransfer.Package.Checkpoint: expected a base64 string, got true']
  ])('%s = %s', (field, json, message) => {
    const err = refusal(() => decodeAgentTransfer(withField(field, json)))
    expect(err.code).toBe('BAD_TRANSFER')
    expect(err.message.startsWith(message)).toBe(true)
  })

  it('refuses a missing required field', () => {
    const err = refusal(() => decodeAgentTransfer(GOLDEN.replace('"Budget":1000000,', '')))
    expect(err.message).toBe('AgentTransfer.Package.Budget: missing')
    expect(refusal(() => decodeAgentTransfer('{"SourceNodeID":"x"}')).message).toBe('AgentTransfer.Package: missing')
    expect(refusal(() => decodeAgentTransfer(GOLDEN.replace(',"SourceNodeID":"12D3KooWExample"', ''))).message)
      .toBe('AgentTransfer.SourceNodeID: missing')
  })

  it('refuses duplicate fields rather than guessing which one counts', () => {
    const err = refusal(() => decodeAgentTransfer(GOLDEN.replace('"Budget":1000000,', '"Budget":1000000,"Budget":5,')))
    expect(err.message).toBe('AgentTransfer.Package.Budget: duplicate field')
  })

  it('refuses a non-object message, Package or input', () => {
    expect(refusal(() => decodeAgentTransfer('[]')).message).toBe('AgentTransfer: expected an object, got an array')
    expect(refusal(() => decodeAgentTransfer('{"Package":null,"SourceNodeID":""}')).message)
      .toBe('AgentTransfer.Package: expected an object, got null')
    expect(refusal(() => decodeAgentTransfer(42 as unknown as string)).message).toBe('AgentTransfer: expected bytes or a string, got number')
  })

  it('finds raw control characters in long strings wherever they are', () => {
    const long = 'x'.repeat(5000) + '\u0001'
    const cases: Array<[string, string]> = [
      [GOLDEN.replace('"AgentID":"survivor"', `"AgentID":"${long}"`), 'AgentTransfer.Package.AgentID'],
      [GOLDEN.replace('"Memo":"a\\u003cb"', `"Memo":"${long}"`), 'AgentTransfer.Package.Receipts'],
      [GOLDEN.replace('{"Package":', `{"Extra":["${long}"],"Package":`), 'AgentTransfer.Extra'],
      [GOLDEN.replace('{"Package":', `{"${long}":1,"Package":`), 'AgentTransfer'],
      [GOLDEN.replace('"Checkpoint":"AwECAwQF"', `"Checkpoint":"${'A'.repeat(8000)}\u0001AAA"`), 'AgentTransfer.Package.Checkpoint']
    ]
    for (const [input, field] of cases) {
      expect(input).not.toBe(GOLDEN)
      const err = refusal(() => decodeAgentTransfer(input))
      expect(err.code).toBe('BAD_TRANSFER')
      expect(err.message.startsWith(`${field}: `)).toBe(true)
    }
  })

  it('refuses invalid JSON and trailing data, naming the byte and the member it is in', () => {
    expect(refusal(() => decodeAgentTransfer('')).message).toBe('AgentTransfer: invalid JSON at byte 0: empty input')
    const golden = GOLDEN.trim()
    expect(refusal(() => decodeAgentTransfer(`${golden} x`)).message).toBe(`AgentTransfer: invalid JSON at byte ${golden.length + 1}: unexpected data after the value`)
    expect(refusal(() => decodeAgentTransfer('{"a":"b\u0001"}')).message).toBe('AgentTransfer.a: invalid JSON at byte 7: control character in string')
    expect(refusal(() => decodeAgentTransfer('{"a":"\\x"}')).message).toBe('AgentTransfer.a: invalid JSON at byte 6: bad escape')
    expect(refusal(() => decodeAgentTransfer(`{"a":${'['.repeat(600)}`)).message).toBe('AgentTransfer.a: invalid JSON at byte 516: nested deeper than 512')
    expect(refusal(() => decodeAgentTransfer('{"Package":{"AgentID":"x"')).message).toBe('AgentTransfer.Package: invalid JSON at byte 25: unexpected end of input')
  })
})

describe('decodeAgentTransfer accepts what Go accepts', () => {
  it('reads null byte fields (Go nil slices) as empty', () => {
    const back = decodeAgentTransfer(GOLDEN.replace('"Checkpoint":"AwECAwQF"', '"Checkpoint":null').replace('"ManifestData":"eyJ2ZXJzaW9uIjoxfQ=="', '"ManifestData":""'))
    expect(back.Package.Checkpoint).toEqual(new Uint8Array(0))
    expect(back.Package.ManifestData).toEqual(new Uint8Array(0))
  })

  it('ignores unknown fields and whitespace, accepts escaped base64', () => {
    const spaced = GOLDEN.replace('{"Package":{', '\r\n { "Extra" : [1, {"x": null}], "Package" : {\t"Future":true, ')
      .replace('"Checkpoint":"AwECAwQF"', '"Checkpoint":"\\u0041wECAwQF"')
    const back = decodeAgentTransfer(spaced)
    expect(back.Package.Checkpoint).toEqual(pkg().Checkpoint)
    expect(back.Package.AgentID).toBe('survivor')
  })

  it('returns byte fields as plain Uint8Arrays that own their memory', () => {
    const hash = decodeAgentTransfer(GOLDEN).Package.WASMHash
    expect(Object.getPrototypeOf(hash)).toBe(Uint8Array.prototype)
    expect(hash.byteOffset).toBe(0)
    expect(hash.buffer.byteLength).toBe(32)
  })

  it('round-trips multi-MiB payloads exactly, and finds a bad byte deep inside', () => {
    // Past 3 MiB so the sliced base64 paths (3 MiB / 4 Mi characters) take more than one step.
    const checkpoint = new Uint8Array(randomBytes(4 * 1024 * 1024 + 1))
    const wasm = new Uint8Array(randomBytes(1024 * 1024))
    const encoded = encodeAgentTransfer(transfer({ Checkpoint: checkpoint, WASMBinary: wasm }))
    const back = decodeAgentTransfer(encoded)
    expect(Buffer.compare(back.Package.Checkpoint, checkpoint)).toBe(0)
    expect(Buffer.compare(back.Package.WASMBinary, wasm)).toBe(0)

    const at = Buffer.from(encoded).indexOf('"Checkpoint":"') + 14 + 5_000_000
    const corrupt = encoded.slice()
    corrupt[at] = 0x2d // '-': base64url, which Node's decoder would silently accept
    expect(refusal(() => decodeAgentTransfer(corrupt)).message).toBe('AgentTransfer.Package.Checkpoint: not base64')
  })
})

describe('encodeAgentTransfer refuses bad values, naming the field', () => {
  it.each([
    [{ Budget: -1n }, 'AgentTransfer.Package.Budget: expected a non-negative int64 (0 … 2^63-1), got -1'],
    [{ PricePerSecond: 1n << 63n }, 'AgentTransfer.Package.PricePerSecond: expected a non-negative int64'],
    [{ MajorVersion: 1n << 64n }, 'AgentTransfer.Package.MajorVersion: expected a uint64'],
    [{ LeaseGeneration: 1 as unknown as bigint }, 'AgentTransfer.Package.LeaseGeneration: expected a bigint, got number'],
    [{ WASMHash: 'abc' as unknown as Uint8Array }, 'AgentTransfer.Package.WASMHash: expected a Uint8Array, got string'],
    [{ AgentID: '' }, 'AgentTransfer.Package.AgentID: must not be empty'],
    [{ Receipts: () => 1 }, 'AgentTransfer.Package.Receipts: a function has no JSON form']
  ] as Array<[Partial<AgentPackage>, string]>)('%o', (overrides, message) => {
    const err = refusal(() => encodeAgentTransfer(transfer(overrides)))
    expect(err.code).toBe('BAD_TRANSFER')
    expect(err.message.startsWith(message)).toBe(true)
  })

  it('writes Receipts from a RawJson verbatim and from JS values exactly', () => {
    expect(text(encodeAgentTransfer(transfer({ Receipts: new RawJson(' {"b":1,"a":[2]} ') }))))
      .toContain('"PricePerSecond":1000,"Receipts":{"b":1,"a":[2]}}')
    const out = encodeAgentTransfer(transfer({ Receipts: [{ amount: 2n ** 64n - 1n }] }))
    expect((decodeAgentTransfer(out).Package.Receipts as RawJson).parse()).toEqual([{ amount: U64_MAX }])
  })
})

describe('decodeAgentTransfer fuzzing: any input → a value or MigrationError', () => {
  const valid = encodeAgentTransfer(transfer({ MajorVersion: 7n, LeaseGeneration: 3n, Receipts: new RawJson('[1,{"a":"b"}]') }))

  it('random strings and bytes', () => {
    // UTF-16 code units, lone surrogates included (fc's 'binary' unit costs seconds to set up).
    const anyString = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 200 }).map((units) => String.fromCharCode(...units))
    fc.assert(fc.property(anyString, (s) => decodesOrRefuses(s)), { numRuns: 500 })
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => decodesOrRefuses(b)), { numRuns: 500 })
  })

  it('random JSON, at the top and in every Package field', () => {
    fc.assert(fc.property(fc.json(), (j) => decodesOrRefuses(j)), { numRuns: 300 })
    const fields = ['AgentID', 'WASMBinary', 'WASMHash', 'Checkpoint', 'ManifestData', 'Budget', 'PricePerSecond', 'Receipts', 'MajorVersion', 'LeaseGeneration']
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.json(), (field, json) => {
        const doc = JSON.parse(text(valid)) as { Package: Record<string, unknown> }
        doc.Package[field] = JSON.parse(json)
        decodesOrRefuses(JSON.stringify(doc))
      }),
      { numRuns: 500 }
    )
  })

  it('mutated valid encodings (flip, insert, delete bytes)', () => {
    const mutation = fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete'))
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let bytes = Array.from(valid)
        for (const [at, value, op] of mutations) {
          const i = at % Math.max(bytes.length, 1)
          if (op === 'set') bytes[i] = value
          else if (op === 'insert') bytes.splice(i, 0, value)
          else bytes.splice(i, 1)
        }
        decodesOrRefuses(u8(bytes))
        bytes = []
      }),
      { numRuns: 1000 }
    )
  })

  it('round-trips arbitrary valid transfers', () => {
    const u64 = fc.bigInt({ min: 0n, max: U64_MAX })
    const i64 = fc.bigInt({ min: 0n, max: I64_MAX })
    const bytes = fc.uint8Array({ maxLength: 64 })
    const arbitraryTransfer = fc.record({
      Package: fc.record({
        AgentID: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
        WASMBinary: bytes,
        WASMHash: bytes,
        Checkpoint: bytes,
        ManifestData: bytes,
        Budget: i64,
        PricePerSecond: i64,
        MajorVersion: u64,
        LeaseGeneration: u64
      }),
      SourceNodeID: fc.string({ unit: 'grapheme', maxLength: 20 })
    })
    fc.assert(
      fc.property(arbitraryTransfer, (t) => {
        expect(decodeAgentTransfer(encodeAgentTransfer(t))).toEqual(t)
      }),
      { numRuns: 300 }
    )
  })
})
