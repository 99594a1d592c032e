/**
 * The classifier the gateway calls: conversation → label scores. Synchronous and allocation-light; one instance owns
 * one FeatureHasher (scratch buffers), so use one instance per thread (Node: per process).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ConversationText } from '../core/canonical.ts';
import { FeatureHasher } from './features.ts';
import { JAILBREAK, TOPIC_LABELS, type Scores } from './labels.ts';
import { K, KT, LinearModel } from './model.ts';
import { featurize, singleTurn, type PipelineInfo } from './pipeline.ts';

export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('../../models/classifier/default.bin', import.meta.url));

export class Classifier {
  private readonly hasher: FeatureHasher;
  private readonly logits = new Float64Array(K);
  lastInfo: PipelineInfo = { decoded: [], truncated: false, obfuscated: false };

  constructor(readonly model: LinearModel) {
    this.hasher = new FeatureHasher(model.bits);
  }

  classify(conv: ConversationText): Scores {
    this.lastInfo = featurize(this.hasher, conv);
    const h = this.hasher;
    this.model.logits(h.touched, h.count, h.values, this.logits);
    const scores = toScores(this.logits);
    // Hiding a harmful request (encoding, invisible characters, lookalike letters) is itself an attempt to get past
    // the rules: the jailbreak score is at least the harm score of what was hidden. A linear head cannot learn this
    // conjunction, so it is a rule.
    if (this.lastInfo.obfuscated) {
      const harm = Math.max(scores['security-offensive'], scores['bio-chem'], scores['other-harm']);
      if (harm > scores.jailbreak) scores.jailbreak = harm;
    }
    return scores;
  }

  classifyText(text: string): Scores {
    return this.classify(singleTurn(text));
  }

  /** Exposed for training: featurise without scoring. */
  featurizeInto(conv: ConversationText): FeatureHasher {
    featurize(this.hasher, conv);
    return this.hasher;
  }
}

export function toScores(z: Float64Array): Scores {
  let max = -Infinity;
  for (let k = 0; k < KT; k++) if (z[k] > max) max = z[k];
  let sum = 0;
  const e = [0, 0, 0, 0, 0, 0];
  for (let k = 0; k < KT; k++) {
    e[k] = Math.exp(z[k] - max);
    sum += e[k];
  }
  const out = {} as Scores;
  for (let k = 0; k < KT; k++) out[TOPIC_LABELS[k]] = e[k] / sum;
  out[JAILBREAK] = 1 / (1 + Math.exp(-z[KT]));
  return out;
}

export function loadClassifier(path: string): Classifier {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new Error(`classifier artefact ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); run \`gatehouse train\``);
  }
  return new Classifier(LinearModel.deserialize(buf, path));
}

let cached: Classifier | null = null;
/** The embedded default model (models/classifier/default.bin). Throws at call time if missing or corrupt: call at start-up. */
export function loadDefaultClassifier(): Classifier {
  cached ??= loadClassifier(DEFAULT_MODEL_PATH);
  return cached;
}
