/**
 * The classifier the gateway calls: conversation → label scores. Synchronous; one instance owns one FeatureHasher and
 * one ViewScorer (scratch buffers), so use one instance per thread (Node: per process).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ConversationText } from '../core/canonical.ts';
import { FeatureHasher } from './features.ts';
import { JAILBREAK, maxHarm, TOPIC_LABELS, type Label, type Scores } from './labels.ts';
import { KT, LinearModel } from './model.ts';
import { emptyInfo, featurizeTraining, singleTurn, ViewScorer, type PipelineInfo } from './pipeline.ts';

/** What the gate decides on: label scores (maxima over views) and, per harm label, the largest harm mass of a view it tops. */
export interface Assessment {
  scores: Scores;
  harmMass: Partial<Record<Label, number>>;
}

export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('../../models/classifier/default.bin', import.meta.url));

export class Classifier {
  private readonly hasher: FeatureHasher;
  private readonly scorer: ViewScorer;
  lastInfo: PipelineInfo = emptyInfo();

  constructor(readonly model: LinearModel) {
    this.hasher = new FeatureHasher(model.bits, undefined, model.meta.requestForm === true);
    this.scorer = new ViewScorer(this.hasher, model.weights, model.bias);
  }

  classify(conv: ConversationText): Scores {
    const info = emptyInfo();
    this.lastInfo = info;
    const scores = this.scorer.score(conv, info);
    // Hiding a harmful request (encoding, invisible characters, lookalike letters) is itself an attempt to get past
    // the rules: the jailbreak score is at least the harm score of what was hidden. A linear head cannot learn this
    // conjunction, so it is a rule.
    if (info.obfuscated) {
      const harm = maxHarm(scores);
      if (harm > scores.jailbreak) scores.jailbreak = harm;
    }
    return scores;
  }

  classifyText(text: string): Scores {
    return this.classify(singleTurn(text));
  }

  /** Scores and the per-view harm mass the decision needs (decideAction's `viewMass`). */
  assess(conv: ConversationText): Assessment {
    const scores = this.classify(conv);
    return { scores, harmMass: this.lastInfo.harmMass };
  }

  assessText(text: string): Assessment {
    return this.assess(singleTurn(text));
  }

  /** Exposed for training: the sparse training vectors of one text (see pipeline.ts featurizeTraining). */
  featurizeTraining(text: string, withChunks: boolean): { idx: Int32Array; val: Float32Array }[] {
    return featurizeTraining(this.hasher, text, withChunks);
  }
}

/** Softmax over the topic logits and sigmoid of the jailbreak logit (a single view; used by tests and tools). */
export function toScores(z: Float64Array): Scores {
  let max = -Infinity;
  for (let k = 0; k < KT; k++) if (z[k] > max) max = z[k];
  let sum = 0;
  const e = new Array<number>(KT);
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
