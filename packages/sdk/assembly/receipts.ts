// SPEC §15 receipts, as the agent reads them (capability `wallet`): what each
// node that ran it charged, signed by that node. Oldest first; the last one
// may be the open receipt of the current stay, re-signed at each checkpoint.
import { Decoder } from "./encoding";
import { wallet_receipt, wallet_receipt_count } from "./host";

/** The longest receipt a node writes: ids of at most 1024 bytes each, 40 bytes of numbers, a 64-byte signature. */
export const RECEIPT_MAX_BYTES: i32 = 4 + 1024 + 4 + 1024 + 40 + 4 + 64;

/** Node `nodeId` ran agent `agentId` for ticks `epochStart…epochEnd`, charged `costMicrocents`, leaving `budgetAfter`. */
export class Receipt {
  agentId: string = "";
  /** The signing node's libp2p peer id. */
  nodeId: string = "";
  epochStart: u64 = 0;
  epochEnd: u64 = 0;
  costMicrocents: i64 = 0;
  budgetAfter: i64 = 0;
  timestampNs: i64 = 0;
  /** 64 bytes, Ed25519 by the key inside `nodeId` (verified by the node and the audit, not here). */
  signature: Uint8Array = new Uint8Array(0);

  /** Decodes one receipt's bytes; null when they are not a receipt. */
  static decode(bytes: Uint8Array): Receipt | null {
    const d = new Decoder(bytes);
    const r = new Receipt();
    r.agentId = d.string();
    r.nodeId = d.string();
    r.epochStart = d.uint64();
    r.epochEnd = d.uint64();
    r.costMicrocents = d.int64();
    r.budgetAfter = d.int64();
    r.timestampNs = d.int64();
    r.signature = d.bytes();
    if (d.failed || d.remaining != 0) return null;
    return r;
  }
}

/** How many receipts the agent has (capability `wallet`). Observed and replayed (id 5). */
export function receiptCount(): i32 {
  return wallet_receipt_count();
}

/** Receipt `index`'s raw bytes (oldest first), or null for a bad index. Observed and replayed (id 6). */
export function receiptBytes(index: i32): Uint8Array | null {
  const buffer = new Uint8Array(RECEIPT_MAX_BYTES);
  const n = wallet_receipt(index, buffer.dataStart, buffer.length);
  if (n < 0) return null;
  return buffer.subarray(0, n);
}

/** Every receipt, decoded, oldest first (one that does not decode is left out). */
export function receipts(): Receipt[] {
  const count = receiptCount();
  const out = new Array<Receipt>();
  for (let i = 0; i < count; i++) {
    const bytes = receiptBytes(i);
    if (bytes === null) continue;
    const r = Receipt.decode(bytes);
    if (r !== null) out.push(r);
  }
  return out;
}
