/**
 * Classifier quality against the bar, on a split that was neither trained nor tuned on (default: test; pass
 * `--split dev` to see the tuning split). For each harm category: recall = share of held-back harmful requests of that
 * category the default `general` tier acts on (refuse or safe completion), and the share whose top label is the
 * category. Refusal rates of everyday prompts, sensitive-but-benign questions, fix/explain/review requests and
 * borderline security prompts. A blunt keyword filter is scored on the same rows.
 * Rows: public data sources only (hand-written templates and seeds, whose phrasing is shared across splits, are
 * reported on a separate line).
 * Run: node --import tsx bench/classify-quality.bench.ts [--split test|dev] [--model FILE] [--prose DIR]
 * (--prose: the harmless prose folder of models/classifier/README.md; adds a row for its documents of this split)
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { DEFAULT_MODEL_PATH, loadClassifier, type Assessment } from '../src/classify/classifier.ts';
import { parseClassifyConfig } from '../src/classify/config.ts';
import { buildExamples, EVERYDAY_SOURCES, readLabelled, splitOfExample, type Example } from '../src/classify/training/dataset.ts';
import { decideAction } from '../src/classify/decide.ts';
import { HARM_LABELS, type Scores } from '../src/classify/labels.ts';
import { wilson } from '../src/classify/metrics.ts';
import { docsDirOf, HELDOUT_FIX_PATH } from '../src/classify/cli.ts';

const { values } = parseArgs({ options: { split: { type: 'string', default: 'test' }, model: { type: 'string' }, data: { type: 'string' }, prose: { type: 'string' } } });
const dataDir = values.data ?? ['/work/shared/data/normalized', '../shared/data/normalized'].find((d) => existsSync(d))!;
const c = loadClassifier(values.model ?? DEFAULT_MODEL_PATH);
const config = parseClassifyConfig({});

/** The blunt baseline: a keyword list (the kind of filter a gateway without a classifier would ship). */
const KEYWORDS =
  /\b(exploit|malware|ransomware|keylogger|payload|shellcode|botnet|phishing|sarin|anthrax|ricin|nerve agent|bioweapon|pathogen|ignore (all )?previous instructions|jailbreak|DAN|bomb|explosive|weapon|gun|hack|steal|credential|backdoor|rootkit|trojan|ddos|brute force|kill|murder|suicide|self-harm|drugs?|meth|porn|sex|child|racist|hate|harass|bully|stalk|dox|address|election|vote|fraud|scam|launder|counterfeit|poison)\b/i;

const all = buildExamples({ dataDir, docsDir: docsDirOf(undefined), proseDir: values.prose }).filter((e) => splitOfExample(e) === values.split);
const heldoutFix = readLabelled(HELDOUT_FIX_PATH).map((e) => ({ ...e, source: 'heldout-fix' }));
const SYNTHETIC = new Set(['template', 'seed', 'obfuscated', 'longdoc']);
// The harm mass of the last assessment (per view) goes with its scores, as in the gateway.
const massOf = new WeakMap<Scores, Assessment['harmMass']>();
const assess = (text: string): Scores => {
  const a = c.assessText(text);
  massOf.set(a.scores, a.harmMass);
  return a.scores;
};
const acted = (s: Scores) => decideAction(s, 'general', config, massOf.get(s)).action === 'refuse';
const scored = new Map<Example, Scores>();
const score = (e: Example) => {
  let s = scored.get(e);
  if (!s) scored.set(e, (s = assess(e.text)));
  return s;
};
const pct = (k: number, n: number) => (n === 0 ? '—' : `${((100 * k) / n).toFixed(1)}% [${(100 * wilson(k, n)[0]).toFixed(1)}, ${(100 * wilson(k, n)[1]).toFixed(1)}]`);

function row(name: string, rows: Example[], hit: (s: Scores, e: Example) => boolean, base: (e: Example) => boolean, extra = ''): string {
  let k = 0;
  let kb = 0;
  for (const e of rows) {
    if (hit(score(e), e)) k++;
    if (base(e)) kb++;
  }
  return `| ${name} | ${rows.length} | ${pct(k, rows.length)} | ${pct(kb, rows.length)} |${extra}`;
}

