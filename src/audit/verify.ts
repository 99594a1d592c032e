/**
 * Offline verification of an audit file (and, through its `segment` records, of the quarantined files it
 * continues). Detects edited, deleted, reordered and inserted records and names the first bad one by seq,
 * line and byte offset. With the public key, every checkpoint's Ed25519 signature is checked too, which is
 * what stops someone who can edit the file from simply re-hashing the whole chain after an edit: such a
 * rewrite cannot produce valid signatures for the checkpoints already issued.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { GENESIS_HASH, scanChain, type AuditLine, type BadRecord, type ChainHead } from './chain.ts';
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

interface FileScan {
  head: ChainHead;
  records: number;
  files: string[];
  firstBad: (BadRecord & { file: string }) | null;
}

async function scanFile(path: string, limitBytes: number | null, key: KeyObject | null, stats: { checkpoints: number; sealedThrough: number }, depth: number): Promise<FileScan> {
  let buf = await readFile(path);
  if (limitBytes !== null) buf = buf.subarray(0, limitBytes);
  let expect: ChainHead = { seq: 0, hash: GENESIS_HASH };
  let prior: FileScan = { head: expect, records: 0, files: [], firstBad: null };
  const nl = buf.indexOf(10);
  if (nl > 0) {
    let first: AuditLine | null = null;
    try {
      first = JSON.parse(buf.toString('utf8', 0, nl)) as AuditLine;
    } catch {
      /* reported by the scan below */
    }
    const prev = first && first.kind === 'segment' ? (first.previous as { file?: string; goodBytes?: number } | undefined) : undefined;
    if (first && prev && typeof prev.file === 'string' && typeof prev.goodBytes === 'number' && depth < 1000) {
      const prevPath = join(dirname(path), prev.file);
      try {
        prior = await scanFile(prevPath, prev.goodBytes, key, stats, depth + 1);
      } catch (e) {
        return {
          head: expect,
          records: 0,
          files: [path],
          firstBad: { file: path, seq: first.seq, expectedSeq: first.seq, line: 1, offset: 0, reason: `the segment it continues cannot be read: ${(e as Error).message}` },
        };
      }
      if (prior.firstBad) return { ...prior, files: [...prior.files, path] };
      expect = prior.head;
    }
  }
  const scan = scanChain(buf, { expect, check: checkpointCheck(key, stats) });
  return {
    head: scan.head,
    records: prior.records + scan.count,
    files: [...prior.files, path],
    firstBad: scan.firstBad ? { ...scan.firstBad, file: path } : null,
  };
}

/** Verify `path`; `publicKey` is a KeyObject or a key spec (PEM, base64 DER, file path). */
export async function verifyAudit(path: string, publicKey?: KeyObject | string | null): Promise<VerifyResult> {
  const key = publicKey == null ? null : typeof publicKey === 'string' ? loadPublicKey(publicKey) : publicKey;
  const stats = { checkpoints: 0, sealedThrough: 0 };
  const r = await scanFile(path, null, key, stats, 0);
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
