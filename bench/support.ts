/** Process helpers shared by the benchmarks: start a server and learn its port, create a key through the CLI. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** Starts a TypeScript entry point whose stdout announces `LISTENING <port>` or the gateway's `"url"` log line. */
export function startProcess(args: string[], env: Record<string, string> = {}): Promise<{ proc: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /LISTENING (\d+)/.exec(buf) ?? /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(buf);
      if (m) {
        proc.stdout!.removeAllListeners('data');
        proc.stdout!.resume();
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${buf}`)));
  });
}

/**
 * The gateway writes one log line per request. Its stdout goes to a file, not a pipe into this process: reading
 * ~1,000 lines/s here would cost the load generator CPU on the same 2 cores and skew every target's figures.
 */
export function startLoggingToFile(args: string[], logPath: string): Promise<{ proc: ChildProcess; port: number }> {
  const fd = openSync(logPath, 'w');
  const proc = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(readFileSync(logPath, 'utf8'));
      if (m) {
        clearInterval(poll);
        resolve({ proc, port: Number(m[1]) });
      }
    }, 50);
    proc.on('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`${args.join(' ')} exited with ${code}: ${readFileSync(logPath, 'utf8')}`));
    });
  });
}

/** Creates an API key through `gatehouse keys create` and returns its secret. */
export function createKey(configPath: string, account: string): string {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'keys', 'create', '--config', configPath, '--account', account, '--nationality', 'US', '--json'], { encoding: 'utf8' });
  return (JSON.parse(out) as { secret: string }).secret;
}
