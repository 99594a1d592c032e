/**
 * A PostgreSQL connection lost in the middle of a transaction — between two statements, when no query is in flight
 * to receive the error — must fail that transaction, not crash the process with an uncaught 'error' event.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { openDb } from '../src/store/open.ts';
import { TEST_PG_URL } from '../src/store/testing.ts';

test('a connection reset between two statements of a transaction rejects it; nothing is thrown uncaught', async () => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(5432, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const uncaught: Error[] = [];
  const onUncaught = (err: Error) => uncaught.push(err);
  process.prependListener('uncaughtException', onUncaught);
  const db = await openDb(TEST_PG_URL.replace(/127\.0\.0\.1:5432|localhost:5432/, `127.0.0.1:${port}`));
  try {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        for (const s of sockets) s.resetAndDestroy();
        await new Promise((r) => setTimeout(r, 200)); // the reset arrives while no statement is running
        await tx.query('SELECT 2');
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(uncaught.map((e) => e.message), []);
    // The pool recovers: a new connection works.
    assert.deepEqual(await db.query('SELECT 3 AS n'), [{ n: 3 }]);
  } finally {
    process.off('uncaughtException', onUncaught);
    await db.close().catch(() => {});
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
