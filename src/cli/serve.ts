/**
 * `gatehouse serve --config FILE [--port N] [--host H]` — runs the gateway until SIGTERM/SIGINT.
 * SIGHUP reloads the config file; a bad file is rejected and the running config keeps serving.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/load.ts';
import { composeGateway } from '../server/compose.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv.slice(1),
    options: { config: { type: 'string', short: 'c' }, port: { type: 'string' }, host: { type: 'string' } },
    strict: true,
  });
  const configPath = values.config ?? process.env.GATEHOUSE_CONFIG;
  if (!configPath) {
    process.stderr.write('usage: gatehouse serve --config FILE [--port N] [--host H]\n');
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
