/**
 * Classification of very large conversations off the event loop. The classifier is synchronous and linear in the
 * input: a 1 MB request costs tens of milliseconds of CPU, during which every other request on the process would
 * wait. Conversations of at least OFFLOAD_MIN_CHARS are therefore classified by one worker thread holding its own copy
 * of the same artefact; smaller ones stay inline (a thread hop costs more than classifying 2 KB).
 *
 * The worker is started lazily on the first large request and keeps the process alive only while a request is in
 * flight. If it
 * cannot start or fails, the conversation is classified inline instead: the verdict is the same, only the event loop
 * waits — never a crash and never a missing score.
 */
import { Worker } from 'node:worker_threads';
import type { ConversationText } from '../core/canonical.ts';
import type { Assessment, Classifier } from './classifier.ts';

export const OFFLOAD_MIN_CHARS = 256 * 1024;

export function conversationChars(conv: ConversationText): number {
  let n = typeof conv.system === 'string' ? conv.system.length : 0;
  for (const t of conv.turns) if (typeof t.text === 'string') n += t.text.length;
  return n;
}

interface Pending {
  resolve: (a: Assessment) => void;
  conv: ConversationText;
}

export interface Offloader {
  assess(conv: ConversationText): Promise<Assessment>;
  /** Stops the worker (tests, shutdown). Later calls classify inline. */
  close(): Promise<void>;
}

export function createOffloader(modelPath: string, inline: Classifier): Offloader {
  let worker: Worker | null = null;
  let broken = false;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const failAll = () => {
    // Whatever was in flight is classified inline: same verdict, the loop just waits.
    for (const [id, p] of pending) {
      pending.delete(id);
      p.resolve(inline.assess(p.conv));
    }
  };

  const start = (): Worker | null => {
    if (worker || broken) return worker;
    try {
      const here = import.meta.url;
      const file = new URL(here.endsWith('.ts') ? './offload-worker.ts' : './offload-worker.js', here);
      const w = new Worker(file, { workerData: { modelPath } });
      w.on('message', (m: { id: number; assessment?: Assessment; error?: string }) => {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        if (pending.size === 0) w.unref();
        p.resolve(m.assessment ?? inline.assess(p.conv));
      });
      w.on('error', () => {
        broken = true;
        worker = null;
        failAll();
      });
      w.on('exit', () => {
        worker = null;
        failAll();
      });
      // Referenced only while a request is in flight (after the listeners: adding one refs the port again), so an
      // idle worker never keeps the process alive and a pending one does.
      w.unref();
      worker = w;
    } catch {
      broken = true;
    }
    return worker;
  };

  return {
    assess(conv) {
      const w = start();
      if (!w) return Promise.resolve(inline.assess(conv));
      const id = nextId++;
      return new Promise<Assessment>((resolve) => {
        if (pending.size === 0) w.ref();
        pending.set(id, { resolve, conv });
        w.postMessage({ id, conv });
      });
    },
    async close() {
      broken = true;
      const w = worker;
      worker = null;
      if (w) await w.terminate();
      failAll();
    },
  };
}
