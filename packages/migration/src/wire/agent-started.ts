import { MigrationError } from '../errors.js'
import { toSource } from './agent-transfer.js'
import { EncodeChecks } from './encode-checks.js'
import { FieldReader } from './fields.js'
import { parseJson } from './json-parse.js'
import { JsonOutput, goQuote } from './json-write.js'
import type { AgentStarted } from './types.js'

const CODE = 'BAD_REPLY'

/**
 * `AgentStarted` → the bytes the target writes (SPEC §7): one JSON object and
 * a newline in Go's layout. Throws `MigrationError('BAD_REPLY')` naming the
 * bad field.
 */
export function encodeAgentStarted(reply: AgentStarted): Uint8Array {
  const check = new EncodeChecks(CODE)
  check.object('AgentStarted', reply)
  const agentId = check.string('AgentStarted.AgentID', reply.AgentID)
  const nodeId = check.string('AgentStarted.NodeID', reply.NodeID)
  const success = check.boolean('AgentStarted.Success', reply.Success)
  const error = check.string('AgentStarted.Error', reply.Error)
  const code = reply.Code === undefined || reply.Code === '' ? '' : `,"Code":${goQuote(checkCode(check.string('AgentStarted.Code', reply.Code)))}`
  return new JsonOutput()
    .text(`{"AgentID":${goQuote(agentId)},"NodeID":${goQuote(nodeId)},"Success":${success},"Error":${goQuote(error)}${code}}\n`)
    .toBytes()
}

/**
 * The bytes (or text) of one `AgentStarted` → the typed value. `AgentID` may
 * be empty (a target refusing an unreadable transfer cannot know it); a
 * missing `Error` reads as ''. For any input, the only error is
 * `MigrationError('BAD_REPLY')` naming the field.
 */
export function decodeAgentStarted(input: Uint8Array | string): AgentStarted {
  const src = toSource(input, CODE, 'AgentStarted')
  const r = new FieldReader(src, CODE, 'AgentStarted', parseJson(src, CODE, 'AgentStarted'), ['AgentID', 'NodeID', 'Success', 'Error', 'Code'])
  const reply: AgentStarted = {
    AgentID: r.string('AgentID'),
    NodeID: r.string('NodeID'),
    Success: r.boolean('Success'),
    Error: r.string('Error', { optional: true })
  }
  // A refusal is still a refusal when its code is not one we can read: the code is dropped, never the answer.
  const node = r.optional('Code')
  if (node !== undefined && node.kind === 'string') {
    const code = r.string('Code')
    if (CODE_TEXT.test(code)) reply.Code = code
  }
  return reply
}

/** Ours: `AgentStarted.Code` is a stable code, `[A-Z0-9_]{1,64}`. */
const MAX_CODE_LENGTH = 64
const CODE_TEXT = /^[A-Z0-9_]{1,64}$/

function checkCode(code: string): string {
  if (!CODE_TEXT.test(code)) throw new MigrationError(CODE, `AgentStarted.Code: expected at most ${MAX_CODE_LENGTH} characters A-Z, 0-9 or _`)
  return code
}
