/**
 * A small load generator with microsecond latency resolution (autocannon reports whole milliseconds, too
 * coarse for a 0.5 ms budget). Two modes on one keep-alive undici Pool:
 *   fixedRate — open loop: requests are issued on schedule whether or not earlier ones finished, and latency
 *               is measured from the scheduled time, so queueing is not hidden (no coordinated omission).
 *   saturate  — closed loop: `connections` workers send back to back; reports requests per second.
 * Latency is to the last byte of the response body (the whole stream, when streaming).
 *
 * The open loop sleeps on a timer between sends rather than spinning on setImmediate: the load generator shares
 * the machine with the targets, and a spinning loop holds a core at 100 % for the whole run, taking it from the
 * upstream and the proxy under test (more so from whichever needs more CPU). Timer wake-ups are up to ~1 ms late;
 * latency is still measured from the scheduled send time, so that lateness counts against every target alike
 * and cancels out of the figures reported relative to the upstream.
 */
import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  errors: number;
  p50: number;
  p90: number;
  p99: number;
  rps: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(lat: number[], errors: number, seconds: number): LoadResult {
  const sorted = Float64Array.from(lat).sort();
  return { requests: lat.length, errors, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), rps: lat.length / seconds };
}

export interface Target {
  url: string;
  headers: Record<string, string>;
  body: string;
}

async function once(pool: Pool, path: string, t: Target): Promise<boolean> {
  const res = await pool.request({ path, method: 'POST', headers: t.headers, body: t.body });
  for await (const _ of res.body) {
    // drain
  }
  return res.statusCode === 200;
}

export async function fixedRate(t: Target, rate: number, seconds: number, connections = 64): Promise<LoadResult> {
  const u = new URL(t.url);
  const pool = new Pool(u.origin, { connections, pipelining: 1 });
  const lat: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const start = performance.now();
  const pending: Promise<void>[] = [];
  let issued = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) / 1000) * rate));
      while (issued < due) {
        const scheduled = start + (issued * 1000) / rate;
        issued++;
        pending.push(
          once(pool, u.pathname, t).then(
            (ok) => {
              if (ok) lat.push(performance.now() - scheduled);
              else errors++;
            },
            () => {
              errors++;
            },
          ),
        );
      }
      if (issued >= total) resolve();
      else setTimeout(tick, Math.max(0, start + (issued * 1000) / rate - performance.now()));
    };
    tick();
  });
  await Promise.all(pending);
  await pool.close();
  return summarise(lat, errors, seconds);
}

export async function saturate(t: Target, seconds: number, connections = 64): Promise<LoadResult> {
  const u = new URL(t.url);
  const pool = new Pool(u.origin, { connections, pipelining: 1 });
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        if (await once(pool, u.pathname, t)) lat.push(performance.now() - t0);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  await pool.close();
  return summarise(lat, errors, seconds);
}
