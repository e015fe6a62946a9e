import { Histogram, type Registry, Summary } from "prom-client";

/** How often the sampler asks the loop for a turn. */
const SAMPLE_INTERVAL_MS = 10;
/** The rolling window behind the summary's quantiles. */
const WINDOW_SECONDS = 60;
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Event-loop delay as an operator needs it. prom-client's default metrics
 * already export `nodejs_eventloop_lag_{min,max,mean,stddev,p50,p90,p99}_seconds`
 * (from perf_hooks.monitorEventLoopDelay), but those are gauges over "since
 * the previous scrape": the histogram behind them is reset on every scrape,
 * so two scrapers (or one curl) steal each other's window, and gauges of
 * percentiles cannot be summed across processes or over time.
 *
 * This adds, fed by one sampler that measures how late a 10 ms timer fires
 * (so the floor is about a millisecond, the timer's own granularity; a loop
 * blocked for a second yields one sample of about a second):
 * - `strata_event_loop_delay_seconds`, a histogram since start: alert on
 *   `histogram_quantile(0.99, rate(..._bucket[5m]))`, aggregable across processes;
 * - `strata_event_loop_delay_window_seconds`, a summary with quantiles 0.5,
 *   0.99 and 1 (the maximum) over a rolling 60 s window, unaffected by scrapes:
 *   what the loop looked like in the last minute, readable straight off /metrics.
 *
 * Returns a function that stops the sampler.
 */
export function monitorEventLoopDelay(registry: Registry): () => void {
  const histogram = new Histogram({
    name: "strata_event_loop_delay_seconds",
    help: "How late the event loop ran a 10 ms timer, sampled continuously since start.",
    buckets: BUCKETS,
    registers: [registry],
  });
  const window = new Summary({
    name: "strata_event_loop_delay_window_seconds",
    help: `Event-loop delay over the last ${WINDOW_SECONDS} s: quantiles 0.5, 0.99 and 1 (the maximum).`,
    percentiles: [0.5, 0.99, 1],
    maxAgeSeconds: WINDOW_SECONDS,
    ageBuckets: 6,
    registers: [registry],
  });
  let expected = performance.now() + SAMPLE_INTERVAL_MS;
  let timer: NodeJS.Timeout;
  const sample = () => {
    const now = performance.now();
    const delaySeconds = Math.max(0, now - expected) / 1000;
    histogram.observe(delaySeconds);
    window.observe(delaySeconds);
    expected = now + SAMPLE_INTERVAL_MS;
    // unref: the sampler never keeps a process alive on its own.
    timer = setTimeout(sample, SAMPLE_INTERVAL_MS).unref();
  };
  timer = setTimeout(sample, SAMPLE_INTERVAL_MS).unref();
  return () => clearTimeout(timer);
}
