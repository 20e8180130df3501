// A worker for tests/shared_limits_test.ts: takes from limits on shared memory and reports what it got.
/// <reference lib="deno.worker" />
import { type LimiterBuffers, sharedLimiters } from "../chat/limiters.ts";

self.onmessage = (event: MessageEvent<{ buffers: LimiterBuffers; attempts: number }>) => {
  const { buffers, attempts } = event.data;
  const limiters = sharedLimiters(buffers);
  const rate = limiters.rate("test", { limit: 1000, windowMs: 60_000 });
  const held = limiters.held("test");
  let allowed = 0;
  let highest = 0;
  for (let i = 0; i < attempts; i++) {
    if (rate.take("one address") === 0) allowed++;
    highest = Math.max(highest, held.add("busy address", 1));
    held.add("busy address", -1);
  }
  self.postMessage({ allowed, highest });
};
