#!/usr/bin/env node
/**
 * `gatehouse <command> …` — dispatches to the capability that owns the command. Each capability's CLI module
 * exports `run(argv: string[]): Promise<number>` where argv starts with the command word itself, so one module
 * can own several top-level commands (e.g. classify/ owns `train` and `calibrate`).
 * Modules are imported lazily so `gatehouse keys list` never loads the HTTP server or the classifier.
 */
const COMMANDS: Record<string, { module: string; summary: string }> = {
  serve: { module: './serve.ts', summary: 'run the gateway (--config FILE)' },
  config: { module: '../config/cli.ts', summary: 'config check FILE' },
  keys: { module: '../identity/cli.ts', summary: 'keys create|list|show|update|revoke' },
  policy: { module: '../policy/cli.ts', summary: 'policy explain|test|check' },
  directives: { module: '../directives/cli.ts', summary: 'directives issue|list|show|amend|lift' },
  licences: { module: '../policy/licences-cli.ts', summary: 'licences grant|list|show|revoke' },
  train: { module: '../classify/cli.ts', summary: 'train the embedded classifier from JSONL datasets' },
  calibrate: { module: '../classify/cli.ts', summary: 'choose classifier thresholds from a dev set' },
  classify: { module: '../classify/cli.ts', summary: 'classify JSONL from stdin' },
  eval: { module: '../classify/cli.ts', summary: 'evaluate the classifier on labelled JSONL' },
  redteam: { module: '../redteam/cli.ts', summary: 'jailbreak evaluation: attack transforms × seeds against a target' },
  usage: { module: '../meter/cli.ts', summary: 'usage report (per key/account/org/model/day)' },
  audit: { module: '../audit/cli.ts', summary: 'audit verify|export|query|text|purge-text' },
  abuse: { module: '../abuse/cli.ts', summary: 'abuse rings|detect' },
  simulate: { module: '../abuse/cli.ts', summary: 'simulate abuse (traffic generator)' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`);
  return `usage: gatehouse <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage());
    return command ? 0 : 2;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`gatehouse: unknown command '${command}'\n\n${usage()}`);
    return 2;
  }
  const mod = (await import(entry.module)) as { run(argv: string[]): Promise<number> };
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