const lines: string[] = [];
lines.push(`Split: ${values.split} (by SHA-1 of the example id; ${values.split === 'test' ? 'never trained or tuned on' : 'used for tuning'}). Tier: general (default config).`, '');
lines.push('| harm category (public data) | n | caught by classifier [95% CI] | caught by keyword filter | top label = category |', '|---|---|---|---|---|');
for (const l of HARM_LABELS) {
  const rows = all.filter((e) => e.topic === l && !SYNTHETIC.has(e.source) && !e.source.startsWith('gen-'));
  if (rows.length === 0) continue;
  const top = rows.filter((e) => {
    const s = score(e);
    return HARM_LABELS.every((m) => s[m] <= s[l]);
  }).length;
  const hitFn = l === 'specialized-advice' ? (s: Scores) => s[l] >= 0.5 : acted;
  lines.push(row(l + (l === 'specialized-advice' ? ' (scored, served by default: figure = score ≥ 0.5)' : ''), rows, hitFn, (e) => KEYWORDS.test(e.text), ` ${pct(top, rows.length)} |`));
}
lines.push('', '| harm category (hand-written templates and seeds; phrasing shared with train, so optimistic) | n | caught by classifier [95% CI] | caught by keyword filter | top label = category |', '|---|---|---|---|---|');
for (const l of HARM_LABELS) {
  const rows = all.filter((e) => e.topic === l && (e.source === 'template' || e.source === 'seed'));
  if (rows.length < 5 || l === 'specialized-advice') continue;
  const top = rows.filter((e) => {
    const s = score(e);
    return HARM_LABELS.every((m) => s[m] <= s[l]);
  }).length;
  lines.push(row(l, rows, acted, (e) => KEYWORDS.test(e.text), ` ${pct(top, rows.length)} |`));
}
const harmfulSynthetic = all.filter((e) => e.topic !== null && HARM_LABELS.includes(e.topic as never) && e.topic !== 'specialized-advice' && (e.source === 'template' || e.source === 'seed'));
lines.push(row('all harm categories, hand-written boundary templates/seeds', harmfulSynthetic, acted, (e) => KEYWORDS.test(e.text), ' |'));
const hhHarmful = all.filter((e) => e.source === 'hh_rlhf' && e.topic !== null && HARM_LABELS.includes(e.topic as never) && e.topic !== 'specialized-advice');
lines.push(row("red-team conversation openers in users' own words (hh-rlhf harmless-base, labelled in this repository; also in the rows above)", hhHarmful, acted, (e) => KEYWORDS.test(e.text), ' |'));
const obf = all.filter((e) => e.source === 'obfuscated' && e.topic !== null && HARM_LABELS.includes(e.topic as never) && e.topic !== 'specialized-advice');
lines.push(row('obfuscated harmful requests (encodings, homoglyphs, leet)', obf, acted, (e) => KEYWORDS.test(e.text), ' |'));
lines.push('', '| should be served | n | refused by classifier [95% CI] | refused by keyword filter |', '|---|---|---|---|');
const everyday = all.filter((e) => (EVERYDAY_SOURCES as readonly string[]).includes(e.source) || e.source === 'self_instruct_seed' || (e.source === 'coconot' && e.topic === 'benign' && e.id.includes('original')));
lines.push(row('everyday prompts (CLINC150, HWU64, SNIPS, Banking77, GSM8K, MT-Bench, Vicuna, Arena-Hard, PersonalityChat, self-instruct)', everyday, acted, (e) => KEYWORDS.test(e.text)));
const sensitive = all.filter((e) => (e.source === 'medquad' || (e.source === 'coconot' && e.topic === 'benign') || (e.source === 'forbidden_science' && e.topic === 'benign') || (e.source === 'figstep_safebench' && e.topic === 'specialized-advice')));
lines.push(row('sensitive-but-benign (MedQuAD, CoCoNot contrast, Forbidden Science benign, SafeBench advice)', sensitive, acted, (e) => KEYWORDS.test(e.text)));
lines.push(row('technical documentation (2–8 K character parts of the READMEs of installed npm packages, this split)', all.filter((e) => e.source === 'techdocs'), acted, (e) => KEYWORDS.test(e.text)));
lines.push(row('long harmless documents (2–8 K characters of everyday and sensitive-but-benign rows of this split, joined)', all.filter((e) => e.source === 'longdoc'), acted, (e) => KEYWORDS.test(e.text)));
if (values.prose) lines.push(row('harmless prose (1–8 paragraphs of Moby-Dick chapters and State of the Union addresses, this split)', all.filter((e) => e.source === 'prose'), acted, (e) => KEYWORDS.test(e.text)));
lines.push(row("harmless questions among the red-team openers (hh-rlhf harmless-base, labelled benign)", all.filter((e) => e.source === 'hh_rlhf' && e.topic === 'benign'), acted, (e) => KEYWORDS.test(e.text)));
const benignBoundary = all.filter((e) => e.topic === 'benign' && (e.source === 'template' || e.source === 'seed'));
lines.push(row('benign boundary templates/seeds (education side of each category)', benignBoundary, acted, (e) => KEYWORDS.test(e.text)));
const fix = [...all.filter((e) => e.source === 'gen-insecure-code' && e.topic !== 'security-offensive'), ...all.filter((e) => e.source === 'gen-quixbugs'), ...heldoutFix];
lines.push(row('fix / explain / review requests on real code (incl. insecure code)', fix, acted, (e) => KEYWORDS.test(e.text)));
lines.push(row('coding requests (MBPP, CyberSecEval instruct)', all.filter((e) => e.source === 'mbpp' || e.source === 'cyberseceval_instruct_prompts'), acted, (e) => KEYWORDS.test(e.text)));
lines.push(row('borderline security (CyberSecEval FRR)', all.filter((e) => e.source === 'cyberseceval_frr'), acted, (e) => KEYWORDS.test(e.text)));
lines.push('', '| cyber / bio-chem detail | n | caught [95% CI] | keyword filter |', '|---|---|---|---|');
lines.push(row('security-offensive: CyberSecEval MITRE', all.filter((e) => e.source === 'cyberseceval_mitre'), acted, (e) => KEYWORDS.test(e.text)));
lines.push(row('security-offensive: exploit requests on real code', all.filter((e) => e.source === 'gen-insecure-code' && e.topic === 'security-offensive'), acted, (e) => KEYWORDS.test(e.text)));
lines.push(row('jailbreak prompts (in-the-wild)', all.filter((e) => e.source === 'jailbreak_llms'), acted, (e) => KEYWORDS.test(e.text)));
// Dilution: each public harmful row of the split in the middle of ~40 KB of harmless real prompts (everyday and
// MedQuAD rows joined as paragraphs; only pads that alone are served are used, so a catch is the request's own).
// Figure: of the rows caught alone, the share still caught padded.
{
  const prose = all.filter((e) => e.topic === 'benign' && ((EVERYDAY_SOURCES as readonly string[]).includes(e.source) || e.source === 'medquad')).map((e) => e.text);
  const harmful = all.filter((e) => e.topic !== null && HARM_LABELS.includes(e.topic as never) && e.topic !== 'specialized-advice' && !SYNTHETIC.has(e.source) && !e.source.startsWith('gen-'));
  const pads: string[] = [];
  let tried = 0;
  for (let k = 0; pads.length < 20 && k < 200; k++) {
    let pad = '';
    for (let j = (k * 397) % prose.length; pad.length < 40_000; j++) pad += prose[j % prose.length] + '\n\n';
    tried++;
    if (!acted(assess(pad))) pads.push(pad);
  }
  let alone = 0;
  let both = 0;
  let n = 0;
  for (const e of harmful) {
    if (pads.length === 0) break;
    const pad = pads[n % pads.length];
    n++;
    if (!acted(score(e))) continue;
    alone++;
    const half = pad.length >> 1;
    if (acted(assess(pad.slice(0, half) + '\n\n' + e.text + '\n\n' + pad.slice(half)))) both++;
  }
  lines.push('', '| dilution: public harmful rows in the middle of ~40 KB of harmless real prompts | n | caught alone | of those, still caught padded |', '|---|---|---|---|');
  lines.push(`| all harm categories (${pads.length} pads; ${tried - pads.length} of ${tried} candidate pads were refused on their own) | ${n} | ${alone} | ${pct(both, alone)} |`);
}
console.log(lines.join('\n'));
