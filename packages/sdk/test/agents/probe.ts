// Exercises the hostcall wrappers through the test host: one scripted step per tick.
// State: u64 tick count, then an EffectLog.
import {
  Agent, Decoder, Encoder, EffectLog, clockNow, httpGet, httpPost, httpRequest, header, log, randBytes, register, walletBalance
} from "../../assembly/index";
import { hex, utf8 } from "./hex";
export * from "../../assembly/exports";

class Probe extends Agent {
  count: u64 = 0;
  effects: EffectLog = new EffectLog();

  init(): void {
    this.effects.record("boot", utf8("init"));
  }

  tick(): bool {
    this.count++;
    const n = this.count;
    if (n == 1) {
      const r = httpGet("http://api.test/small", header("X-Trace", "t1"));
      log("get " + r.status.toString() + " " + r.error.toString() + " " + r.text());
    } else if (n == 2) {
      const r = httpGet("http://API.test:8080/big");
      log("get-big " + r.status.toString() + " " + r.error.toString() + " " + r.body.length.toString());
    } else if (n == 3) {
      const r = httpPost("http://api.test/big", "application/json", utf8("{}"));
      log("post-big " + r.status.toString() + " " + r.error.toString());
    } else if (n == 4) {
      const r = httpGet("http://evil.test/");
      log("blocked " + r.error.toString());
    } else if (n == 5) {
      const b = new Uint8Array(8);
      const rc = randBytes(b);
      log("rand " + rc.toString() + " " + hex(b) + " wallet " + walletBalance().toString() + " clock " + clockNow().toString());
    } else if (n == 6) {
      this.effects.begin("boot");
      const r = httpRequest("PUT", "http://api.test/huge", "", utf8("x"), 16);
      log("put-huge " + r.error.toString());
    } else {
      const r = httpGet("http://api.test/small");
      log("tick " + n.toString() + " " + r.error.toString());
    }
    return n == 1;
  }

  save(e: Encoder): void {
    e.uint64(this.count);
    this.effects.encode(e);
  }

  load(d: Decoder): void {
    this.count = d.uint64();
    this.effects.decode(d);
    const u = this.effects.unresolved();
    for (let i = 0; i < u.length; i++) log("unresolved " + u[i].idString + " " + u[i].dataString);
  }
}
register(new Probe());
