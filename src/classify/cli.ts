/**
 * `gatehouse train | calibrate | classify | eval`.
 *   train      build the corpus from --data DIR, train deterministically, write the artefact, print dev/test metrics
 *   calibrate  --dev FILE|default --target-fpr label=rate,... --config FILE [--tier T]... : write thresholds into the YAML
 *   classify   JSONL {"id","text"} or {"id","messages"} from stdin or --in FILE (or --text) → one JSON line each
 *   eval       --in FILE|default-test [--html FILE] labelled JSONL → per-label precision / recall / FPR with 95% CIs,
 *              confusion matrix; --html adds precision/recall curves (SVG)
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { ConversationText } from '../core/canonical.ts';
import { calibrate, parseTargets, scoreAll, writeThresholds } from './calibrate.ts';
import { Classifier, DEFAULT_MODEL_PATH, loadClassifier } from './classifier.ts';
import { parseClassifyConfig, resolveClassifyPaths, type ClassifyConfig } from './config.ts';
import { buildExamples, keepForTraining, readLabelled, splitOfExample, type Example } from './training/dataset.ts';
import { decideAction, rulesFor } from './decide.ts';
import { htmlReport } from './report-html.ts';
import { evaluate, formatReport, topLabel } from './evaluate.ts';
import { DEFAULT_TRAIN, train } from './training/train.ts';
import { fileURLToPath } from 'node:url';

export const HELDOUT_FIX_PATH = fileURLToPath(new URL('./heldout-fix-requests.jsonl', import.meta.url));

function defaultDataDir(): string {
  const candidates = [process.env.GATEHOUSE_DATA, resolve('../shared/data/normalized'), '/work/shared/data/normalized'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error('no dataset directory found: pass --data DIR or set GATEHOUSE_DATA');
}

function loadConfig(path: string | undefined): ClassifyConfig {
  if (!path) return parseClassifyConfig({});
  const doc = parseYaml(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
  return resolveClassifyPaths(parseClassifyConfig(doc?.classify ?? {}), dirname(resolve(path)));
}

function modelFor(config: ClassifyConfig, override?: string): Classifier {
  const p = override ?? (config.model === 'default' ? DEFAULT_MODEL_PATH : config.model);
  return loadClassifier(p);
}

/** The project's own node_modules: its permissively licensed READMEs are harmless technical documentation (dataset.ts). */
export const DEFAULT_DOCS_DIR = fileURLToPath(new URL('../../node_modules', import.meta.url));

/** `--docs DIR|none` → the folder to read, or undefined; the default is DEFAULT_DOCS_DIR when it exists. */
export function docsDirOf(flag: string | undefined): string | undefined {
  if (flag === 'none') return undefined;
  const dir = flag ?? DEFAULT_DOCS_DIR;
  if (!existsSync(dir)) {
    if (flag !== undefined) throw new Error(`--docs: ${dir} does not exist`);
    return undefined;
  }
  return dir;
}

/** `--prose DIR`: a folder of plain-text prose files (see models/classifier/README.md); absent = no prose. */
export function proseDirOf(flag: string | undefined): string | undefined {
  if (flag === undefined || flag === 'none') return undefined;
  if (!existsSync(flag)) throw new Error(`--prose: ${flag} does not exist`);
  return flag;
}

function heldoutFix(): Example[] {
  return readLabelled(HELDOUT_FIX_PATH).map((e) => ({ ...e, source: 'heldout-fix' }));
}

