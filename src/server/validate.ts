/**
 * The one config validation `gatehouse serve` (through composeGateway, at start and on SIGHUP) and
 * `gatehouse config check` share, so a file that passes the check starts, and one that fails reports everything
 * the gateway would have refused it for, all at once, each as `file:line:col: path: problem`:
 *   - the schema and cross-references (config/load.ts): providers, fallbacks, classifier `route:` targets, the
 *     abuse `degradedModel`;
 *   - the policy: its file and country-group files exist and parse, every model it names is in the catalogue,
 *     every route target exists (reported at their own file:line:col);
 *   - identity: config keys' secret variables are set and secrets unique;
 *   - the classifier: artefact readable, cascade stages buildable (ONNX model file, onnxruntime-node installed,
 *     guard key variable set);
 *   - the audit log: signing key readable Ed25519, `textHashKey` and retention key available.
 * Each check calls the loader the capability itself uses at start-up, which is what keeps the two from diverging.
 * Relative paths were already resolved against the config file's directory by readConfigFile.
 */
import { dirname, resolve } from 'node:path';
import { loadPrivateKey } from '../audit/signing.ts';
import { hmacKeyFrom } from '../audit/record.ts';
import { parseKey } from '../audit/retention.ts';
import { classifyProblems } from '../classify/gate.ts';
import { ConfigError, readConfigFile, type ConfigProblem, type LoadedConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { configKeyEntries } from '../identity/bootstrap.ts';
import { loadRegimes } from '../incidents/regimes.ts';
import { AccessControl } from '../policy/access-control.ts';
import { PolicyValidationError } from '../core/validation.ts';
import { jsonPath } from '../core/validation.ts';

/** Loads and fully validates a config file; throws ConfigError listing every problem. */
export async function validateConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<GatewayConfig> {
  const loaded = readConfigFile(file);
  const problems = [...loaded.problems, ...(await capabilityProblems(loaded, env))];
  if (problems.length) throw new ConfigError(problems);
  return loaded.config;
}

async function capabilityProblems(loaded: LoadedConfig, env: NodeJS.ProcessEnv): Promise<ConfigProblem[]> {
  const { config, file, locate } = loaded;
  const problems: ConfigProblem[] = [];
  const at = (path: (string | number)[], message: string) => {
    const { line, column } = locate(path);
    problems.push({ file, line, column, path: jsonPath(path), message });
  };
  const models = config.models.map((m) => m.name);

  // Policy and country groups: the same AccessControl compose builds, without a store.
  try {
    const access = new AccessControl({ db: null, config: { policy: config.policy, directives: config.directives }, models, baseDir: dirname(resolve(file)) });
    await access.start();
    await access.close();
  } catch (err) {
    if (err instanceof PolicyValidationError) {
      for (const i of err.issues) {
        if (i.file) problems.push({ file: i.file, line: i.line ?? 1, column: i.col ?? 1, path: i.path, message: i.message });
        else at(['policy'], `${i.path}: ${i.message}`);
      }
    } else at(['policy'], (err as Error).message);
  }

  try {
    configKeyEntries(config.identity, env);
  } catch (err) {
    // The message names the key as `identity.keys[i].field: …`: point at that key.
    const m = /^identity\.keys\[(\d+)\](?:\.(\w+))?: (.*)$/s.exec((err as Error).message);
    if (m) at(['identity', 'keys', Number(m[1]), ...(m[2] ? [m[2]] : [])], m[3]!);
    else at(['identity', 'keys'], (err as Error).message);
  }

  if (config.incidents.regimesFile) {
    try {
      loadRegimes(config.incidents.regimesFile);
    } catch (err) {
      if (err instanceof PolicyValidationError) for (const i of err.issues) problems.push({ file: i.file ?? config.incidents.regimesFile, line: i.line ?? 1, column: i.col ?? 1, path: i.path, message: i.message });
      else at(['incidents', 'regimesFile'], (err as Error).message);
    }
  }

  config.notifications.webhooks.forEach((w, i) => {
    if (w.secretEnv && !env[w.secretEnv]) at(['notifications', 'webhooks', i, 'secretEnv'], `environment variable ${w.secretEnv} (the signing secret of webhook ${w.name}) is not set`);
  });

  const kyc = config.programmes.kycWebhook;
  if (kyc && !env[kyc.secretEnv]) at(['programmes', 'kycWebhook', 'secretEnv'], `environment variable ${kyc.secretEnv} (the secret shared with the KYC provider) is not set`);

  if (config.classify && config.classify.enabled !== false) {
    for (const p of await classifyProblems(config.classify, env)) at(['classify', ...p.path], p.message);
  }

  if (config.audit) {
    const a = config.audit;
    if (a.signingKey !== undefined) {
      try {
        loadPrivateKey(a.signingKey);
      } catch (err) {
        at(['audit', 'signingKey'], `cannot load the checkpoint signing key: ${(err as Error).message} (create one with \`gatehouse audit keygen --out FILE\`)`);
      }
    }
    if (a.textHashKey !== undefined) {
      try {
        hmacKeyFrom(a.textHashKey);
      } catch (err) {
        at(['audit', 'textHashKey'], (err as Error).message);
      }
    }
    if (a.retention.enabled) {
      try {
        parseKey(a.retention.key ?? '');
      } catch (err) {
        at(['audit', 'retention', 'key'], (err as Error).message);
      }
    }
  }
  return problems;
}
