/**
 * The floor for any Node proxy on this stack: node:http in, undici Pool out, bodies piped both ways with no
 * parsing, no auth, no logging. The gateway's throughput and latency are reported as ratios to this.
 */
import http from 'node:http';
import { Pool } from 'undici';

const upstream = process.env.UPSTREAM!;
const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    pool.request({ path: req.url!, method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) }).then(
      async (up) => {
        // Forward the length when the upstream gave one (as any pass-through proxy does): the response then goes
        // out without chunked framing or a separate terminating write, so this stays the cheapest honest floor.
        const headers: Record<string, string> = { 'content-type': String(up.headers['content-type'] ?? 'application/json') };
        if (up.headers['content-length'] !== undefined) headers['content-length'] = String(up.headers['content-length']);
        res.writeHead(up.statusCode, headers);
        for await (const c of up.body) res.write(c);
        res.end();
      },
      () => {
        res.writeHead(502).end();
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`LISTENING ${typeof a === 'object' && a ? a.port : 0}\n`);
});
