/**
 * In-process ONNX model as a cascade stage (onnxruntime-node, CPU, from a local path; nothing is downloaded).
 * Input contract: the Gatehouse hashed feature vector — the same normalised, conversation-weighted features the
 * embedded model uses — as a dense float32 tensor [1, 2^bits]; output: [1, labels.length] probabilities in `labels`
 * order. That fits a head trained on our features (e.g. an MLP exported to ONNX). Models that need their own tokenizer
 * (Prompt Guard 2, sentence-embedding models) are NOT supported by this adapter: no tokenizer is bundled.
 * onnxruntime-node is an optional dependency (its install script fetches GPU libraries and fails offline, and npm
 * then skips it): it is imported only when a config asks for an ONNX stage, and its absence is a start-up error that
 * names the package to install. The few types used here are declared locally so the build never needs it either.
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

/** The slice of onnxruntime-node's API this stage uses. */
interface OrtTensor {
  readonly data: ArrayLike<number | bigint>;
}
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor | undefined>>;
}
interface Ort {
  InferenceSession: { create(path: string, options: { intraOpNumThreads: number; interOpNumThreads: number }): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;
}

export const ONNX_PACKAGE = 'onnxruntime-node';

/** Thrown when an ONNX stage is configured but onnxruntime-node is not installed. */
export class OnnxRuntimeMissingError extends Error {
  constructor(detail: string) {
    super(
      `onnx stage: the optional package ${ONNX_PACKAGE} is not installed (${detail}); ` +
        `install it with \`npm install ${ONNX_PACKAGE}\` (on Linux x64 without network to its GPU libraries: ` +
        `\`ONNXRUNTIME_NODE_INSTALL=skip npm install ${ONNX_PACKAGE}\`), or remove the onnx stage from classify.cascade`,
    );
  }
}

let ortPromise: Promise<Ort> | null = null;

/** Imports onnxruntime-node once; rejects with OnnxRuntimeMissingError when it is not installed. */
export function loadOnnxRuntime(): Promise<Ort> {
  // A variable specifier keeps the type checker and bundlers from resolving the optional package at build time.
  const specifier: string = ONNX_PACKAGE;
  ortPromise ??= (import(specifier) as Promise<Ort & { default?: Ort }>).then(
    (m) => (m.InferenceSession ? m : m.default!),
    (e: NodeJS.ErrnoException) => {
      ortPromise = null;
      if (e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') throw new OnnxRuntimeMissingError(e.message.split('\n')[0]!);
      throw new Error(`onnx stage: ${ONNX_PACKAGE} is installed but cannot be loaded (${e.message})`);
    },
  );
  return ortPromise;
}

export async function createOnnxStage(opts: OnnxStageOptions): Promise<Stage> {
  if (!Number.isInteger(opts.bits) || opts.bits < 4 || opts.bits > 22) throw new Error(`onnx stage: bits must be an integer in [4, 22], got ${opts.bits}`);
  const ort = await loadOnnxRuntime();
  let session: OrtSession;
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
