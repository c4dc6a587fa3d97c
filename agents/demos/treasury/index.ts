// treasury: pays through an HTTP API without ever paying twice — the EffectLog
// pattern (SPEC §13). Capabilities: log, http (allowed_hosts: 127.0.0.1, localhost).
//
// Every 10th tick (up to MAX_PAYMENTS) it records an intent `pay-<k>` with the
// payment as data. Six ticks later — longer than the node's 5 s checkpoint
// interval, so a checkpoint holding the Recorded intent has passed — it
// begins the intent and POSTs it. It confirms only when the server reports
// the payment settled. After a crash, an intent that was InFlight comes back
// Unresolved; the agent then asks the server about that payment id instead of
// paying again:
//   GET /payments/<id> → 200 "settled" → confirm, 200 "pending" → keep asking,
//   404 → the POST never arrived → compensate and record it again.
// A POST that a crash-and-resume re-executes carries the same
// Idempotency-Key (same tick number), so the server drops the repeat.
//
// API: http://127.0.0.1:<PAY_PORT> (compile-time, default 8787, the demo server
// agents/scripts/demo-server.mjs):
//   POST /payments {"id":"pay-1","amount":100} → 2xx (or 409 if that id exists)
//   GET  /payments/pay-1 → {"id":"pay-1","status":"pending"|"settled"} or 404
//
// State: tickCount u64, paidCents u64, paymentsMade u32, recordedAt u64,
// then the EffectLog (SPEC §13 wire format).
import {
  Agent, Decoder, Encoder, EffectLog, IN_FLIGHT, Intent, RECORDED, UNRESOLVED, httpGet, httpPost, log, register
} from "@igor/sdk";
export * from "@igor/sdk/exports";

// `--use PAY_PORT=<n>` at build time overrides the port.
const PORT: i32 = isDefined(PAY_PORT) ? PAY_PORT : 8787;
// `--use PAY_EVERY=<n> --use WAIT_TICKS=<n>` change the schedule (tests use short ones).
const PAY_EVERY: u64 = isDefined(PAY_EVERY_TICKS) ? <u64>PAY_EVERY_TICKS : 10;
const WAIT_TICKS: u64 = isDefined(WAIT_BEFORE_PAY) ? <u64>WAIT_BEFORE_PAY : 6;
const MAX_PAYMENTS: u32 = 3;
const AMOUNT_CENTS: u64 = 100;

function base(): string {
  return "http://127.0.0.1:" + PORT.toString();
}

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

class Treasury extends Agent {
  tickCount: u64 = 0;
  paidCents: u64 = 0;
  paymentsMade: u32 = 0;
  recordedAt: u64 = 0;
  effects: EffectLog = new EffectLog();

  tick(): bool {
    this.tickCount++;
    const prefix = "[treasury] tick=" + this.tickCount.toString() + " ";

    // 1. Anything in flight or unresolved: ask the server what happened.
    const pending = this.effects.pending();
    for (let i = 0; i < pending.length; i++) {
      const intent = pending[i];
      if (intent.state == IN_FLIGHT || intent.state == UNRESOLVED) this.reconcile(prefix, intent);
    }
    this.effects.prune();

    // 2. A recorded intent whose checkpoint has passed: begin, then POST.
    const open = this.effects.pending();
    for (let i = 0; i < open.length; i++) {
      const intent = open[i];
      if (intent.state == RECORDED && this.tickCount >= this.recordedAt + WAIT_TICKS) this.pay(prefix, intent);
    }

    // 3. Time for a new payment?
    if (this.effects.length == 0 && this.paymentsMade < MAX_PAYMENTS && this.tickCount % PAY_EVERY == 0) {
      const id = "pay-" + (this.paymentsMade + 1).toString();
      this.effects.record(id, utf8('{"id":"' + id + '","amount":' + AMOUNT_CENTS.toString() + "}"));
      this.recordedAt = this.tickCount;
      log(prefix + "recorded " + id);
    }
    return false;
  }

  pay(prefix: string, intent: Intent): void {
    const id = intent.idString;
    this.effects.begin(id);
    const r = httpPost(base() + "/payments", "application/json", intent.data);
    if (r.ok || r.status == 409) {
      log(prefix + "sent " + id + " (status " + r.status.toString() + ")");
    } else {
      // Unknown outcome (timeout, transport, not the owner, server error): the
      // intent stays InFlight and is reconciled from the next tick on.
      log(prefix + "send " + id + " failed: status " + r.status.toString() + " code " + r.error.toString());
    }
  }

  reconcile(prefix: string, intent: Intent): void {
    const id = intent.idString;
    const r = httpGet(base() + "/payments/" + id);
    if (!r.completed) return; // try again next tick
    if (r.status == 404) {
      // The POST never reached the server: nothing was paid. Record it again.
      this.effects.compensate(id);
      this.effects.prune();
      this.effects.record(id, intent.data);
      this.recordedAt = this.tickCount;
      log(prefix + "reconciled " + id + ": never arrived, recorded again");
      return;
    }
    if (r.status == 200 && r.text().indexOf('"status":"settled"') >= 0) {
      const wasUnresolved = intent.state == UNRESOLVED;
      this.effects.confirm(id);
      this.paymentsMade++;
      this.paidCents += AMOUNT_CENTS;
      log(prefix + (wasUnresolved ? "reconciled " : "confirmed ") + id + ": settled, paid " + this.paidCents.toString() + " cents in " +
        this.paymentsMade.toString() + " payments");
    }
  }

  save(e: Encoder): void {
    e.uint64(this.tickCount).uint64(this.paidCents).uint32(this.paymentsMade).uint64(this.recordedAt);
    this.effects.encode(e);
  }

  load(d: Decoder): void {
    this.tickCount = d.uint64();
    this.paidCents = d.uint64();
    this.paymentsMade = d.uint32();
    this.recordedAt = d.uint64();
    this.effects.decode(d);
  }
}

register(new Treasury());
