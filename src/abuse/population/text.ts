/**
 * Prompt text for the population generator: plain English word lists, a topic grid, a long public coding-agent
 * system prompt, class assignments, public benchmark items and ring templates with sentence-level paraphrases.
 * Written independently of src/abuse/simulate.ts (which uses a syllable vocabulary and word-level synonym swaps).
 */
import type { Rand } from './rand.ts';

export const SUBJECTS = [
  'organic chemistry', 'thermodynamics', 'linear algebra', 'microeconomics', 'molecular biology', 'contract law',
  'compiler design', 'number theory', 'plate tectonics', 'epidemiology', 'music theory', 'medieval history',
  'operating systems', 'fluid mechanics', 'cognitive psychology', 'macroeconomics', 'quantum mechanics',
  'graph theory', 'immunology', 'tax law', 'distributed systems', 'probability', 'genetics', 'astrophysics',
  'philosophy of mind', 'electrical circuits', 'statistics', 'neuroscience', 'cryptography', 'ecology',
  'corporate finance', 'materials science', 'computer networks', 'real analysis', 'pharmacology', 'linguistics',
  'control theory', 'databases', 'climate science', 'game theory', 'topology', 'criminal law', 'signal processing',
  'machine learning', 'inorganic chemistry', 'optics', 'urban planning', 'ethics', 'combinatorics', 'virology',
];
export const SUBTOPICS = [
  'a core definition', 'a classic theorem', 'a common misconception', 'a worked numerical example', 'an edge case',
  'a historical development', 'a comparison of two methods', 'an experimental design', 'a derivation from first principles',
  'a real-world application', 'a counterexample', 'a limiting case', 'a standard exam problem', 'an open research question',
  'a failure mode', 'a proof sketch', 'an estimation problem', 'a design trade-off', 'a data interpretation task', 'a synthesis essay',
];
export const TASKS = [
  'explain', 'derive', 'compare', 'critique', 'solve', 'summarise', 'prove', 'design', 'analyse', 'evaluate',
];

/** Everyday words for consumer chat; a few hundred, drawn with a Zipf-like skew. */
const EVERYDAY = (
  'weather recipe dinner travel flight hotel birthday gift email letter resume cover job interview salary budget rent ' +
  'garden plant dog cat puppy vet doctor headache sleep workout running diet protein coffee tea wine movie book song ' +
  'poem story joke riddle game football tennis guitar piano painting photo camera phone laptop printer wifi router ' +
  'password account bank loan mortgage insurance car tyre engine bike train bus ticket museum beach mountain hiking ' +
  'camping tent school homework exam grade teacher class friend party wedding speech toast apology complaint refund ' +
  'shop price discount shoes jacket dress laundry stain kitchen oven fridge paint wall floor roof window door lamp ' +
  'moving neighbour noise parking tax invoice receipt spreadsheet chart slide presentation meeting calendar holiday ' +
  'visa passport language spanish french german japanese translate grammar spelling word meaning synonym history ' +
  'planet moon star volcano ocean river forest bird fish whale climate energy solar battery electric bill water'
).split(' ');
const QUESTIONS = [
  'what is a good', 'how do I fix my', 'can you help me write a', 'give me ideas for a', 'is it safe to use a',
  'why does my', 'what should I say in a', 'how long does a', 'translate this note about my', 'suggest a name for my',
  'how much should I pay for a', 'what is the difference between a', 'make a short list about my', 'rewrite this message about the',
];

export function consumerPrompt(r: Rand): string {
  const w = () => EVERYDAY[Math.floor(EVERYDAY.length * r.next() ** 2)];
  const n = 1 + r.int(3);
  let s = `${r.pick(QUESTIONS)} ${w()}`;
  for (let i = 0; i < n; i++) s += ` ${w()}`;
  if (r.next() < 0.3) s += `? my ${w()} and ${w()} are involved.`;
  else s += '?';
  if (r.next() < 0.05) s += ' Please explain step by step.';
  return s;
}

const LANGS = ['python', 'typescript', 'go', 'rust', 'java', 'sql', 'bash', 'c++'];
const CODE_TASKS = ['why does this function return undefined', 'refactor this loop', 'add error handling to', 'write a unit test for',
  'optimise this query', 'explain this stack trace from', 'convert this callback to async in', 'fix the off by one in'];
