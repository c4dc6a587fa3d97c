/**
 * SPEC §15 `igor.wallet_pay` inside the agent's worker. The worker answers
 * what needs no node — −2 for lengths, −6 for reading out of bounds, −6 for
 * an amount ≤ 0 — and hands the rest to the node's main thread (the manifest
 * options, the output gate, the budget, the agent's key and the payments log
 * are all there: `effects/wallet-pay.ts`), blocking on `Atomics.wait` as
 * `http_request` does. Then it writes the −5 hint or `[len u32][receipt]`.
 * The key never enters the worker (see the README's decisions).
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import {
  WALLET_PAY_ERR_BUDGET, WALLET_PAY_ERR_BUFFER, WALLET_PAY_ERR_INVALID, checkWalletPayLengths, walletPayReceiptLength, writeWalletPayReceipt
} from '../effects/wallet-pay.js'
import type { WalletPayAnswer, WalletPayCall } from '../effects/wallet-pay.js'
import type { WorkerPayCall } from '../pool/messages.js'
import { monotonicNs } from './call-state.js'
import type { HostcallContext } from './hostcall-context.js'

/** The node answers a payment at once; later than this means its main thread is wedged: −1, nothing known to be charged. */
const PAY_ANSWER_MS = 10_000

/** Blocks the worker thread until the main thread answers on a fresh channel. */
export function blockingPay(post: (message: WorkerPayCall) => void, requestId: number, call: WalletPayCall, excludeWait: (ns: bigint) => void): WalletPayAnswer {
  const { port1, port2 } = new MessageChannel()
  const signal = new Int32Array(new SharedArrayBuffer(4))
  const started = monotonicNs()
  try {
    post({ type: 'pay', id: requestId, call, signal: signal.buffer, port: port1 })
    Atomics.wait(signal, 0, 0, PAY_ANSWER_MS)
    const answer = receiveMessageOnPort(port2)?.message as WalletPayAnswer | undefined
    return answer ?? { ok: false, code: WALLET_PAY_ERR_BUDGET }
  } finally {
    port2.close()
    excludeWait(monotonicNs() - started)
  }
}

export function walletPayHostcalls({ memory, pay, spent }: HostcallContext): WebAssembly.ModuleImports {
  return {
    wallet_pay: (amount: bigint, recipientPtr: number, recipientLen: number, memoPtr: number, memoLen: number, receiptPtr: number, receiptCap: number): number => {
      const tooLong = checkWalletPayLengths(recipientLen, memoLen)
      if (tooLong !== 0) return tooLong
      const recipient = memory.bytes(recipientPtr, recipientLen)
      const memo = memory.bytes(memoPtr, memoLen)
      if (recipient === null || memo === null) return WALLET_PAY_ERR_INVALID
      // Ours: the receipt's place is checked before anything is charged (SPEC §15: no "deduct, then fail
      // to write"); a receipt that fits receipt_cap but not the memory is out of bounds like the inputs.
      const needed = 4 + walletPayReceiptLength(recipient.byteLength, memo.byteLength)
      if (needed <= (receiptCap >>> 0) && memory.bytes(receiptPtr, needed) === null) return WALLET_PAY_ERR_INVALID
      if (amount <= 0n) return WALLET_PAY_ERR_INVALID
      const bridge = pay()
      // Outside agent_tick there is no tick to bind the payment to: nothing is paid.
      if (bridge === null) return WALLET_PAY_ERR_INVALID
      const answer = bridge.send({ amount, recipient: recipient.slice(), memo: memo.slice(), receiptCap: receiptCap >>> 0 })
      if (!answer.ok) {
        if (answer.code === WALLET_PAY_ERR_BUFFER && answer.hint !== undefined && (receiptCap >>> 0) >= 4) {
          const hint = memory.bytes(receiptPtr, 4)
          if (hint !== null) new DataView(hint.buffer, hint.byteOffset, 4).setUint32(0, answer.hint, true)
        }
        return answer.code
      }
      spent(amount)
      // In bounds: checked above, and the memory cannot shrink while the agent waits.
      const target = memory.bytes(receiptPtr, 4 + answer.receipt.byteLength)
      if (target !== null) writeWalletPayReceipt(target, answer.receipt)
      return 4 + answer.receipt.byteLength
    }
  }
}
