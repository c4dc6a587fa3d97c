// EffectLog: crash-safe intents for external actions (SPEC §13), the reference
// Go SDK's state machine and wire format.
//
//   record ──▶ Recorded ──begin──▶ InFlight ──confirm──▶ Confirmed
//                                     │   └──compensate──▶ Compensated
//                          (checkpoint + crash + load)
//                                     ▼
//                                Unresolved ──confirm / compensate──▶ …
//
// Bytes: u32 count, then per intent u8 state ‖ u32 idLen ‖ id ‖ u32 dataLen ‖ data.
import { Decoder, Encoder } from "./encoding";

export const RECORDED: u8 = 1;
export const IN_FLIGHT: u8 = 2;
export const CONFIRMED: u8 = 3;
export const UNRESOLVED: u8 = 4;
export const COMPENSATED: u8 = 5;

/** Results of the transitions: 0 ok, or one of these. */
// Whether decode applies the resume rule; agent_resume turns it off for a
// replay's restore (no agent_init before it). SPEC §12 "Restore is not resume".
let resumeRules = true;

/** @internal Set by the ABI exports around `load`. */
export function setResumeRules(apply: bool): void {
  resumeRules = apply;
}

export const EFFECT_OK: i32 = 0;
export const EFFECT_EXISTS: i32 = -1;
export const EFFECT_NOT_FOUND: i32 = -2;
export const EFFECT_INVALID_TRANSITION: i32 = -3;

export class Intent {
  constructor(public id: Uint8Array, public state: u8, public data: Uint8Array) {}

  /** The id read as UTF-8. */
  get idString(): string {
    return String.UTF8.decodeUnsafe(this.id.dataStart, <usize>this.id.length);
  }

  /** The data read as UTF-8. */
  get dataString(): string {
    return String.UTF8.decodeUnsafe(this.data.dataStart, <usize>this.data.length);
  }

  get terminal(): bool {
    return this.state == CONFIRMED || this.state == COMPENSATED;
  }
}

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

function sameBytes(a: Uint8Array, b: Uint8Array): bool {
  if (a.length != b.length) return false;
  return memory.compare(a.dataStart, b.dataStart, <usize>a.length) == 0;
}

export class EffectLog {
  intents: Intent[] = [];

  get length(): i32 {
    return this.intents.length;
  }

  /** The intent with this id, or null. */
  get(id: string): Intent | null {
    return this.find(utf8(id));
  }

  find(id: Uint8Array): Intent | null {
    for (let i = 0; i < this.intents.length; i++) {
      const intent = unchecked(this.intents[i]);
      if (sameBytes(intent.id, id)) return intent;
    }
    return null;
  }

  /** Declares a new intent (Recorded). EFFECT_EXISTS if the id is taken. */
  record(id: string, data: Uint8Array = new Uint8Array(0)): i32 {
    return this.recordBytes(utf8(id), data);
  }

  recordBytes(id: Uint8Array, data: Uint8Array): i32 {
    if (this.find(id) != null) return EFFECT_EXISTS;
    this.intents.push(new Intent(id.slice(), RECORDED, data.slice()));
    return EFFECT_OK;
  }

  /** Recorded → InFlight: call right before performing the action. */
  begin(id: string): i32 {
    return this.move(id, RECORDED, RECORDED, IN_FLIGHT);
  }

  /** InFlight | Unresolved → Confirmed: the action happened. */
  confirm(id: string): i32 {
    return this.move(id, IN_FLIGHT, UNRESOLVED, CONFIRMED);
  }

  /** InFlight | Unresolved → Compensated: the action did not happen (or was undone). */
  compensate(id: string): i32 {
    return this.move(id, IN_FLIGHT, UNRESOLVED, COMPENSATED);
  }

  private move(id: string, from1: u8, from2: u8, to: u8): i32 {
    const intent = this.get(id);
    if (intent == null) return EFFECT_NOT_FOUND;
    if (intent.state != from1 && intent.state != from2) return EFFECT_INVALID_TRANSITION;
    intent.state = to;
    return EFFECT_OK;
  }

  /** Intents not in a terminal state (Recorded, InFlight, Unresolved). */
  pending(): Intent[] {
    const out: Intent[] = [];
    for (let i = 0; i < this.intents.length; i++) {
      const intent = unchecked(this.intents[i]);
      if (!intent.terminal) out.push(intent);
    }
    return out;
  }

  /** Intents a crash left unresolved: check these after a restart. */
  unresolved(): Intent[] {
    const out: Intent[] = [];
    for (let i = 0; i < this.intents.length; i++) {
      const intent = unchecked(this.intents[i]);
      if (intent.state == UNRESOLVED) out.push(intent);
    }
    return out;
  }

  /** Drops Confirmed and Compensated intents; returns how many. */
  prune(): i32 {
    const kept: Intent[] = [];
    for (let i = 0; i < this.intents.length; i++) {
      const intent = unchecked(this.intents[i]);
      if (!intent.terminal) kept.push(intent);
    }
    const removed = this.intents.length - kept.length;
    this.intents = kept;
    return removed;
  }

  /** Writes the wire format inline (no length prefix of its own). */
  encode(e: Encoder): void {
    e.uint32(<u32>this.intents.length);
    for (let i = 0; i < this.intents.length; i++) {
      const intent = unchecked(this.intents[i]);
      e.uint8(intent.state);
      e.bytes(intent.id);
      e.bytes(intent.data);
    }
  }

  /**
   * Reads the wire format. THE RESUME RULE: every InFlight intent comes back
   * Unresolved — the agent cannot know whether the action happened. Not in a
   * replay's restore (SPEC §12 "Restore is not resume"): there the state is
   * exactly what the live tick started from.
   * Like the reference, a truncated log keeps the intents read so far.
   */
  decode(d: Decoder): void {
    this.intents = [];
    const count = d.uint32();
    if (d.failed) return;
    for (let i: u32 = 0; i < count; i++) {
      if (d.remaining <= 0) break;
      let state = d.uint8();
      const id = d.bytes();
      const data = d.bytes();
      if (d.failed) break;
      if (state == IN_FLIGHT && resumeRules) state = UNRESOLVED;
      this.intents.push(new Intent(id, state, data));
    }
  }

  marshal(): Uint8Array {
    const e = new Encoder(4 + this.intents.length * 32);
    this.encode(e);
    return e.finish();
  }

  /** Empty input means an empty log. */
  unmarshal(data: Uint8Array): void {
    if (data.length == 0) {
      this.intents = [];
      return;
    }
    this.decode(new Decoder(data));
  }
}
