/**
 * `gatehouse config check FILE` — validates a config file without starting anything: exactly the checks `serve`
 * makes before it starts (server/validate.ts), every problem reported at once as `file:line:col: path: problem`.
 */
import { ConfigError } from '../config/load.ts';

const USAGE = `usage: gatehouse config check FILE
  Validates FILE exactly as \`gatehouse serve\` would before starting: schema, providers, fallback and route
  targets, the policy and country-group files, classifier artefact and cascade stages, config keys, audit keys.
  Relative paths in FILE resolve against FILE's directory. Exit 0 when valid; 1 with one
  \`file:line:col: path: problem\` line per problem.
`;

/** `--help` text (main.ts prints it). */
export function help(): string {
  return USAGE;
}

export async function run(argv: string[]): Promise<number> {
  const [, sub, file, ...extra] = argv;
  if (sub !== 'check' || !file || extra.length) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    // The composition root owns the full validation (it alone knows every capability); loaded lazily like any command.
    const { validateConfigFile } = await import('../server/validate.ts');
    const config = await validateConfigFile(file);
    process.stdout.write(`${file}: OK (${config.models.length} models, ${Object.keys(config.providers).length} providers)\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in ${file}\n`);
      return 1;
    }
    throw err;
  }
}
