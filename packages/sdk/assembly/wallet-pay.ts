// SPEC §15 `wallet_pay` (capability `x402`): the agent pays a named recipient
// from its budget and gets back a receipt signed with its own key, to show the
// recipient. Observed and replayed (id 9): a replay returns the recorded receipt.
import { wallet_pay } from "./host";

export const PAY_ERR_BUDGET: i32 = -1;
export const PAY_ERR_TOO_LONG: i32 = -2;
export const PAY_ERR_RECIPIENT: i32 = -3;
export const PAY_ERR_OVER_MAX: i32 = -4;
export const PAY_ERR_BUFFER: i32 = -5;
export const PAY_ERR_INVALID: i32 = -6;

/** First receipt buffer: a receipt is 120 bytes + recipient + memo, so short ones fit at once. */
export const DEFAULT_RECEIPT_CAPACITY: i32 = 256;

export class Payment {
  constructor(
    /** The receipt's bytes (amount, time, recipient, memo, agent key, signature); empty on error. */
    public receipt: Uint8Array,
    /** 0, or a negative PAY_ERR_* code from the host (nothing was paid). */
    public error: i32
  ) {}

  get ok(): bool {
    return this.error == 0;
  }
}

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function call(amount: i64, recipient: Uint8Array, memo: Uint8Array, out: Uint8Array): i32 {
  return wallet_pay(amount, recipient.dataStart, recipient.length, memo.dataStart, memo.length, out.dataStart, out.length);
}

/**
 * Pays `amount` microcents to `recipient` with `memo`. When the receipt does
 * not fit `capacity` the host answers −5 with its length and charges nothing;
 * the call is made once more with a buffer that fits.
 */
export function walletPay(amount: i64, recipient: string, memo: string, capacity: i32 = DEFAULT_RECEIPT_CAPACITY): Payment {
  const r = utf8(recipient);
  const m = utf8(memo);
  let out = new Uint8Array(max(capacity, 4));
  let rc = call(amount, r, m, out);
  if (rc == PAY_ERR_BUFFER && out.length >= 4) {
    const needed = load<u32>(out.dataStart);
    if (needed > 0 && needed <= 4096) {
      out = new Uint8Array(<i32>needed + 4);
      rc = call(amount, r, m, out);
    }
  }
  if (rc < 0) return new Payment(new Uint8Array(0), rc);
  const n = load<u32>(out.dataStart);
  if (<u64>n + 4 > <u64>out.length) return new Payment(new Uint8Array(0), PAY_ERR_INVALID);
  return new Payment(out.slice(4, 4 + <i32>n), 0);
}
