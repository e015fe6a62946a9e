import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMetrics } from "./metrics.ts";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line, `${series} is exported`);
  return Number(line.slice(series.length + 1));
}

describe("event-loop delay metrics", () => {
  it("show a blocked loop in the rolling window's maximum and the histogram, and survive scrapes", async () => {
    const metrics = createMetrics();
    try {
      await pause(100);
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // hold the event loop, as a synchronous heavy task would
      }
      await pause(50);
      const first = await metrics.registry.metrics();
      const max = value(first, 'strata_event_loop_delay_window_seconds{quantile="1"}');
      assert.ok(max >= 0.25, `the 300 ms stall shows as a maximum of ${max} s`);
      assert.ok(value(first, 'strata_event_loop_delay_window_seconds{quantile="0.5"}') < max);
      assert.ok(value(first, "strata_event_loop_delay_seconds_count") >= 5);
      assert.ok(
        value(first, 'strata_event_loop_delay_seconds_bucket{le="0.25"}') <
          value(first, 'strata_event_loop_delay_seconds_bucket{le="0.5"}'),
      );
      // prom-client's own gauges are reset by every scrape; the window is not.
      const second = await metrics.registry.metrics();
      assert.equal(value(second, 'strata_event_loop_delay_window_seconds{quantile="1"}'), max);
      assert.match(second, /^nodejs_eventloop_lag_p99_seconds /m);
    } finally {
      metrics.stop();
    }
  });
});
