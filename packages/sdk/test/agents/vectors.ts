// Runs the SPEC §13 SDK vectors inside wasm and logs the results; the test
// compares the lines with the expected bytes.
import { Agent, Decoder, Encoder, EffectLog, IN_FLIGHT, COMPENSATED, CONFIRMED, RECORDED, log, register } from "../../assembly/index";
import { hex, utf8 } from "./hex";
export * from "../../assembly/exports";

function states(l: EffectLog): string {
  let s = "";
  for (let i = 0; i < l.intents.length; i++) {
    if (i > 0) s += ",";
    s += l.intents[i].state.toString();
  }
  return s;
}

class Vectors extends Agent {
  tick(): bool {
    // heartbeat state
    log("heartbeat " + hex(new Encoder(28).uint64(42).int64(1_700_000_000_000_000_000).int64(1_700_000_041_000_000_000).uint32(4).finish()));
    // every encoder method
    const e = new Encoder(1)
      .uint64(0x0102030405060708).int64(-2).uint32(0xdeadbeef).int32(-3)
      .bool(true).bool(false).bytes(utf8("ab")).string("héllo").raw(utf8("xyz")).uint8(7);
    const all = e.finish();
    log("encoder " + hex(all));
    const d = new Decoder(all);
    const u64v = d.uint64(); const i64v = d.int64(); const u32v = d.uint32(); const i32v = d.int32();
    const b1 = d.bool(); const b2 = d.bool(); const by = d.bytes(); const st = d.string(); const raw = d.fixedBytes(3); const u8v = d.uint8();
    log("decoded " + u64v.toString() + " " + i64v.toString() + " " + u32v.toString() + " " + i32v.toString() + " " +
      (b1 ? "true" : "false") + " " + (b2 ? "true" : "false") + " " + hex(by) + " " + st + " " + hex(raw) + " " + u8v.toString() +
      " failed=" + (d.failed ? "true" : "false") + " remaining=" + d.remaining.toString());
    // short reads are sticky and return zero values
    const s = new Decoder(utf8("\x01\x02\x03"));
    const a = s.uint32();
    const b = s.uint8();
    log("short " + a.toString() + " " + b.toString() + " failed=" + (s.failed ? "true" : "false"));
    const t = new Decoder(utf8("\x07"));
    log("bool7 " + (t.bool() ? "true" : "false"));
    const len = new Decoder(utf8("\x05\x00\x00\x00ab"));
    const got = len.bytes();
    log("shortbytes " + got.length.toString() + " failed=" + (len.failed ? "true" : "false"));
    // effect log vector
    const l = new EffectLog();
    l.record("recorded", utf8("\x01"));
    l.record("inflight", utf8('{"amount":100}'));
    l.record("confirmed");
    l.record("comp");
    l.begin("inflight");
    l.begin("confirmed");
    l.confirm("confirmed");
    l.begin("comp");
    l.compensate("comp");
    log("effectlog " + hex(l.marshal()) + " states " + states(l));
    const back = new EffectLog();
    back.unmarshal(l.marshal());
    log("loaded " + states(back) + " unresolved " + back.unresolved().length.toString() + " pending " + back.pending().length.toString());
    log("empty " + hex(new EffectLog().marshal()));
    // transitions
    const x = new EffectLog();
    const r = [
      x.record("a"), x.record("a"), x.begin("b"), x.confirm("a"), x.compensate("a"), x.begin("a"), x.begin("a"),
      x.confirm("a"), x.confirm("a"), x.compensate("a")
    ];
    let rs = "";
    for (let i = 0; i < r.length; i++) rs += (i > 0 ? "," : "") + r[i].toString();
    log("transitions " + rs);
    const y = new EffectLog();
    y.record("u"); y.begin("u");
    const z = new EffectLog();
    z.unmarshal(y.marshal());
    const zr = z.compensate("u");
    const y2 = new EffectLog();
    y2.unmarshal(y.marshal());
    log("resolve " + zr.toString() + " " + y2.confirm("u").toString() + " " + z.intents[0].state.toString() + " " + y2.intents[0].state.toString() + " pruned " + z.prune().toString() + " left " + z.length.toString());
    return false;
  }
}
register(new Vectors());
