/**
 * SPEC §11 tick path (issue 21 item 6): a tick request and its reply through a
 * SharedArrayBuffer per slot instead of structured clone. The node writes the
 * request's fields into the slot's block and posts the slot number; the
 * worker rebuilds the request, runs it, writes the reply's fields back and
 * posts the slot number. A message of one number costs about 1.5 µs to post
 * where the request object took 3.8 and the reply 2.0 (bench/README.md).
 * Only what fits goes this way: a tick without receipts or marks to hand
 * over, a successful reply without a replay failure; everything else (and
 * every other operation) is the object message of `messages.ts`, on the same
 * port, so the order of a call's log lines and its reply is kept. The port's
 * queue orders the writes before the read on the other side; one request at
 * a time per slot means neither side writes a region the other still reads.
 * Only the node's and the worker's own code touch the block; the agent cannot.
 */
import type { WorkerReply, WorkerRequest } from './messages.js'

/** 64-bit cells: 0–7 the request, 8–15 the reply. */
export const TICK_WIRE_CELLS = 16

const REQ = { id: 0, flags: 1, deadlineMs: 2, budget: 3, deadline: 4, price: 5, snapshotDeadlineMs: 6 } as const
const REP = { id: 8, flags: 9, elapsedNs: 10, observations: 11, highestId: 12, moveRequest: 13 } as const
const HAS_DEADLINE = 1n
const HAS_PRICE = 2n
const MOVE_PENDING = 4n
const HAS_SNAPSHOT_DEADLINE = 8n
const MORE = 1n
const RECORDED = 2n
const HAS_MOVE_REQUEST = 4n

const i64 = (value: bigint | undefined): boolean => value !== undefined && BigInt.asIntN(64, value) === value

/** Both views of one slot's block. */
export class TickWire {
  readonly buffer: SharedArrayBuffer
  private readonly ints: BigInt64Array
  private readonly floats: Float64Array

  constructor(buffer: SharedArrayBuffer = new SharedArrayBuffer(TICK_WIRE_CELLS * 8)) {
    this.buffer = buffer
    this.ints = new BigInt64Array(buffer)
    this.floats = new Float64Array(buffer)
  }

  /** The request goes by the wire when it carries nothing but these fields, each a value an i64 cell holds. */
  static fits(request: { readonly op: string, readonly receipts?: unknown, readonly marks?: unknown, readonly budget?: bigint, readonly price?: bigint, readonly deadline?: bigint | null }): boolean {
    return request.op === 'tick' && request.receipts === undefined && request.marks === undefined &&
      i64(request.budget) && (request.price === undefined || i64(request.price)) && (request.deadline === undefined || request.deadline === null || i64(request.deadline))
  }

  writeRequest(id: number, r: { readonly deadlineMs: number, readonly budget: bigint, readonly deadline?: bigint | null, readonly price?: bigint, readonly snapshotDeadlineMs?: number, readonly movePending?: boolean }): void {
    const ints = this.ints
    let flags = 0n
    ints[REQ.id] = BigInt(id)
    this.floats[REQ.deadlineMs] = r.deadlineMs
    ints[REQ.budget] = r.budget
    if (r.deadline !== undefined && r.deadline !== null) {
      flags |= HAS_DEADLINE
      ints[REQ.deadline] = r.deadline
    }
    if (r.price !== undefined) {
      flags |= HAS_PRICE
      ints[REQ.price] = r.price
    }
    if (r.snapshotDeadlineMs !== undefined) {
      flags |= HAS_SNAPSHOT_DEADLINE
      this.floats[REQ.snapshotDeadlineMs] = r.snapshotDeadlineMs
    }
    if (r.movePending === true) flags |= MOVE_PENDING
    ints[REQ.flags] = flags
  }

  readRequest(slot: number): WorkerRequest {
    const ints = this.ints
    const flags = ints[REQ.flags]!
    const request: { -readonly [K in keyof Extract<WorkerRequest, { op: 'tick' }>]: Extract<WorkerRequest, { op: 'tick' }>[K] } = {
      op: 'tick', id: Number(ints[REQ.id]), slot, deadlineMs: this.floats[REQ.deadlineMs]!, budget: ints[REQ.budget]!,
      deadline: (flags & HAS_DEADLINE) !== 0n ? ints[REQ.deadline]! : null
    }
    if ((flags & HAS_PRICE) !== 0n) request.price = ints[REQ.price]!
    if ((flags & HAS_SNAPSHOT_DEADLINE) !== 0n) request.snapshotDeadlineMs = this.floats[REQ.snapshotDeadlineMs]!
    if ((flags & MOVE_PENDING) !== 0n) request.movePending = true
    return request
  }

  /** True (and written) when the reply fits: a successful one without a replay failure. */
  writeReply(reply: WorkerReply): boolean {
    if (!reply.ok || reply.replayFailure !== undefined || reply.state !== undefined || reply.record !== undefined) return false
    const ints = this.ints
    let flags = 0n
    if (reply.more === true) flags |= MORE
    if (reply.recorded === true) flags |= RECORDED
    if (reply.moveRequest !== undefined) {
      flags |= HAS_MOVE_REQUEST
      ints[REP.moveRequest] = reply.moveRequest
    }
    ints[REP.id] = BigInt(reply.id)
    ints[REP.elapsedNs] = reply.elapsedNs
    ints[REP.observations] = BigInt(reply.observations ?? 0)
    ints[REP.highestId] = BigInt(reply.highestId ?? 0)
    ints[REP.flags] = flags
    return true
  }

  readReply(): WorkerReply {
    const ints = this.ints
    const flags = ints[REP.flags]!
    const reply: { -readonly [K in keyof Extract<WorkerReply, { ok: true }>]: Extract<WorkerReply, { ok: true }>[K] } = {
      type: 'reply', id: Number(ints[REP.id]), ok: true, elapsedNs: ints[REP.elapsedNs]!
    }
    if ((flags & MORE) !== 0n) reply.more = true
    if ((flags & RECORDED) !== 0n) reply.recorded = true
    const observations = Number(ints[REP.observations])
    if (observations !== 0) reply.observations = observations
    const highestId = Number(ints[REP.highestId])
    if (highestId !== 0) reply.highestId = highestId
    if ((flags & HAS_MOVE_REQUEST) !== 0n) reply.moveRequest = ints[REP.moveRequest]!
    return reply
  }
}
