// Reads its receipts every tick (capability `wallet`, SPEC §15) and logs each one; state: u32 count seen.
import { Agent, Decoder, Encoder, log, receiptBytes, receipts, register } from "../../assembly/index";
export * from "../../assembly/exports";

class Reader extends Agent {
  seen: u32 = 0;

  tick(): bool {
    const list = receipts();
    this.seen = <u32>list.length;
    for (let i = 0; i < list.length; i++) {
      const r = list[i];
      log(r.nodeId + " " + r.epochStart.toString() + "-" + r.epochEnd.toString() + " cost " + r.costMicrocents.toString() +
        " left " + r.budgetAfter.toString() + " at " + r.timestampNs.toString() + " sig " + r.signature.length.toString());
    }
    log("bad index " + (receiptBytes(-1) === null ? "null" : "bytes") + " " + (receiptBytes(0x7fffffff) === null ? "null" : "bytes"));
    return false;
  }

  save(e: Encoder): void {
    e.uint32(this.seen);
  }

  load(d: Decoder): void {
    this.seen = d.uint32();
  }
}
register(new Reader());