const IDENTS = ['parseConfig', 'user_id', 'fetchRows', 'retryCount', 'handler', 'buf', 'items', 'cache', 'ctx', 'result', 'offset', 'token'];

export function codeSnippet(r: Rand, lines: number): string {
  let s = '';
  for (let i = 0; i < lines; i++) {
    const a = r.pick(IDENTS);
    const b = r.pick(IDENTS);
    s += r.next() < 0.5 ? `  if (${a} > ${r.int(100)}) { ${b} = ${a} + ${r.int(9)}; }\n` : `  const ${a}${r.int(50)} = ${b}.map((x) => x * ${r.int(7) + 1});\n`;
  }
  return s;
}

export function developerPrompt(r: Rand): string {
  return `${r.pick(CODE_TASKS)} ${r.pick(LANGS)}:\n${codeSnippet(r, 2 + r.int(12))}`;
}

/** A popular coding tool's long public system prompt: identical for every user of the tool. */
export const AGENT_SYSTEM_PROMPT = [
  'You are CodePilot, an autonomous software engineering agent working inside the user\'s repository.',
  'You can read files, search the code base, run shell commands and edit files using the tools provided.',
  'Always read the relevant files before you change them and keep your changes minimal and focused on the task.',
  'Follow the existing code style, naming conventions and project structure; never reformat unrelated code.',
  'When a command fails, read the error output carefully and fix the root cause instead of retrying blindly.',
  'Run the project\'s tests after every change and report which tests you ran and whether they passed.',
  'Never commit secrets, credentials or personal data, and never push to a remote unless the user asks.',
  'Think step by step about the plan before acting, then explain briefly what you changed and why.',
  'If the task is ambiguous, state your assumptions explicitly and choose the simplest reasonable interpretation.',
  'Prefer small, reviewable diffs, add tests for new behaviour and update documentation when behaviour changes.',
  'Respect the user\'s time: be concise in explanations, precise in code, and honest about anything left undone.',
].join(' ');

export function agentPrompt(r: Rand): string {
  return `${AGENT_SYSTEM_PROMPT}\n\nTask: ${r.pick(CODE_TASKS)} in ${r.pick(LANGS)} (${r.pick(IDENTS)}).\n${codeSnippet(r, 3 + r.int(20))}`;
}

const SAAS_JOBS = [
  'Extract the sender, invoice number, total amount and due date from the following email as JSON.',
  'Classify the sentiment of this customer review as positive, neutral or negative and give a one-line reason.',
  'Summarise the support ticket below in two sentences for the on-call engineer.',
  'Translate the product description below into German, keeping the formatting.',
  'Write a short, friendly product description (about 120 words) for the item below.',
];

export function saasPrompt(r: Rand, job: number): string {
  return `${SAAS_JOBS[job % SAAS_JOBS.length]}\n---\n${consumerPrompt(r)} ${consumerPrompt(r)} ref ${r.int(1e6)}`;
}

const OFFICE = ['draft a reply to the client about the', 'summarise the meeting notes on the', 'make a slide outline for the',
  'check the grammar of this paragraph about the', 'write an agenda for the', 'list risks for the'];
const BIZ = ['quarterly report', 'budget review', 'vendor contract', 'product launch', 'hiring plan', 'audit findings', 'migration project', 'sales forecast'];

export function enterprisePrompt(r: Rand): string {
  return `${r.pick(OFFICE)} ${r.pick(BIZ)}; keep it under ${100 + 50 * r.int(6)} words.${r.next() < 0.3 ? ' ' + consumerPrompt(r) : ''}`;
}

export function ciPrompt(r: Rand, repo: number, k: number): string {
  return `Review the following diff for repository ${repo} check ${k} and list any bugs as JSON.\n${codeSnippet(r, 6)}`;
}

