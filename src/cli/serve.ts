/**
 * `gatehouse serve --config FILE [--port N] [--host H]` — runs the gateway until SIGTERM/SIGINT.
 * SIGHUP reloads the config file; a bad file is rejected and the running config keeps serving.
 */
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.ts';
import { composeGateway } from '../server/compose.ts';

const USAGE = `usage: gatehouse serve --config FILE [--port N] [--host H]
  Runs the gateway. --config defaults to $GATEHOUSE_CONFIG; --port and --host override server.port and server.host.
  SIGHUP re-reads the config (a bad file is rejected, the running config keeps serving); SIGTERM or SIGINT stop
  accepting, let in-flight requests finish (server.shutdownGraceMs) and exit.
`;

/** `--help` text (main.ts prints it). */
export function help(): string {
  return USAGE;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv.slice(1),
    options: { config: { type: 'string', short: 'c' }, port: { type: 'string' }, host: { type: 'string' } },
    strict: true,
  });
  const configPath = values.config ?? process.env.GATEHOUSE_CONFIG;
  if (!configPath) {
    process.stderr.write(USAGE);
    return 2;
  }
  let composed;
  try {
    composed = await composeGateway({
      configPath,
      ...(values.port !== undefined ? { port: Number(values.port) } : {}),
      ...(values.host !== undefined ? { host: values.host } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`gatehouse: invalid config\n${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const { gateway } = composed;
  process.stderr.write(nextSteps(gateway.url, configPath, gateway.config.admin.tokenEnv, Boolean(process.env[gateway.config.admin.tokenEnv])));
  process.on('SIGHUP', () => {
    void gateway.reload();
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      gateway.logger.info({ signal }, 'shutting down');
      const grace = setTimeout(() => process.exit(0), gateway.config.server.shutdownGraceMs);
      grace.unref();
      composed.close().then(resolve, resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

/** How this CLI was invoked, so the printed commands can be pasted as they are. */
function cliCommand(): string {
  const script = process.argv[1] ?? '';
  if (script.endsWith('.ts')) return 'npm run gatehouse --';
  const rel = relative(process.cwd(), script);
  return `node ${rel.startsWith('..') || rel === '' ? script : rel}`;
}

/**
 * Printed once the gateway listens (to stderr; stdout carries the JSON log): where it is, whether the admin API is
 * on and which variable turns it on, and how to get a key and make a first call.
 */
export function nextSteps(url: string, configPath: string, tokenEnv: string, adminOn: boolean): string {
  const cli = cliCommand();
  return [
    '',
    `Gatehouse is listening on ${url}   (config: ${configPath}; Ctrl-C stops it, SIGHUP reloads the config)`,
    adminOn
      ? `  admin API  on: ${url}/admin/v1/…  with  Authorization: Bearer $${tokenEnv}`
      : `  admin API  off: set ${tokenEnv} to a secret token and restart to turn it on (e.g. ${tokenEnv}=$(openssl rand -hex 24))`,
    `  a key      ${cli} keys create --config ${configPath} --account alice --nationality US --residence US`,
    `             export GATEHOUSE_KEY=gh_…   (the secret it prints, once)`,
    `  a call     curl -s ${url}/v1/chat/completions -H "Authorization: Bearer $GATEHOUSE_KEY" \\`,
    `               -H 'content-type: application/json' -d '{"model":"frontier","messages":[{"role":"user","content":"Hello"}]}'`,
    `  help       ${cli} --help`,
    '',
    '',
  ].join('\n');
}
