import { parse, stringify } from 'lossless-json'
import { MigrationError } from '../errors.js'
import { parseJson } from './json-parse.js'

/**
 * One JSON value kept as its exact text, for fields this layer carries but
 * does not interpret (`Package.Receipts`): whatever the source wrote reaches
 * the next hop byte for byte, integers above 2^53 included.
 */
export class RawJson {
  /** The JSON text of the value. */
  readonly json: string

  /** Validates `json` as exactly one JSON value; `MigrationError('BAD_TRANSFER')` otherwise. */
  constructor(json: string) {
    parseJson(Buffer.from(json, 'utf8'), 'BAD_TRANSFER', 'RawJson')
    this.json = json.trim()
    Object.freeze(this)
  }

  /** For text the wire parser has already validated. */
  static trusted(json: string): RawJson {
    return Object.freeze(Object.assign(Object.create(RawJson.prototype) as RawJson, { json }))
  }

  /**
   * From a JS value: `bigint`s and lossless-json `LosslessNumber`s are written
   * exactly. Throws `MigrationError('BAD_TRANSFER')` for values JSON cannot hold.
   */
  static from(value: unknown): RawJson {
    let text: string | undefined
    try {
      text = stringify(value)
    } catch {
      text = undefined
    }
    if (text === undefined) throw new MigrationError('BAD_TRANSFER', `RawJson: a ${typeof value} has no JSON form`)
    return new RawJson(text)
  }

  /** The value, with integers that do not fit a double as `bigint` and other numbers as `number`. */
  parse(): unknown {
    return parse(this.json, null, (text) => {
      const n = Number(text)
      return Number.isSafeInteger(n) || !/^-?\d+$/.test(text) ? n : BigInt(text)
    })
  }

  toString(): string {
    return this.json
  }
}
