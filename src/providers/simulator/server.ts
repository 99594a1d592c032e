/**
 * SIMULATOR over HTTP: serves the simulator on both wire protocols so the real OpenAI-compatible and Anthropic
 * adapters can be exercised end to end (tests, demos) — including faults only a socket can show (resets,
 * streams cut mid-way). Behaviour is chosen per upstream model name.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StreamEvent } from '../../core/canonical.ts';
import * as anthropic from '../../protocol/anthropic.ts';
import { GatewayError } from '../../protocol/errors.ts';
import * as openai from '../../protocol/openai.ts';
import { DEFAULT_BEHAVIOUR, simulateComplete, simulateStream, type SimulatorBehaviour } from './engine.ts';
import { UpstreamFailure } from '../types.ts';

export interface SimulatorServerOptions {
  port?: number;
  host?: string;
  behaviours?: Record<string, Partial<SimulatorBehaviour>>;
  defaults?: Partial<SimulatorBehaviour>;
}

export interface RunningSimulator {
  url: string;
  port: number;
  /** Requests seen, by path — lets tests assert cancellation and fallbacks. */
  stats: { requests: number; aborted: number; completed: number };
  close(): Promise<void>;
}

export async function startSimulatorServer(opts: SimulatorServerOptions = {}): Promise<RunningSimulator> {
  const defaults = { ...DEFAULT_BEHAVIOUR, ...opts.defaults };
  const stats = { requests: 0, aborted: 0, completed: 0 };
  const behaviourFor = (model: string): SimulatorBehaviour => ({ ...defaults, ...(opts.behaviours?.[model] ?? {}) });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      stats.requests++;
      const isAnthropic = req.url?.endsWith('/messages') ?? false;
      const isOpenAI = req.url?.endsWith('/chat/completions') ?? false;
      if (!isAnthropic && !isOpenAI) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
        return;
      }
      const proto = isAnthropic ? anthropic : openai;
      let canonical;
      try {
        canonical = proto.parseRequest(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        const e = err instanceof GatewayError ? err : new GatewayError({ status: 400, kind: 'invalid_request', code: 'invalid_json', message: 'bad json' });
        res.writeHead(e.status, { 'content-type': 'application/json' }).end(proto.errorBody(e));
        return;
      }
      const b = behaviourFor(canonical.model);
      const ctrl = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) {
          stats.aborted++;
          ctrl.abort();
        }
      });
      const fail = (err: unknown) => {
        if (err instanceof UpstreamFailure && err.kind === 'status' && err.status && !res.headersSent) {
          const e = new GatewayError({ status: err.status, kind: 'overloaded', code: 'simulated_failure', message: 'Simulated upstream failure.' });
          res.writeHead(err.status, { 'content-type': 'application/json' }).end(proto.errorBody(e));
        } else {
          req.socket.destroy();
        }
      };
      if (!canonical.stream) {
        simulateComplete(canonical, canonical.model, b, ctrl.signal).then((r) => {
          stats.completed++;
          let body = isAnthropic ? anthropic.responseBody(r, canonical.model) : openai.responseBody(r, canonical.model, Math.floor(Date.now() / 1000));
          if (b.omitUsage && !isAnthropic) {
            const { usage: _omitted, ...rest } = JSON.parse(body) as Record<string, unknown>;
            body = JSON.stringify(rest);
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        }, fail);
        return;
      }
      const ser = isAnthropic
        ? new anthropic.StreamSerializer(`msg_sim`, canonical.model)
        : new openai.StreamSerializer('chatcmpl-sim', canonical.model, Math.floor(Date.now() / 1000), !b.omitUsage);
      const write = (ev: StreamEvent) => {
        if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const s = ser.write(ev);
        if (s) res.write(s);
      };
      simulateStream(canonical, canonical.model, b, ctrl.signal, write).then(() => {
        stats.completed++;
        res.end();
      }, fail);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
