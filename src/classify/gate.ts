/**
 * The classifier gate the gateway wires in: built once at start-up from the `classify:` config section (loads the
 * artefact and any cascade stages, failing there with a clear message), then per request:
 *   checkInput(conv, tier)   → scores + Verdict (+ shadow outcome); async only when a cascade stage runs
 *   outputModerator(tier)    → a StreamModerator for the response stream (null when stream moderation is off)
 */
import type { ConversationText } from '../core/canonical.ts';
import type { Verdict } from '../core/types.ts';
import { runCascade, type CascadeStep } from './cascade.ts';
import { DEFAULT_MODEL_PATH, loadClassifier, type Classifier } from './classifier.ts';
import { conversationChars, createOffloader, OFFLOAD_MIN_CHARS } from './offload.ts';
import { parseClassifyConfig, type ClassifyConfig, type StageConfig } from './config.ts';
import { decideAction, decideWithRules, rulesFor } from './decide.ts';
import { createGuardStage } from './guard.ts';
import type { Scores } from './labels.ts';
import { createOnnxStage } from './onnx.ts';
import { createShadow, type Shadow, type ShadowOutcome } from './shadow.ts';
import { singleTurn } from './pipeline.ts';
import { createStreamModerator, type StreamModerator } from './stream.ts';

export interface InputCheck {
  scores: Scores;
  verdict: Verdict;
  escalated: string[];
  errors: string[];
  shadow?: ShadowOutcome;
}

export interface ClassifyGate {
  readonly config: ClassifyConfig;
  readonly classifier: Classifier;
  readonly shadow: Shadow | null;
  checkInput(conv: ConversationText, tier: string): Promise<InputCheck>;
  outputModerator(tier: string): StreamModerator | null;
}

async function buildStage(s: StageConfig, env: NodeJS.ProcessEnv): Promise<CascadeStep> {
  const common = { labels: s.labels, band: s.band as [number, number], timeoutMs: s.timeoutMs };
  if (s.type === 'onnx') return { ...common, stage: await createOnnxStage({ name: s.name, path: s.path, bits: s.bits, labels: s.labels, inputName: s.inputName, outputName: s.outputName }) };
  const apiKey = s.apiKeyEnv ? env[s.apiKeyEnv] : undefined;
  if (s.apiKeyEnv && !apiKey) throw new Error(`classify.cascade: environment variable ${s.apiKeyEnv} (apiKeyEnv of guard stage ${s.name ?? s.model}) is not set`);
  return { ...common, stage: createGuardStage({ name: s.name, baseUrl: s.baseUrl, model: s.model, format: s.format, apiKey, labels: s.labels, categoryMap: s.categoryMap }) };
}

/** A problem that would stop createClassifyGate, with its path inside the `classify:` section. */
export interface ClassifyProblem {
  path: (string | number)[];
  message: string;
}

/**
 * Every problem createClassifyGate would fail on (artefact unreadable or corrupt, a cascade stage that cannot be
 * built: ONNX model missing or invalid, onnxruntime-node not installed, guard key variable unset), all of them
 * rather than the first. The same loaders as createClassifyGate, so a config that passes starts.
 */
export async function classifyProblems(section: unknown, env: NodeJS.ProcessEnv = process.env): Promise<ClassifyProblem[]> {
  const config = parseClassifyConfig(section);
  const problems: ClassifyProblem[] = [];
  try {
    loadClassifier(modelPath(config));
  } catch (e) {
    problems.push({ path: ['model'], message: (e as Error).message });
  }
  for (const [i, s] of config.cascade.entries()) {
    try {
      await buildStage(s, env);
    } catch (e) {
      problems.push({ path: ['cascade', i], message: (e as Error).message });
    }
  }
  return problems;
}

function modelPath(config: ClassifyConfig): string {
  return config.model === 'default' ? DEFAULT_MODEL_PATH : config.model;
}

export async function createClassifyGate(section: unknown, env: NodeJS.ProcessEnv = process.env): Promise<ClassifyGate> {
  const config = parseClassifyConfig(section);
  const classifier = loadClassifier(modelPath(config));
  const steps: CascadeStep[] = [];
  for (const s of config.cascade) steps.push(await buildStage(s, env));
  const shadow = config.shadow ? createShadow(config, config.shadow.tiers) : null;
  const offloader = createOffloader(modelPath(config), classifier);
  return {
    config,
    classifier,
    shadow,
    async checkInput(conv, tier) {
      // Very large conversations are classified on a worker thread (offload.ts) so the event loop keeps serving.
      const first = conversationChars(conv) >= OFFLOAD_MIN_CHARS ? await offloader.assess(conv) : classifier.assess(conv);
      if (!config.enabled) return { scores: first.scores, verdict: { action: 'allow' }, escalated: [], errors: [] };
      const base = () => first.scores;
      const r = steps.length > 0 ? await runCascade(conv, base, steps) : { scores: first.scores, escalated: [], errors: [] };
      // A stage that replaced scores makes the embedded model's per-view harm mass stale: the rule then sums scores.
      const verdict = decideAction(r.scores, tier, config, r.escalated.length === 0 ? first.harmMass : undefined);
      const check: InputCheck = { ...r, verdict };
      if (shadow) check.shadow = shadow.compare(r.scores, tier);
      return check;
    },
    outputModerator(tier) {
      if (!config.enabled || !config.stream.enabled) return null;
      return createStreamModerator({
        classify: (text) => classifier.classify(singleTurn(text)),
        // Output is judged label by label, without the harm-mass rule: a model's reply is read in running windows
        // that often end mid-sentence, where the spread of an uncertain softmax is no evidence of harm.
        decide: (s) => decideWithRules(s, rulesFor(tier, config)),
        holdBackChars: config.stream.holdBackChars,
        windowChars: config.stream.windowChars,
      });
    },
  };
}
