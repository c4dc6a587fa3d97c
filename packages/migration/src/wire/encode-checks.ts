import { MigrationError } from '../errors.js'
import type { MigrationErrorCode } from '../errors.js'
import { I64_MAX, U64_MAX } from './fields.js'

/**
 * Checks on values handed to an encoder, so a bad in-memory value is refused
 * with the field named instead of producing a message the peer would refuse.
 */
export class EncodeChecks {
  constructor(private readonly code: MigrationErrorCode) {}

  fail(field: string, reason: string): never {
    throw new MigrationError(this.code, `${field}: ${reason}`)
  }

  object(field: string, value: unknown): void {
    if (typeof value !== 'object' || value === null) this.fail(field, `expected an object, got ${typeOf(value)}`)
  }

  string(field: string, value: unknown, nonEmpty = false): string {
    if (typeof value !== 'string') this.fail(field, `expected a string, got ${typeOf(value)}`)
    if (nonEmpty && value === '') this.fail(field, 'must not be empty')
    return value
  }

  boolean(field: string, value: unknown): boolean {
    if (typeof value !== 'boolean') this.fail(field, `expected a boolean, got ${typeOf(value)}`)
    return value
  }

  bytes(field: string, value: unknown): Uint8Array {
    if (!(value instanceof Uint8Array)) this.fail(field, `expected a Uint8Array, got ${typeOf(value)}`)
    return value
  }

  u64(field: string, value: unknown): bigint {
    if (typeof value !== 'bigint') this.fail(field, `expected a bigint, got ${typeOf(value)}`)
    if (value < 0n || value > U64_MAX) this.fail(field, `expected a uint64 (0 … 2^64-1), got ${value}`)
    return value
  }

  nonNegativeI64(field: string, value: unknown): bigint {
    if (typeof value !== 'bigint') this.fail(field, `expected a bigint, got ${typeOf(value)}`)
    if (value < 0n || value > I64_MAX) this.fail(field, `expected a non-negative int64 (0 … 2^63-1), got ${value}`)
    return value
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}