/** A class assignment: the same text for every student, with the course's "show your work" instruction. */
export function assignment(r: Rand, course: number): string {
  const subj = SUBJECTS[course % SUBJECTS.length];
  const inst = r.pick(['Show your work and explain your reasoning step by step.', 'Show all working; marks are given for the method.', 'Explain each step of your reasoning clearly.']);
  return `Problem set ${1 + r.int(6)}, ${subj}: ${r.pick(TASKS)} ${r.pick(SUBTOPICS)} covered in lecture ${1 + r.int(20)}. ${inst}`;
}

/** A student's request: the assignment text, sometimes with a question of their own. */
export function studentPrompt(r: Rand, assignmentText: string): string {
  const own = r.next() < 0.5 ? '' : ` I am stuck on part ${String.fromCharCode(97 + r.int(4))}, ${consumerPrompt(r)}`;
  return `${assignmentText}${own}`;
}

/** Public benchmarks: deterministic item texts that every research group evaluating them sends verbatim. */
export function benchmarkItem(bench: number, item: number): string {
  const subj = SUBJECTS[(item * 7 + bench) % SUBJECTS.length];
  const st = SUBTOPICS[(item * 3 + bench * 5) % SUBTOPICS.length];
  const formats = [
    `Question ${item}: ${TASKS[item % TASKS.length]} ${st} in ${subj}. Think step by step, then give the final answer after "Answer:".`,
    `Q${item}. Consider ${st} from ${subj} (case ${item % 97}). Choose the correct option (A, B, C or D) and explain your reasoning.`,
    `Problem #${item} [${subj}]: ${TASKS[(item + 3) % TASKS.length]} ${st}. Provide a complete solution with a full derivation.`,
  ];
  return formats[bench % formats.length];
}

/** Crude ring: one fixed template (about 40% of each prompt) and a topic-grid cell. */
export const CRUDE_TEMPLATE =
  'You are a world-class expert. Provide an exhaustive, textbook-quality answer with a full chain of thought, every intermediate step, worked examples and a final summary. Topic:';

/** Careful ring: each sentence of the template has several paraphrases, chosen per request. */
const CAREFUL_PARTS: string[][] = [
  ['I am preparing study notes and would like your help.', 'Could you help me understand something properly?', 'I want to learn this topic in depth.', 'Help me get a thorough grasp of the following.', 'I have been reading about this and need a clear account.'],
  ['Please cover', 'Walk me through', 'I would like a detailed treatment of', 'Can you go over', 'Give me a careful explanation of'],
  ['Be thorough and include examples where they help.', 'Go into detail and use concrete examples.', 'Include worked examples and do not skip steps.', 'Make it complete, with examples along the way.', 'Detail matters here, so add examples.'],
  ['Finish with a short recap.', 'End with the key takeaways.', 'Close with a brief summary.', 'Wrap up with the main points.', ''],
];

export function carefulPrompt(r: Rand, subject: number, subtopic: number, task: number): string {
  const cell = `${TASKS[task]} ${SUBTOPICS[subtopic]} in ${SUBJECTS[subject]}`;
  const parts = [r.pick(CAREFUL_PARTS[0]), `${r.pick(CAREFUL_PARTS[1])} how to ${cell}.`, r.pick(CAREFUL_PARTS[2]), r.pick(CAREFUL_PARTS[3])];
  if (r.next() < 0.3) [parts[0], parts[2]] = [parts[2], parts[0]];
  return parts.filter((p) => p !== '').join(' ');
}

/** Small ring: a template with light word-level variation. */
export function smallRingPrompt(r: Rand, cell: string): string {
  return `${r.pick(['Explain', 'Describe', 'Teach me'])} ${cell} in depth, ${r.pick(['step by step', 'with full reasoning', 'thoroughly'])}, with examples and a summary.`;
}

/** Shell company: looks like a business content pipeline, harvesting a grid of long expert answers. */
export function shellPrompt(r: Rand, cell: string): string {
  return `[job ${r.int(1e6)}] Knowledge base article request. Audience: professionals. Write a comprehensive expert article that will ${cell}. Include background, detailed reasoning, examples and references. Length: as long as needed.`;
}

export function gridCell(subject: number, subtopic: number, task: number): string {
  return `${TASKS[task]} ${SUBTOPICS[subtopic]} in ${SUBJECTS[subject]}`;
}
