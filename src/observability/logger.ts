/**
 * Structured JSON logs via pino. Asynchronous destination: a log line must not cost a syscall on the hot
 * path. Anything that could carry a secret (authorization headers, api keys) is censored by path as a
 * second line of defence; the first is never logging headers or bodies at all.
 */
import pino, { type Logger } from 'pino';

const CENSOR = '[redacted]';
const SECRET_KEYS = ['apiKey', 'secret'] as const;
const HEADER_KEYS = ['authorization', 'x-api-key'] as const;

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object';
}

/** Returns `o` with `keys` censored where present, copying only when something is censored. */
function censorKeys(o: Obj, keys: readonly string[]): Obj {
  let out: Obj | undefined;
  for (const k of keys) {
    if (o[k] !== undefined) (out ??= Array.isArray(o) ? ([...o] as unknown as Obj) : { ...o })[k] = CENSOR;
  }
  return out ?? o;
}

/**
 * Censors the credential paths `apiKey`, `secret`, `*.apiKey`, `*.secret`, `headers.authorization`,
 * `headers["x-api-key"]`, `req.headers.authorization` and `req.headers["x-api-key"]`. Never mutates the logged
 * object (copy on write). This replaces pino's generic `redact` option, which cost about 3 µs on every log line
 * (the per-request line included) whether or not anything matched; here a line with no nested objects costs a
 * loop over its keys.
 */
export function censorSecrets(obj: Obj): Obj {
  let out = censorKeys(obj, SECRET_KEYS);
  for (const k in obj) {
    const v = obj[k];
    if (!isObject(v)) continue;
    let next = censorKeys(v, SECRET_KEYS);
    if (k === 'headers') next = censorKeys(next, HEADER_KEYS);
    else if (k === 'req' && isObject(next.headers)) {
      const headers = censorKeys(next.headers, HEADER_KEYS);
      if (headers !== next.headers) next = { ...next, headers };
    }
    if (next !== v) {
      if (out === obj) out = { ...obj };
      out[k] = next;
    }
  }
  return out;
}

export function createLogger(level: string, destination: pino.DestinationStream | number = 1): Logger {
  const dest = typeof destination === 'number' ? pino.destination({ dest: destination, sync: false }) : destination;
  const logger = pino(
    {
      level,
      base: { service: 'gatehouse' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        bindings: censorSecrets,
        log: censorSecrets,
      },
    },
    dest,
  );
  // pino applies the bindings formatter to the base bindings only; child bindings are censored here (children
  // inherit this method from the root instance).
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, censorSecrets(bindings), options);
  } as Logger['child'];
  return logger;
}
