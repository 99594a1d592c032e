/**
 * Deterministic SGD training of the linear model: softmax over the topic labels, an independent logistic jailbreak
 * head. Same data + same seed + same hash bits = byte-identical artefact (single-threaded, seeded shuffle, float32
 * weights updated in a fixed order).
 */
import { Classifier } from '../classifier.ts';
import type { Example } from './example.ts';
import { rng } from './dataset.ts';
import { TOPIC_LABELS } from '../labels.ts';
import { K, KT, LinearModel } from '../model.ts';

export interface TrainOptions {
  bits: number;
  epochs: number;
  learningRate: number;
  seed: number;
  /** Request-form words as features (features.ts REQUEST_FORM); default true. */
  requestForm?: boolean;
  /** Called after each epoch (e.g. to report dev loss). */
  onEpoch?: (epoch: number, model: LinearModel) => void;
}

export const DEFAULT_TRAIN: TrainOptions = { bits: 17, epochs: 12, learningRate: 0.6, seed: 42 };

interface Sparse {
  idx: Int32Array;
  val: Float32Array;
  /** The example this vector came from. */
  ex: number;
  /** Chunk vectors (views of parts of an example): harmless ones teach the topic head and the jailbreak head's negatives. */
  chunk: boolean;
}

const CHUNKED_TOPICS = new Set(['benign', 'coding', 'security-defensive']);

/**
 * Weight of harmless prose (stories, speeches; dataset.ts proseDocuments) in the topic loss. Prose is not what users
 * ask, and at full weight its war and crime vocabulary pulls harm words towards harmless; at half weight it still
 * keeps pasted articles from reading as harm (chosen on the dev split, see BENCHMARKS.md).
 */
const PROSE_TOPIC_WEIGHT = 0.5;

/**
 * Training vectors: each example's whole-turn view, plus each chunk of long harmless examples on its own — at
 * inference every chunk is a view and scores are max-pooled, so harmless chunks must score harmless alone.
 */
export function featurizeAll(examples: readonly Example[], bits: number, requestForm = true): Sparse[] {
  // Only the classifier's hasher is used here; the zero model just fixes the feature set.
  const zero = LinearModel.zeros(bits);
  zero.meta.requestForm = requestForm;
  const fe = new Classifier(zero);
  const out: Sparse[] = [];
  examples.forEach((e, n) => {
    const chunks = e.topic !== null && CHUNKED_TOPICS.has(e.topic) && e.jailbreak === 0;
    const vs = fe.featurizeTraining(e.text, chunks);
    // vs[0] is the whole view; the rest (instruction alone, single chunks) teach the topic head only.
    vs.forEach((v, i) => out.push({ idx: v.idx, val: v.val, ex: n, chunk: i > 0 }));
  });
  return out;
}

export function train(examples: readonly Example[], opts: TrainOptions = DEFAULT_TRAIN): LinearModel {
  const model = LinearModel.zeros(opts.bits);
  const requestForm = opts.requestForm ?? true;
  model.meta.requestForm = requestForm;
  const feats = featurizeAll(examples, opts.bits, requestForm);
  const w = model.weights;
  const b = model.bias;

  // Class weights (square-root balanced) so rare labels such as bio-chem are not drowned out.
  const counts = new Array<number>(KT).fill(0);
  let jbPos = 0;
  let topicN = 0;
  for (const e of examples) {
    if (e.topic !== null) {
      counts[TOPIC_LABELS.indexOf(e.topic)]++;
      topicN++;
    }
    if (e.jailbreak) jbPos++;
  }
  // Floor 1: down-weighting the large benign class would push the boundary into everyday prompts.
  const classW = counts.map((c) => (c === 0 ? 0 : Math.min(6, Math.max(1, Math.sqrt(topicN / (KT * c))))));
  const jbNeg = examples.length - jbPos;
  const jbPosW = jbPos === 0 ? 0 : Math.min(4, Math.sqrt(jbNeg / jbPos));

  const r = rng(opts.seed);
  const order = feats.map((_, i) => i);
  const z = new Float64Array(K);
  const g = new Float64Array(K);
  const p = new Float64Array(KT);
  let step = 0;
  const total = opts.epochs * feats.length;
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    for (const n of order) {
      const lr = opts.learningRate * (1 - step / total) + 0.01;
      step++;
      const f = feats[n];
      const e = examples[f.ex];
      const { idx, val } = f;
      model.logits(idx, idx.length, denseView(idx, val), z);
      // gradients of the loss w.r.t. each logit, scaled by the example weight
      g.fill(0);
      if (e.topic !== null) {
        const y = TOPIC_LABELS.indexOf(e.topic);
        let max = -Infinity;
        for (let k = 0; k < KT; k++) if (z[k] > max) max = z[k];
        let s = 0;
        for (let k = 0; k < KT; k++) {
          p[k] = Math.exp(z[k] - max);
          s += p[k];
        }
        const tw = e.source === 'prose' ? PROSE_TOPIC_WEIGHT : 1;
        for (let k = 0; k < KT; k++) g[k] = tw * classW[y] * (p[k] / s - (k === y ? 1 : 0));
      }
      const pj = 1 / (1 + Math.exp(-z[KT]));
      // Obfuscated copies teach the topic head only; their jailbreak label is produced by a rule (classifier.ts).
      // Chunk views of harmless examples are negatives for the jailbreak head too: at inference every window of a long
      // harmless document is a view, and none of it is a jailbreak.
      g[KT] = e.source === 'obfuscated' || (f.chunk && e.jailbreak === 1) ? 0 : (e.jailbreak ? jbPosW : 1) * (pj - e.jailbreak);
      for (let k = 0; k < K; k++) b[k] -= lr * 0.1 * g[k];
      for (let i = 0; i < idx.length; i++) {
        const base = idx[i] * K;
        const v = val[i] * lr;
        for (let k = 0; k < K; k++) if (g[k] !== 0) w[base + k] -= v * g[k];
      }
    }
    opts.onEpoch?.(epoch + 1, model);
  }
  return model;
}

// LinearModel.logits reads values by slot from a dense array; for training we keep a shared dense scratch.
let scratch = new Float32Array(0);
let lastIdx: Int32Array | null = null;
function denseView(idx: Int32Array, val: Float32Array): Float32Array {
  let max = 0;
  for (let i = 0; i < idx.length; i++) if (idx[i] > max) max = idx[i];
  if (scratch.length <= max) scratch = new Float32Array(Math.max(max + 1, scratch.length * 2, 1 << 18));
  if (lastIdx) for (let i = 0; i < lastIdx.length; i++) scratch[lastIdx[i]] = 0;
  for (let i = 0; i < idx.length; i++) scratch[idx[i]] = val[i];
  lastIdx = idx;
  return scratch;
}
