// Pays for premium data every tick (capability `x402`, SPEC §15) with a 16-byte first buffer, so the
// SDK's −5 retry runs; then tries a recipient the manifest does not allow. State: u32 payments made.
import { Agent, Decoder, Encoder, log, walletPay, register } from "../../assembly/index";
export * from "../../assembly/exports";

function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    out += (b < 16 ? "0" : "") + b.toString(16);
  }
  return out;
}

class Payer extends Agent {
  paid: u32 = 0;

  tick(): bool {
    const p = walletPay(100000, "paywall-provider", "premium-data-access", 16);
    if (p.ok) {
      this.paid++;
      log("paid " + p.receipt.length.toString() + " " + hex(p.receipt));
    } else {
      log("error " + p.error.toString());
    }
    log("mallory " + walletPay(1, "mallory", "").error.toString());
    return false;
  }

  save(e: Encoder): void {
    e.uint32(this.paid);
  }

  load(d: Decoder): void {
    this.paid = d.uint32();
  }
}
register(new Payer());
