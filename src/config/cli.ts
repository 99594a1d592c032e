/** `gatehouse config check FILE` — validates a config file without starting anything. */
import { ConfigError, loadConfigFile } from './load.ts';

export async function run(argv: string[]): Promise<number> {
  const [, sub, file] = argv;
  if (sub !== 'check' || !file) {
    process.stderr.write('usage: gatehouse config check FILE\n');
    return 2;
  }
  try {
    const config = loadConfigFile(file);
    process.stdout.write(`${file}: OK (${config.models.length} models, ${Object.keys(config.providers).length} providers)\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
