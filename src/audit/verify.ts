/**
 * Offline verification of an audit log: the active file and, through its `segment` records, the rotated and
 * quarantined files it continues, oldest first, one file in memory at a time. Detects edited, deleted, reordered and inserted records and names the first bad one by seq,
 * line and byte offset. With the public key, every checkpoint's Ed25519 signature is checked too, which is
 * what stops someone who can edit the file from simply re-hashing the whole chain after an edit: such a
 * rewrite cannot produce valid signatures for the checkpoints already issued.
 */
import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, scanChain, type AuditLine, type BadRecord, type ChainHead } from './chain.ts';
import { chainFiles } from './files.ts';
import { loadPublicKey, verifyCheckpoint } from './signing.ts';

export interface VerifyResult {
  ok: boolean;
  /** Records that verified, all files together. */
  records: number;
  checkpoints: number;
  /** seq of the last record covered by a checkpoint whose signature verified (0 = none). */
  sealedThrough: number;
  /** Good records after the last verified checkpoint (could be truncated away without detection). */
  unsealed: number;
  signaturesChecked: boolean;
  head: ChainHead;
  /** Files verified, oldest first. */
  files: string[];
  firstBad: (BadRecord & { file: string }) | null;
}

function checkpointCheck(key: KeyObject | null, stats: { checkpoints: number; sealedThrough: number }) {
  return (rec: AuditLine): string | null => {
    if (rec.kind !== 'checkpoint') return null;
    if (rec.sealedSeq !== rec.seq - 1 || rec.sealedHash !== rec.prevHash) return 'checkpoint does not seal the record before it';
    if (key && !verifyCheckpoint(key, { seq: rec.sealedSeq as number, hash: rec.sealedHash as string, time: rec.time }, String(rec.signature))) {
      return 'checkpoint signature does not verify with the given public key';
    }
    stats.checkpoints++;
    if (key) stats.sealedThrough = rec.sealedSeq as number;
    return null;
  };
}

async function scanLog(path: string, key: KeyObject | null, stats: { checkpoints: number; sealedThrough: number }): Promise<{ head: ChainHead; records: number; files: string[]; firstBad: (BadRecord & { file: string }) | null }> {
  const { files, broken } = await chainFiles(path);
  let head: ChainHead = { seq: 0, hash: GENESIS_HASH };
  if (broken) return { head, records: 0, files: [path], firstBad: broken };
  let records = 0;
  const seen: string[] = [];
  for (const f of files) {
    let buf = await readFile(f.path);
    if (f.limit !== null) buf = buf.subarray(0, f.limit);
    seen.push(f.path);
    const scan = scanChain(buf, { expect: head, check: checkpointCheck(key, stats) });
    records += scan.count;
    if (scan.firstBad) return { head: scan.head, records, files: seen, firstBad: { ...scan.firstBad, file: f.path } };
    head = scan.head;
  }
  return { head, records, files: seen, firstBad: null };
}

/** Verify `path`; `publicKey` is a KeyObject or a key spec (PEM, base64 DER, file path). */
export async function verifyAudit(path: string, publicKey?: KeyObject | string | null): Promise<VerifyResult> {
  const key = publicKey == null ? null : typeof publicKey === 'string' ? loadPublicKey(publicKey) : publicKey;
  const stats = { checkpoints: 0, sealedThrough: 0 };
  const r = await scanLog(path, key, stats);
  return {
    ok: r.firstBad === null,
    records: r.records,
    checkpoints: stats.checkpoints,
    sealedThrough: stats.sealedThrough,
    unsealed: Math.max(0, r.head.seq - stats.sealedThrough - (stats.sealedThrough > 0 ? 1 : 0)),
    signaturesChecked: key !== null,
    head: r.head,
    files: r.files,
    firstBad: r.firstBad,
  };
}

export function describeBad(bad: BadRecord & { file: string }): string {
  const where = `${bad.file}: ${bad.seq !== null ? `record seq ${bad.seq}` : `record expected as seq ${bad.expectedSeq}`}` + `${bad.line !== null ? `, line ${bad.line}` : ''}, byte offset ${bad.offset}`;
  return `${where}: ${bad.reason}`;
}
