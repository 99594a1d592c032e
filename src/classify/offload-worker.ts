/** The worker thread of offload.ts: one classifier, one conversation at a time, scores posted back by id. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadClassifier } from './classifier.ts';
import type { ConversationText } from '../core/canonical.ts';

const c = loadClassifier((workerData as { modelPath: string }).modelPath);
parentPort!.on('message', (m: { id: number; conv: ConversationText }) => {
  try {
    parentPort!.postMessage({ id: m.id, assessment: c.assess(m.conv) });
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
