// heartbeat: the reference demo agent on @igor/sdk. Every tick it reads the
// clock and logs its age; every 10th tick it logs a milestone.
//   [heartbeat] tick=12 age=11s
//   [heartbeat] MILESTONE #1: survived 10 ticks across 9s
// Capabilities: clock, log. State: 28 bytes (SPEC §13 vector):
//   tickCount u64, birthNano i64, lastNano i64, messageNum u32.
import { Agent, Decoder, Encoder, clockNow, log, register } from "@igor/sdk";
export * from "@igor/sdk/exports";

class Heartbeat extends Agent {
  tickCount: u64 = 0;
  birthNano: i64 = 0;
  lastNano: i64 = 0;
  messageNum: u32 = 0;

  tick(): bool {
    this.tickCount++;
    const now = clockNow();
    // The birth time is taken in the first tick, not in init: only ticks are
    // recorded for replay (SPEC §12).
    if (this.birthNano == 0) this.birthNano = now;
    this.lastNano = now;
    const ageSec = (this.lastNano - this.birthNano) / 1_000_000_000;
    log("[heartbeat] tick=" + this.tickCount.toString() + " age=" + ageSec.toString() + "s");
    if (this.tickCount % 10 == 0) {
      this.messageNum++;
      log("[heartbeat] MILESTONE #" + this.messageNum.toString() + ": survived " + this.tickCount.toString() +
        " ticks across " + ageSec.toString() + "s");
    }
    return false;
  }

  save(e: Encoder): void {
    e.uint64(this.tickCount).int64(this.birthNano).int64(this.lastNano).uint32(this.messageNum);
  }

  load(d: Decoder): void {
    this.tickCount = d.uint64();
    this.birthNano = d.int64();
    this.lastNano = d.int64();
    this.messageNum = d.uint32();
  }
}

register(new Heartbeat());
