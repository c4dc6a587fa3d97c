// x402buyer: buys one item after another from a paywall with `wallet_pay` (SPEC §15, capability x402)
// and never pays twice for the same item — across kill -9 and migration — with the EffectLog (SPEC §13).
// Capabilities: log, http (allowed_hosts 127.0.0.1, localhost), x402 (allowed_recipients paywall-provider).
//
// Every tick it wants item n (the next one it does not have, up to MAX_ITEMS):
//   1. GET /items/<n> → 200: it has the item. 402: the terms, {"amount":…,"recipient":"…","memo":"item-<n>"};
//      it records an intent `item-<n>` with them and waits WAIT_TICKS ticks (a checkpoint holds the intent).
//   2. A Recorded intent: ask GET /items/<n>/status first — a node killed after the payment but before its
//      next checkpoint restores this intent as Recorded, and the paywall may already hold a receipt — then
//      begin (InFlight), walletPay, keep the receipt in the state, POST it to /items/<n>/pay; 200 → confirm.
//   3. An InFlight or Unresolved intent (a POST that failed, or a resume after a crash): POST the kept
//      receipt again (the paywall counts a receipt once), or, with no receipt kept, ask the status:
//      paid → confirm, not paid → compensate (nothing was paid: the receipt is kept with the payment).
//
// The node deducts a payment from the budget it checkpoints and logs it in `<agentId>.payments`; a
// payment made in a tick the checkpoint never held is undone with it (SPEC §15), so the agent's
// books, the node's and the paywall's agree.
//
// State: tickCount u64, itemsDone u32, totalPaid i64, recordedAt u64, receipt bytes, then the EffectLog.
import {
  Agent, Decoder, Encoder, EffectLog, IN_FLIGHT, Intent, RECORDED, UNRESOLVED, httpGet, httpPost, log, register, walletPay
} from "@igor/sdk";
export * from "@igor/sdk/exports";

// `--use PAYWALL_PORT=<n> --use WAIT_BEFORE_PAY=<n> --use MAX_ITEMS=<n>` at build time (tests use short ones).
const PORT: i32 = isDefined(PAYWALL_PORT) ? PAYWALL_PORT : 8402;
const WAIT_TICKS: u64 = isDefined(WAIT_BEFORE_PAY) ? <u64>WAIT_BEFORE_PAY : 3;
const LAST_ITEM: u32 = isDefined(MAX_ITEMS) ? <u32>MAX_ITEMS : 1000;

function base(): string {
  return "http://127.0.0.1:" + PORT.toString();
}

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    out += (b < 16 ? "0" : "") + b.toString(16);
  }
  return out;
}

/** The value of `"key":"…"` in a flat JSON object, or "". */
function jsonString(text: string, key: string): string {
  const at = text.indexOf('"' + key + '":"');
  if (at < 0) return "";
  const start = at + key.length + 4;
  const end = text.indexOf('"', start);
  return end < 0 ? "" : text.substring(start, end);
}

/** The value of `"key":<digits>` in a flat JSON object, or -1. */
function jsonInt(text: string, key: string): i64 {
  const at = text.indexOf('"' + key + '":');
  if (at < 0) return -1;
  let i = at + key.length + 3;
  let value: i64 = 0;
  let digits = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    value = value * 10 + <i64>(c - 48);
    digits++;
    i++;
  }
  return digits == 0 ? -1 : value;
}

class X402Buyer extends Agent {
  tickCount: u64 = 0;
  itemsDone: u32 = 0;
  totalPaid: i64 = 0;
  recordedAt: u64 = 0;
  /** The receipt of the payment in flight, until the paywall took it. */
  receipt: Uint8Array = new Uint8Array(0);
  effects: EffectLog = new EffectLog();

