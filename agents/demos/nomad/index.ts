// nomad: an agent that decides where it lives (SPEC §16 "The agent decides"). Every tick it reads
// this node's price; when the price is above its threshold it asks the node to move it
// (requestMove), and the node places it among known nodes cheaper than both. If none accepts,
// it stays and asks again on a later tick.
//   [nomad] tick=4 price=5000 threshold=2000 move=asked
//   [nomad] tick=5 price=5000 threshold=2000 move=pending
//   [nomad] tick=6 price=500 threshold=2000 move=stay
// Capabilities: pricing, mobility, log. State: 24 bytes:
//   tickCount u64, lastPrice i64, moveRequests u32 (answered 0), lastAnswer i32.
import { Agent, Decoder, Encoder, log, nodePrice, register, requestMove } from "@igor/sdk";
export * from "@igor/sdk/exports";

/** Microcents per second: above this the agent asks to move (and only to a node at or below it). */
const THRESHOLD: i64 = 2000;

class Nomad extends Agent {
  tickCount: u64 = 0;
  lastPrice: i64 = 0;
  moveRequests: u32 = 0;
  lastAnswer: i32 = 0;

  tick(): bool {
    this.tickCount++;
    this.lastPrice = nodePrice();
    let move = "stay";
    if (this.lastPrice > THRESHOLD) {
      const answer = requestMove(THRESHOLD);
      this.lastAnswer = answer;
      if (answer == 0) {
        this.moveRequests++;
        move = "asked";
      } else {
        move = answer == -2 ? "pending" : "refused(" + answer.toString() + ")";
      }
    }
    log("[nomad] tick=" + this.tickCount.toString() + " price=" + this.lastPrice.toString() +
      " threshold=" + THRESHOLD.toString() + " move=" + move);
    return false;
  }

  save(e: Encoder): void {
    e.uint64(this.tickCount).int64(this.lastPrice).uint32(this.moveRequests).int32(this.lastAnswer);
  }

  load(d: Decoder): void {
    this.tickCount = d.uint64();
    this.lastPrice = d.int64();
    this.moveRequests = d.uint32();
    this.lastAnswer = d.int32();
  }
}

register(new Nomad());
