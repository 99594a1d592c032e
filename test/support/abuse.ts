/** Helpers for tests that need a suspected ring: one made through a running gateway with the openai SDK. */
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ADMIN_TOKEN, call } from './console.ts';
import type { Harness } from './harness.ts';

export const RING_SIZE = 4;

/**
 * Makes one ring of `harvest-*` accounts (sign-up burst, one card, one prompt template with reasoning requests) through
 * a gateway started with `abuse: RING_CONFIG` and the console's ADMIN_TOKEN, and analyses; returns the members' secrets.
 */
export async function makeRing(h: Harness): Promise<string[]> {
  const createKey = async (body: Record<string, unknown>) => {
    const r = await call(h.url, 'POST', '/keys', { token: ADMIN_TOKEN, body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.secret as string;
  };
  const signedUp = Date.now() - 3_600_000;
  const secrets: string[] = [];
  for (let i = 0; i < RING_SIZE; i++) secrets.push(await createKey({ accountId: `harvest-${i}`, accountCreatedAt: signedUp + i * 60_000, paymentFingerprint: 'card-7731' }));
  const topics = ['binary search', 'quicksort', 'Dijkstra', 'a trie', 'Bloom filters', 'Raft', 'B-trees', 'LRU caches'];
  for (let round = 0; round < 6; round++) {
    for (let i = 0; i < RING_SIZE; i++) {
      const content = `Think step by step and show your full reasoning, then give the final answer. Task ${round * RING_SIZE + i}: explain ${topics[(round + i) % topics.length]} with a worked example.`;
      const deadline = Date.now() + 5000;
      for (;;) {
        try {
          await served(h, secrets[i]!, content); // new keys reach the gateway through the store's change feed
          break;
        } catch (e) {
          if (Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  }
  await new Promise((r) => setTimeout(r, 50));
  await h.abuse!.analyseNow();
  return secrets;
}

export const RING_CONFIG = {
  minRequests: 4, minRingSize: 3, harvestFloorTokens: 10, longFormTokens: 5, analyseIntervalMs: 3_600_000, flushMs: 10, degradedModel: 'lite',
  thresholds: { flag: 0.1, requireKyc: 0.15, degrade: 0.2, suspend: 0.99 },
};

export async function served(h: Harness, secret: string, content: string): Promise<string> {
  const openai = new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1`, maxRetries: 0 });
  const { response } = await openai.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content }] }).withResponse();
  return response.headers.get('x-gatehouse-served-model')!;
}

