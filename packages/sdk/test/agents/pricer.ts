// Reads the node's price every tick (capability `pricing`, SPEC §15), logs it and keeps the last one.
// State: u64 tick count, i64 last price.
import { Agent, Decoder, Encoder, log, nodePrice, register } from "../../assembly/index";
export * from "../../assembly/exports";

class Pricer extends Agent {
  count: u64 = 0;
  price: i64 = 0;

  tick(): bool {
    this.count++;
    this.price = nodePrice();
    log("price " + this.price.toString());
    return false;
  }

  save(e: Encoder): void {
    e.uint64(this.count).int64(this.price);
  }

  load(d: Decoder): void {
    this.count = d.uint64();
    this.price = d.int64();
  }
}
register(new Pricer());
