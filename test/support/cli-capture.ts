/**
 * Runs `main(argv)` for each argv given as JSON on the command line, in this process, capturing what each writes, and
 * prints the results as one JSON array. A separate process so the capture cannot swallow the test runner's output.
 */
import { main } from '../../src/cli/main.ts';

const runs = JSON.parse(process.argv[2] ?? '[]') as string[][];
const results: { argv: string[]; code: number; stdout: string; stderr: string }[] = [];
const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
for (const argv of runs) {
  let stdout = '';
  let stderr = '';
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(argv);
  } catch (err) {
    code = -1;
    stderr += `THREW: ${(err as Error).stack}`;
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  results.push({ argv, code, stdout, stderr });
}
write.out(JSON.stringify(results));
process.exit(0);
