/**
 * In-process ONNX model as a cascade stage (onnxruntime-node, CPU, from a local path; nothing is downloaded).
 * Input contract: the Gatehouse hashed feature vector — the same normalised, conversation-weighted features the
 * embedded model uses — as a dense float32 tensor [1, 2^bits]; output: [1, labels.length] probabilities in `labels`
 * order. That fits a head trained on our features (e.g. an MLP exported to ONNX). Models that need their own tokenizer
 * (Prompt Guard 2, sentence-embedding models) are NOT supported by this adapter: no tokenizer is bundled.
 * onnxruntime-node is loaded lazily so the gateway does not pay for it unless an ONNX stage is configured.
 */
import type { Stage } from './cascade.ts';
import { FeatureHasher } from './features.ts';
import type { Label } from './labels.ts';
import { featurize } from './pipeline.ts';

export interface OnnxStageOptions {
  name?: string;
  path: string;
  bits: number;
  labels: readonly Label[];
  inputName?: string;
  outputName?: string;
}

export async function createOnnxStage(opts: OnnxStageOptions): Promise<Stage> {
  if (!Number.isInteger(opts.bits) || opts.bits < 4 || opts.bits > 22) throw new Error(`onnx stage: bits must be an integer in [4, 22], got ${opts.bits}`);
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch (e) {
    throw new Error(`onnx stage: onnxruntime-node cannot be loaded (${(e as Error).message})`);
  }
  let session: import('onnxruntime-node').InferenceSession;
  try {
    session = await ort.InferenceSession.create(opts.path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (e) {
    throw new Error(`onnx stage: cannot load model ${opts.path}: ${(e as Error).message}`);
  }
  const inputName = opts.inputName ?? session.inputNames[0];
  const outputName = opts.outputName ?? session.outputNames[0];
  if (!session.inputNames.includes(inputName)) throw new Error(`onnx stage: model has no input '${inputName}' (has ${session.inputNames.join(', ')})`);
  if (!session.outputNames.includes(outputName)) throw new Error(`onnx stage: model has no output '${outputName}' (has ${session.outputNames.join(', ')})`);
  const hasher = new FeatureHasher(opts.bits);
  const dim = 1 << opts.bits;
  return {
    name: opts.name ?? `onnx:${opts.path}`,
    async score(conv) {
      featurize(hasher, conv);
      const dense = new Float32Array(dim); // onnxruntime may keep a reference while running: one buffer per call
      for (let i = 0; i < hasher.count; i++) dense[hasher.touched[i]] = hasher.values[hasher.touched[i]];
      const out = await session.run({ [inputName]: new ort.Tensor('float32', dense, [1, dim]) });
      const t = out[outputName];
      if (!t || t.data.length !== opts.labels.length) throw new Error(`onnx stage: output '${outputName}' has ${t?.data.length ?? 0} values, expected ${opts.labels.length}`);
      const scores: Partial<Record<Label, number>> = {};
      opts.labels.forEach((l, i) => (scores[l] = Number(t.data[i])));
      return scores;
    },
  };
}