async function cmdTrain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      bits: { type: 'string' },
      epochs: { type: 'string' },
      lr: { type: 'string' },
      seed: { type: 'string' },
      'include-share-alike': { type: 'boolean', default: false },
      docs: { type: 'string' },
      prose: { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const dataDir = values.data ?? defaultDataDir();
  const proseDir = proseDirOf(values.prose);
  const docsDir = docsDirOf(values.docs);
  const out = values.out ?? DEFAULT_MODEL_PATH;
  const num = (v: string | undefined, d: number, name: string) => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${v}`);
    return n;
  };
  const opts = { bits: num(values.bits, DEFAULT_TRAIN.bits, 'bits'), epochs: num(values.epochs, DEFAULT_TRAIN.epochs, 'epochs'), learningRate: num(values.lr, DEFAULT_TRAIN.learningRate, 'lr'), seed: num(values.seed, DEFAULT_TRAIN.seed, 'seed') };
  const all = buildExamples({ dataDir, docsDir, proseDir, includeShareAlike: values['include-share-alike'] });
  const bySplit = { train: [] as Example[], dev: [] as Example[], test: [] as Example[] };
  for (const e of all) {
    const sp = splitOfExample(e);
    if (sp !== 'train' || keepForTraining(e)) bySplit[sp].push(e);
  }
  const log = (s: string) => values.quiet || process.stderr.write(s + '\n');
  log(`corpus: ${all.length} examples (train ${bySplit.train.length}, dev ${bySplit.dev.length}, test ${bySplit.test.length}) from ${dataDir}${values['include-share-alike'] ? ' INCLUDING CC BY-SA data' : ' (permissive licences only)'}`);
  const t0 = Date.now();
  const model = train(bySplit.train, { ...opts, onEpoch: (ep) => log(`epoch ${ep}/${opts.epochs} ${((Date.now() - t0) / 1000).toFixed(1)}s`) });
  const sources = [...new Set(all.map((e) => e.source))].sort();
  model.meta = { ...model.meta, ...opts, sources, docs: docsDir ? 'READMEs of the permissively licensed packages in node_modules' : null, prose: proseDir ? `${all.filter((e) => e.source === 'prose').length} documents of plain-text prose (--prose)` : null, shareAlike: values['include-share-alike'], examples: { train: bySplit.train.length, dev: bySplit.dev.length, test: bySplit.test.length } };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, model.serialize());
  log(`wrote ${out} (${(model.serialize().length / 1e6).toFixed(1)} MB)`);
  const c = new Classifier(model);
  const config = parseClassifyConfig({});
  if (!values.quiet) {
    process.stdout.write(`\n== dev split (tuning) ==\n${formatReport(evaluate(c, bySplit.dev, config))}\n`);
    process.stdout.write(`\n== test split (not used for training or tuning) + held-out fix-this-code set ==\n${formatReport(evaluate(c, [...bySplit.test, ...heldoutFix()], config))}\n`);
  }
  return 0;
}

async function cmdCalibrate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { dev: { type: 'string', default: 'default' }, 'target-fpr': { type: 'string' }, config: { type: 'string' }, tier: { type: 'string', multiple: true }, data: { type: 'string' }, model: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
  });
  if (!values['target-fpr']) throw new Error('calibrate: --target-fpr label=rate[,label=rate...] is required');
  if (!values.config) throw new Error('calibrate: --config FILE is required (the YAML whose thresholds are rewritten)');
  const targets = parseTargets(values['target-fpr']);
  const yamlText = existsSync(values.config) ? readFileSync(values.config, 'utf8') : '';
  const config = loadConfig(existsSync(values.config) ? values.config : undefined);
  const dev = values.dev === 'default' ? buildExamples({ dataDir: values.data ?? defaultDataDir(), docsDir: docsDirOf(undefined) }).filter((e) => splitOfExample(e) === 'dev') : readLabelled(values.dev);
  const c = modelFor(config, values.model);
  const cals = calibrate(dev, scoreAll(c, dev), targets);
  for (const k of cals)
    process.stdout.write(`${k.label.padEnd(19)} target FPR ${k.targetFpr}  threshold ${k.threshold.toFixed(6)}  dev FPR ${(100 * k.rates.fpr).toFixed(2)}%  expected recall ${(100 * k.rates.recall).toFixed(1)}% [${(100 * k.rates.recallCi[0]).toFixed(1)}, ${(100 * k.rates.recallCi[1]).toFixed(1)}]  (pos ${k.positives}, neg ${k.negatives})\n`);
  const updated = writeThresholds(yamlText, cals, values.tier);
  parseClassifyConfig((parseYaml(updated) as Record<string, unknown>)?.classify); // never write a config that fails validation
  if (!values['dry-run']) writeFileSync(values.config, updated);
  return 0;
}

type Msg = { role?: unknown; content?: unknown };
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((b) => (b && typeof b === 'object' && typeof (b as { text?: unknown }).text === 'string' ? (b as { text: string }).text : '')).join('\n');
  return '';
}

/** Accepts OpenAI- or Anthropic-style message arrays; `system` role messages become the system prompt. */
export function toConversation(rec: Record<string, unknown>): ConversationText {
  if (typeof rec.text === 'string') return { system: null, turns: [{ role: 'user', text: rec.text }] };
  if (!Array.isArray(rec.messages)) throw new Error('needs "text" (string) or "messages" (array)');
  if (rec.messages.length > 10_000) throw new Error(`"messages" has ${rec.messages.length} entries (max 10000)`);
  let system: string | null = typeof rec.system === 'string' ? rec.system : null;
  const turns: ConversationText['turns'] = [];
  (rec.messages as Msg[]).forEach((m, i) => {
    if (!m || typeof m !== 'object') throw new Error(`messages[${i}]: not an object`);
    const text = contentText(m.content);
    if (m.role === 'system' || m.role === 'developer') system = system ? `${system}\n${text}` : text;
    else if (m.role === 'user' || m.role === 'assistant' || m.role === 'tool') turns.push({ role: m.role === 'assistant' ? 'assistant' : 'user', text });
    else throw new Error(`messages[${i}].role: expected system|user|assistant|tool, got ${JSON.stringify(m.role)}`);
  });
  return { system, turns };
}

async function readInput(path: string | undefined): Promise<string> {
  if (path) return readFileSync(path, 'utf8');
  const chunks: Buffer[] = [];
  for await (const ch of process.stdin) chunks.push(ch as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function cmdClassify(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { in: { type: 'string' }, text: { type: 'string' }, tier: { type: 'string', default: 'general' }, config: { type: 'string' }, model: { type: 'string' } } });
  const config = loadConfig(values.config);
  const c = modelFor(config, values.model);
  const lines = values.text !== undefined ? [JSON.stringify({ id: 'text', text: values.text })] : (await readInput(values.in)).split('\n');
  let bad = 0;
  let n = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    n++;
    let rec: Record<string, unknown>;
    let id: unknown = `line${n}`;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
      if (!rec || typeof rec !== 'object' || Array.isArray(rec)) throw new Error('expected a JSON object');
      id = rec.id ?? id;
      const { scores, harmMass } = c.assess(toConversation(rec));
      const v = decideAction(scores, values.tier, config, harmMass);
      const rounded = Object.fromEntries(Object.entries(scores).map(([k, s]) => [k, Math.round(s * 1e4) / 1e4]));
      const out: Record<string, unknown> = { id, label: topLabel(scores), scores: rounded, action: v.action };
      if (v.action !== 'allow') out.code = v.code;
      if (v.action === 'route') out.model = v.model;
      process.stdout.write(JSON.stringify(out) + '\n');
    } catch (e) {
      bad++;
      process.stdout.write(JSON.stringify({ id, error: (e as Error).message }) + '\n');
    }
  }
  return bad > 0 ? 1 : 0;
}

async function cmdEval(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { in: { type: 'string', default: 'default-test' }, tier: { type: 'string', default: 'general' }, config: { type: 'string' }, model: { type: 'string' }, data: { type: 'string' }, html: { type: 'string' } } });
  const config = loadConfig(values.config);
  const c = modelFor(config, values.model);
  const examples = values.in === 'default-test' ? [...buildExamples({ dataDir: values.data ?? defaultDataDir(), docsDir: docsDirOf(undefined) }).filter((e) => splitOfExample(e) === 'test'), ...heldoutFix()] : readLabelled(values.in);
  const text = formatReport(evaluate(c, examples, config, values.tier));
  process.stdout.write(text + '\n');
  if (values.html) {
    const rules = rulesFor(values.tier, config);
    const thresholds = Object.fromEntries(Object.entries(rules).map(([l, r]) => [l, r?.threshold]));
    writeFileSync(values.html, htmlReport(`Gatehouse classifier evaluation: ${values.in} (tier ${values.tier})`, text, examples, scoreAll(c, examples), thresholds));
    process.stderr.write(`wrote ${values.html}\n`);
  }
  return 0;
}

const HELP: Record<string, string> = {
  train: `usage: gatehouse train [--data DIR] [--docs DIR|none] [--prose DIR] [--out FILE] [--bits N] [--epochs N] [--lr X] [--seed N] [--include-share-alike] [--quiet]
  Builds the corpus from the normalised datasets in --data (or $GATEHOUSE_DATA), the READMEs of the permissively
  licensed packages in --docs (default: this checkout's node_modules; \`none\` to leave them out) and the plain-text
  prose files under --prose (harmless stories and speeches; models/classifier/README.md says which the embedded
  artefact used), trains deterministically, writes the artefact (default: the embedded models/classifier/default.bin) and prints dev/test
  metrics.
`,
  calibrate: `usage: gatehouse calibrate --config FILE --target-fpr label=rate,… [--dev FILE|default] [--tier T]… [--model FILE] [--data DIR] [--dry-run]
  Chooses per-label thresholds reaching the target false-positive rates on the dev set and writes them into the
  classify: section of --config (--dry-run prints the change instead).
`,
  classify: `usage: gatehouse classify [--in FILE | --text TEXT] [--tier T] [--config FILE] [--model FILE]
  Reads JSONL {"id","text"} or {"id","messages"} from stdin or --in and prints one JSON line of scores and the
  action for the tier (default general) per input.
`,
  eval: `usage: gatehouse eval [--in FILE|default-test] [--tier T] [--config FILE] [--model FILE] [--data DIR] [--html FILE]
  Per-label precision, recall and false-positive rate with 95% intervals and a confusion matrix on labelled JSONL;
  --html also writes precision/recall curves.
`,
};

/** `--help` text for `gatehouse train|calibrate|classify|eval` (main.ts prints it). */
export function help(argv: string[]): string {
  return HELP[argv[0] ?? ''] ?? Object.values(HELP).join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === 'train') return await cmdTrain(rest);
    if (cmd === 'calibrate') return await cmdCalibrate(rest);
    if (cmd === 'classify') return await cmdClassify(rest);
    if (cmd === 'eval') return await cmdEval(rest);
    process.stderr.write(`gatehouse: classify/cli handles train | calibrate | classify | eval, not '${cmd}'\n`);
    return 2;
  } catch (e) {
    process.stderr.write(`gatehouse ${cmd}: ${(e as Error).message}\n`);
    return 1;
  }
}
