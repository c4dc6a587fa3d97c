// SPEC §15 migration: `Package.Receipts` = base64 of the `receipts` blob (a JSON string, as the reference's
// Go `[]byte`). The wire keeps the field as raw JSON; here it becomes bytes for the runner, which verifies
// them. `null`, absent or "" is no receipts; anything else that is not strict base64 is refused.
import { MigrationError } from '../errors.js'
import { RawJson } from '../wire/raw-json.js'

/** The blob as the package field's value (a JSON string through the encoder). */
export const receiptsField = (blob: Uint8Array): string => Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('base64')

/** The package field → the blob, or undefined; `MigrationError('BAD_TRANSFER')` for a value that is not base64 text. */
export function receiptsFromField(value: unknown): Uint8Array | undefined {
  if (value === undefined || value === null) return undefined
  let text: unknown = value
  if (value instanceof RawJson) {
    try {
      text = JSON.parse(value.json) as unknown
    } catch {
      throw new MigrationError('BAD_TRANSFER', 'Package.Receipts: not JSON')
    }
  }
  if (text === null) return undefined
  if (typeof text !== 'string') throw new MigrationError('BAD_TRANSFER', `Package.Receipts: expected a base64 string, got ${Array.isArray(text) ? 'an array' : typeof text}`)
  if (text === '') return undefined
  const bytes = Buffer.from(text, 'base64')
  if (bytes.toString('base64') !== text) throw new MigrationError('BAD_TRANSFER', 'Package.Receipts: not canonical padded base64')
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
