// spender: logs its remaining budget every tick ("balance <n>", n in microcents).
// Capabilities: wallet, log. State (8 bytes): u64 tick count at offset 0.
import { wallet_balance } from "@igor/sdk/host";
import { lineEmit, lineI64, lineStart, lineText } from "./lib/line";
export { malloc } from "./lib/abi";
export { agent_init, agent_checkpoint, agent_checkpoint_ptr, agent_resume } from "./lib/tick-count";
import { nextTick } from "./lib/tick-count";

export function agent_tick(): i32 {
  nextTick();
  lineStart();
  lineText("balance ");
  lineI64(wallet_balance());
  lineEmit();
  return 0;
}
