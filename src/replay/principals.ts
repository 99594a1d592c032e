/**
 * Principal attributes for replay. The audit log records who asked by id only (keyId, accountId, orgId), never
 * nationality, residence, KYC level, programmes or tier; replay joins them from one of:
 *   - the key store, read only (every key, revoked ones too: a recorded request was made while the key was valid);
 *   - a principals JSONL file, one principal per line in the key-creation shape plus an optional `keyId`
 *     (`{"keyId":"k1","accountId":"a1","orgId":"o1","nationalities":["US"],"kyc":"basic","tier":"general"}`).
 * A record is matched by its keyId first, then by its accountId. The attributes are today's, not those at the time
 * of the request: replay answers "what would this draft do to these callers as they are now".
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Principal } from '../core/types.ts';
import { createKeySchema } from '../identity/attributes.ts';
import type { KeyRecord } from '../identity/keys.ts';
import { PolicyValidationError, zodIssues, jsonSink, type Issue } from '../core/validation.ts';
import type { PrincipalLookup } from './engine.ts';
import { principalFromKey } from '../identity/principal.ts';


/** Index principals by key id and by account id (the first key of an account stands for it). */
export function principalIndex(principals: Iterable<Principal>): PrincipalLookup & { size: number } {
  const byKey = new Map<string, Principal>();
  const byAccount = new Map<string, Principal>();
  for (const p of principals) {
    if (p.keyId) byKey.set(p.keyId, p);
    if (!byAccount.has(p.accountId)) byAccount.set(p.accountId, p);
  }
  const lookup: PrincipalLookup = (id) => (id.keyId !== null ? byKey.get(id.keyId) : undefined) ?? (id.accountId !== null ? byAccount.get(id.accountId) : undefined);
  return Object.assign(lookup, { size: byKey.size + byAccount.size });
}

const lineSchema = createKeySchema.extend({ keyId: z.string().min(1).max(200).optional() });

/** Reads a principals JSONL file. Every bad line is reported as file:line (all of them, not just the first). */
export function principalsFromJsonl(path: string): Principal[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyValidationError([{ file: path, path: '(root)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  const out: Principal[] = [];
  const issues: Issue[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      issues.push({ file: path, line: i + 1, col: 1, path: '(root)', message: `not JSON: ${(err as Error).message}` });
      continue;
    }
    const r = lineSchema.safeParse(value);
    if (!r.success) {
      for (const is of zodIssues(r.error, jsonSink())) issues.push({ ...is, file: path, line: i + 1, col: 1 });
      continue;
    }
    const d = r.data;
    out.push(principalFromKey({ ...d, id: d.keyId ?? `account:${d.accountId}` } as unknown as KeyRecord));
    if (issues.length > 100) break;
  }
  if (issues.length) throw new PolicyValidationError(issues);
  return out;
}