  tick(): bool {
    this.tickCount++;
    const prefix = "[x402buyer] tick=" + this.tickCount.toString() + " ";
    if (this.itemsDone >= LAST_ITEM) return false;

    const pending = this.effects.pending();
    for (let i = 0; i < pending.length; i++) {
      const intent = pending[i];
      if (intent.state == IN_FLIGHT || intent.state == UNRESOLVED) this.settle(prefix, intent);
      else if (intent.state == RECORDED && this.tickCount >= this.recordedAt + WAIT_TICKS) this.pay(prefix, intent);
    }
    this.effects.prune();
    if (this.effects.length > 0) return false;

    const item = this.itemsDone + 1;
    const r = httpGet(base() + "/items/" + item.toString());
    if (!r.completed) {
      log(prefix + "paywall unreachable: code " + r.error.toString());
      return false;
    }
    if (r.status == 200) {
      this.gotItem(prefix, item, "already mine");
      return false;
    }
    if (r.status != 402) {
      log(prefix + "item " + item.toString() + ": status " + r.status.toString());
      return false;
    }
    const terms = r.text();
    const amount = jsonInt(terms, "amount");
    const recipient = jsonString(terms, "recipient");
    const memo = jsonString(terms, "memo");
    if (amount <= 0 || recipient.length == 0) {
      log(prefix + "item " + item.toString() + ": bad terms " + terms);
      return false;
    }
    const data = new Encoder().uint32(item).int64(amount).string(recipient).string(memo).finish();
    this.effects.record("item-" + item.toString(), data);
    this.recordedAt = this.tickCount;
    log(prefix + "item " + item.toString() + ": 402, " + amount.toString() + " to " + recipient + "; recorded");
    return false;
  }

  gotItem(prefix: string, item: u32, how: string): void {
    this.itemsDone = item;
    log(prefix + "got item " + item.toString() + " (" + how + "), " + this.itemsDone.toString() + " items, paid " + this.totalPaid.toString());
  }

  paidOnServer(item: u32): i32 {
    const r = httpGet(base() + "/items/" + item.toString() + "/status");
    if (!r.completed || r.status != 200) return -1;
    return r.text().indexOf('"paid":true') >= 0 ? 1 : 0;
  }

  pay(prefix: string, intent: Intent): void {
    const id = intent.idString;
    const d = new Decoder(intent.data);
    const item = d.uint32();
    const amount = d.int64();
    const recipient = d.string();
    const memo = d.string();
    const paid = this.paidOnServer(item);
    if (paid < 0) return; // ask again next tick
    this.effects.begin(id);
    if (paid == 1) {
      // Paid before a crash undid this tick's checkpoint: the paywall has it; never pay again.
      this.effects.confirm(id);
      this.gotItem(prefix, item, "paid before a crash");
      return;
    }
    const p = walletPay(amount, recipient, memo);
    if (!p.ok) {
      this.effects.compensate(id);
      log(prefix + "wallet_pay for " + id + " refused: " + p.error.toString());
      return;
    }
    this.receipt = p.receipt;
    this.totalPaid += amount;
    log(prefix + "paid " + amount.toString() + " for " + id + " (receipt " + p.receipt.length.toString() + " bytes)");
    this.deliver(prefix, intent, item);
  }

  /** POSTs the kept receipt; 200 → confirmed. */
  deliver(prefix: string, intent: Intent, item: u32): void {
    const r = httpPost(base() + "/items/" + item.toString() + "/pay", "text/plain", utf8(hex(this.receipt)));
    if (r.status == 200) {
      this.effects.confirm(intent.idString);
      this.receipt = new Uint8Array(0);
      this.gotItem(prefix, item, "bought");
    } else {
      log(prefix + "receipt for item " + item.toString() + " not taken: status " + r.status.toString() + " code " + r.error.toString());
    }
  }

  settle(prefix: string, intent: Intent): void {
    const d = new Decoder(intent.data);
    const item = d.uint32();
    if (this.receipt.length > 0) {
      this.deliver(prefix, intent, item);
      return;
    }
    const paid = this.paidOnServer(item);
    if (paid == 1) {
      this.effects.confirm(intent.idString);
      this.gotItem(prefix, item, "reconciled");
    } else if (paid == 0) {
      this.effects.compensate(intent.idString);
      log(prefix + "reconciled " + intent.idString + ": never paid");
    }
  }

  save(e: Encoder): void {
    e.uint64(this.tickCount).uint32(this.itemsDone).int64(this.totalPaid).uint64(this.recordedAt).bytes(this.receipt);
    this.effects.encode(e);
  }

  load(d: Decoder): void {
    this.tickCount = d.uint64();
    this.itemsDone = d.uint32();
    this.totalPaid = d.int64();
    this.recordedAt = d.uint64();
    this.receipt = d.bytes();
    this.effects.decode(d);
  }
}

register(new X402Buyer());
