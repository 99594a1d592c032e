#!/usr/bin/env node
/**
 * `gatehouse <command> …` — dispatches to the capability that owns the command. Each capability's CLI module
 * exports `run(argv: string[]): Promise<number>` where argv starts with the command word itself, so one module
 * can own several top-level commands (e.g. classify/ owns `train` and `calibrate`).
 * Modules are imported lazily so `gatehouse keys list` never loads the HTTP server or the classifier.
 */
import { readFileSync } from 'node:fs';

export interface CommandEntry {
  module: string;
  summary: string;
  /** Subcommands, for `--help` listings and the test that every one of them answers `--help`. */
  subcommands?: readonly string[];
}

export const COMMANDS: Record<string, CommandEntry> = {
  serve: { module: './serve.ts', summary: 'run the gateway (--config FILE)' },
  config: { module: './config.ts', summary: 'config check FILE', subcommands: ['check'] },
  keys: { module: '../identity/cli.ts', summary: 'keys create|list|show|update|revoke', subcommands: ['create', 'list', 'show', 'update', 'revoke'] },
  policy: { module: '../policy/cli.ts', summary: 'policy explain|test|check', subcommands: ['explain', 'test', 'check'] },
  directives: { module: '../policy/directives-cli.ts', summary: 'directives issue|list|show|amend|lift', subcommands: ['issue', 'list', 'show', 'amend', 'lift'] },
  licences: { module: '../policy/licences-cli.ts', summary: 'licences grant|list|show|revoke|record-export|exports|revoke-export', subcommands: ['grant', 'list', 'show', 'revoke', 'record-export', 'exports', 'revoke-export'] },
  train: { module: '../classify/cli.ts', summary: 'train the embedded classifier from JSONL datasets' },
  calibrate: { module: '../classify/cli.ts', summary: 'choose classifier thresholds from a dev set' },
  classify: { module: '../classify/cli.ts', summary: 'classify JSONL from stdin' },
  eval: { module: '../classify/cli.ts', summary: 'evaluate the classifier on labelled JSONL' },
  redteam: { module: '../redteam/cli.ts', summary: 'jailbreak evaluation: attack transforms × seeds against a target' },
  usage: { module: '../meter/cli.ts', summary: 'usage report (per key/account/org/model/day)' },
  audit: { module: '../audit/cli.ts', summary: 'audit verify|export|query|text|purge-text|keygen', subcommands: ['verify', 'export', 'query', 'text', 'purge-text', 'keygen'] },
  abuse: { module: '../abuse/cli.ts', summary: 'abuse rings|detect|serve', subcommands: ['detect', 'rings', 'serve'] },
  simulate: { module: '../abuse/cli.ts', summary: 'simulate abuse|population (traffic generators)', subcommands: ['abuse', 'population'] },
  incidents: { module: '../incidents/cli.ts', summary: 'incidents open|list|show|transition|regimes|export', subcommands: ['open', 'list', 'show', 'transition', 'regimes', 'export'] },
  'export-control': { module: '../export-control/cli.ts', summary: 'export-control report: requests served under each licence, refusals for lack of one', subcommands: ['report'] },
  screening: { module: '../screening/cli.ts', summary: 'screening check|explain|run|results|review: accounts and organisations against sanctions and denied-party lists', subcommands: ['check', 'explain', 'run', 'results', 'review'] },
  ocsf: { module: '../ocsf/cli.ts', summary: 'ocsf export: the audit log as OCSF 1.3.0 JSONL', subcommands: ['export'] },
  operators: { module: '../console/cli.ts', summary: 'operators add|list|disable: local accounts for the console and admin API', subcommands: ['add', 'list', 'disable'] },
  programmes: { module: '../programmes/cli.ts', summary: 'programmes list|show|apply|grant|reject|revoke: trusted-access programme applications and grants', subcommands: ['list', 'show', 'apply', 'grant', 'reject', 'revoke'] },
  tokens: { module: '../console/tokens-cli.ts', summary: 'tokens create|list|revoke: per-operator and per-service admin API tokens with scopes and expiry', subcommands: ['create', 'list', 'revoke'] },
  replay: { module: '../replay/cli.ts', summary: 'what a draft policy/directive/threshold change would do to recorded traffic' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`);
  return `usage: gatehouse <command> [options]\n       gatehouse <command> --help\n       gatehouse --version\n\ncommands:\n${lines.join('\n')}\n`;
}

/** The package version, read from package.json (two levels up from both src/cli and dist/cli). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** `--help` or `-h` anywhere before a `--` (after it, arguments are data). */
function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

interface CommandModule {
  run(argv: string[]): Promise<number>;
  /** Modules whose own argument parsing does not handle --help export their usage text here. */
  help?(argv: string[]): string;
}

export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage());
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`gatehouse ${version()}\n`);
    return 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`gatehouse: unknown command '${command}'\n\n${usage()}`);
    return 2;
  }
  const mod = (await import(entry.module)) as CommandModule;
  if (mod.help && wantsHelp(argv.slice(1))) {
    process.stdout.write(mod.help(argv));
    return 0;
  }
  return mod.run(argv);
}

const isEntry = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`gatehouse: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
