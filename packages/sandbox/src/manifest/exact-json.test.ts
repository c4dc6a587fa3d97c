import { describe, expect, it } from 'vitest'
import { JsonNumber, JsonSyntaxError, MAX_JSON_DEPTH, jsonNumberToBigInt, parseJson } from './exact-json.js'

/** Converts the parser's output to what JSON.parse gives, to compare the two. */
function plain(value: unknown): unknown {
  if (value instanceof JsonNumber) return Number(value.text)
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, plain(v)]))
  if (Array.isArray(value)) return value.map(plain)
  return value
}

describe('parseJson', () => {
  it.each([
    '{}', '[]', 'null', 'true', 'false', '0', '-0', '1.5e-3', '"a\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"',
    ' { "a" : [ 1 , { "b" : null } ] , "c" : "d" } ', '[[[]]]', '"é😀"'
  ])('agrees with JSON.parse on %s', (text) => {
    expect(plain(parseJson(text))).toEqual(JSON.parse(text))
  })

  it('keeps number text exactly', () => {
    const value = parseJson('{"n": 18446744073709551615}')
    expect(value instanceof Map && value.get('n')).toEqual(new JsonNumber('18446744073709551615'))
  })

  it('does not give "__proto__" any special meaning', () => {
    const value = parseJson('{"__proto__": 1}')
    expect(value instanceof Map && [...value.keys()]).toEqual(['__proto__'])
  })

  it.each([
    ['', 'unexpected end of input'],
    ['{', 'expected a string key but found end of input'],
    ['{"a" 1}', "expected ':' but found character \"1\" at line 1 column 6"],
    ['{"a":1,}', 'expected a string key but found character "}" at line 1 column 8'],
    ['[1,]', 'unexpected character "]" at line 1 column 4'],
    ['{"a":1}\n x', 'unexpected character "x" after the JSON value at line 2 column 2'],
    ['01', 'bad number at line 1 column 2'],
    ['1.', 'bad number'],
    ['+1', 'unexpected character "+"'],
    ['NaN', 'unexpected character "N"'],
    ['tru', 'unexpected character "t"'],
    ['"abc', 'unterminated string'],
    ['"a\nb"', 'control character in string'],
    ['"\\x"', 'bad escape in string'],
    ['"\\u12"', 'bad \\u escape'],
    ["{'a':1}", 'expected a string key'],
    ['{"a":1,"a":2}', 'duplicate key "a" at line 1 column 8']
  ])('refuses %j', (text, message) => {
    expect(() => parseJson(text)).toThrow(JsonSyntaxError)
    expect(() => parseJson(text)).toThrow(message)
  })

  it('refuses nesting deeper than the limit instead of overflowing the stack', () => {
    expect(() => parseJson('['.repeat(100_000))).toThrow(`nesting deeper than ${MAX_JSON_DEPTH} levels`)
    expect(() => parseJson(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).not.toThrow()
  })
})

describe('jsonNumberToBigInt', () => {
  it.each([
    ['0', 0n], ['-0', 0n], ['7', 7n], ['9007199254740993', 9007199254740993n], ['18446744073709551615', 18446744073709551615n],
    ['-9223372036854775808', -9223372036854775808n], ['1e3', 1000n], ['1.5e1', 15n], ['2.000', 2n], ['1200e-2', 12n], ['0.0', 0n], ['0e-5', 0n]
  ])('%s is the integer %s', (text, value) => {
    expect(jsonNumberToBigInt(new JsonNumber(text))).toBe(value)
  })

  it.each(['1.5', '1e-1', '0.001', '123e-4'])('%s is not an integer', (text) => {
    expect(jsonNumberToBigInt(new JsonNumber(text))).toBeNull()
  })

  it('stays cheap and larger than any limit for huge exponents', () => {
    expect(jsonNumberToBigInt(new JsonNumber('1e999999999'))! > (1n << 64n)).toBe(true)
  })
})
