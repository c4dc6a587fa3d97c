// SPEC §15 audit: what the offline receipt audit reports.
import type { Checkpoint } from '@igor/checkpoint-codec'

export interface ReceiptAuditInput {
  /** The `receipts` blob (`<agentId>.receipts`, or a package's `Receipts` decoded from base64). */
  readonly receipts: Uint8Array
  /** The `payments` blob (`<agentId>.payments`), if the agent paid anyone. */
  readonly payments?: Uint8Array | undefined
  /** The agent's durable checkpoint (bytes or decoded), to check conservation against. */
  readonly checkpoint?: Checkpoint | Uint8Array | undefined
  /** The budget the agent started with, microcents; derived from the first receipt when absent. */
  readonly initialBudget?: bigint | undefined
}

/** One receipt as audited; amounts in microcents. */
export interface AuditedReceipt {
  readonly index: number
  readonly agentId: string
  readonly nodeId: string
  readonly epochStart: bigint
  readonly epochEnd: bigint
  readonly costMicrocents: bigint
  readonly budgetAfter: bigint
  readonly timestampNs: bigint
  /** 128 lowercase hex. */
  readonly signature: string
  readonly signatureValid: boolean
  /** Why the signature does not verify; `null` when it does. */
  readonly signatureProblem: string | null
}

/** One `wallet_pay` receipt as audited. */
export interface AuditedPayment {
  readonly index: number
  readonly amount: bigint
  readonly timestampNs: bigint
  readonly recipient: string
  readonly memo: Uint8Array
  /** 64 lowercase hex. */
  readonly agentPubKey: string
  readonly signatureValid: boolean
  readonly signatureProblem: string | null
}

/** Receipts and cost per signing node, in order of first appearance. */
export interface NodeTotal {
  readonly nodeId: string
  readonly receipts: number
  readonly costMicrocents: bigint
}

/** initial budget − Σ receipt costs − Σ payments = the checkpoint's budget (SPEC §15). */
export interface ConservationCheck {
  readonly initialBudget: bigint
  /** `given` by the caller, or `first receipt`: its budgetAfter + cost + payments timestamped at or before it. */
  readonly initialBudgetSource: 'given' | 'first receipt'
  readonly charged: bigint
  readonly paid: bigint
  /** initialBudget − charged − paid. */
  readonly expectedBudget: bigint
  /** `null` without a checkpoint. */
  readonly checkpointBudget: bigint | null
  /** `null` when not checked (no checkpoint). */
  readonly ok: boolean | null
}

export interface ReceiptAudit {
  /** No problems. */
  readonly valid: boolean
  /** The agent of the first receipt; `null` without receipts. */
  readonly agentId: string | null
  readonly receipts: readonly AuditedReceipt[]
  readonly payments: readonly AuditedPayment[]
  readonly nodes: readonly NodeTotal[]
  /** Σ receipt costs. */
  readonly charged: bigint
  /** Σ payment amounts. */
  readonly paid: bigint
  /** `null` when the initial budget is unknown (no receipts and none given). */
  readonly conservation: ConservationCheck | null
  /** Whether a checkpoint was given, and its tick and budget. */
  readonly checkpoint: { readonly tickNumber: bigint, readonly budget: bigint, readonly signatureValid: boolean | null } | null
  /** One line per problem, in the order found. */
  readonly problems: readonly string[]
}
