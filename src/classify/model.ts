/**
 * The linear model: one weight row per hashed feature slot, K = KT topic logits (softmax) + 1 jailbreak logit
 * (sigmoid), laid out slot-major (w[slot*K + k]) so scoring touches one cache line per feature.
 *
 * Artefact format (little-endian): magic "GHCL" | u32 version | u32 headerLen | JSON header | pad to 4 |
 * Float32 biases[K] | Float32 weights[dim*K]. The header carries labels, hash bits and the training metadata; a
 * SHA-256 of the weight bytes in the header is checked at load so a corrupt file fails at start-up.
 */
import { createHash } from 'node:crypto';
import { ALL_LABELS, TOPIC_LABELS } from './labels.ts';

export const K = ALL_LABELS.length;
export const KT = TOPIC_LABELS.length;
const MAGIC = 0x4c434847; // "GHCL"
const VERSION = 2; // 2: n2 normaliser and view pooling (pipeline.ts); a version-1 artefact scores differently

export interface ModelHeader {
  bits: number;
  labels: readonly string[];
  sha256: string;
  trainedAt?: string;
  meta?: Record<string, unknown>;
}

export class LinearModel {
  constructor(
    readonly bits: number,
    readonly weights: Float32Array,
    readonly bias: Float32Array,
    public meta: Record<string, unknown> = {},
  ) {
    if (weights.length !== (1 << bits) * K) throw new Error(`model: weights length ${weights.length} != ${(1 << bits) * K}`);
    if (bias.length !== K) throw new Error(`model: bias length ${bias.length} != ${K}`);
  }

  static zeros(bits: number): LinearModel {
    return new LinearModel(bits, new Float32Array((1 << bits) * K), new Float32Array(K));
  }

  /** Raw logits for a sparse vector given as (touched slots, dense values). `out` has length K. */
  logits(touched: Int32Array, count: number, values: Float32Array, out: Float64Array): void {
    const w = this.weights;
    for (let k = 0; k < K; k++) out[k] = this.bias[k];
    for (let i = 0; i < count; i++) {
      const slot = touched[i];
      const v = values[slot];
      const base = slot * K;
      for (let k = 0; k < K; k++) out[k] += w[base + k] * v;
    }
  }

  serialize(): Buffer {
    const weightBytes = Buffer.from(this.weights.buffer, this.weights.byteOffset, this.weights.byteLength);
    const biasBytes = Buffer.from(this.bias.buffer, this.bias.byteOffset, this.bias.byteLength);
    const sha = createHash('sha256').update(biasBytes).update(weightBytes).digest('hex');
    const header: ModelHeader = { bits: this.bits, labels: ALL_LABELS, sha256: sha, meta: this.meta };
    let json = Buffer.from(JSON.stringify(header), 'utf8');
    const pad = (4 - ((12 + json.length) % 4)) % 4;
    json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
    const head = Buffer.alloc(12);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt32LE(VERSION, 4);
    head.writeUInt32LE(json.length, 8);
    return Buffer.concat([head, json, biasBytes, weightBytes]);
  }

  /** Parses and verifies an artefact; throws a message that names the problem. */
  static deserialize(buf: Buffer, source = 'model'): LinearModel {
    if (buf.length < 12) throw new Error(`${source}: classifier artefact too short (${buf.length} bytes)`);
    if (buf.readUInt32LE(0) !== MAGIC) throw new Error(`${source}: not a Gatehouse classifier artefact (bad magic)`);
    const version = buf.readUInt32LE(4);
    if (version !== VERSION) throw new Error(`${source}: unsupported classifier artefact version ${version}`);
    const hlen = buf.readUInt32LE(8);
    if (12 + hlen > buf.length) throw new Error(`${source}: truncated header`);
    let header: ModelHeader;
    try {
      header = JSON.parse(buf.subarray(12, 12 + hlen).toString('utf8')) as ModelHeader;
    } catch (e) {
      throw new Error(`${source}: header is not JSON (${(e as Error).message})`);
    }
    if (!Number.isInteger(header.bits) || header.bits < 4 || header.bits > 24) throw new Error(`${source}: bad hash bits ${header.bits}`);
    if (JSON.stringify(header.labels) !== JSON.stringify(ALL_LABELS))
      throw new Error(
        `${source}: label set ${JSON.stringify(header.labels)} does not match this build ${JSON.stringify(ALL_LABELS)} (an artefact trained for another label set; retrain with \`gatehouse train\`)`,
      );
    const start = 12 + hlen;
    const expected = start + 4 * K + 4 * K * (1 << header.bits);
    if (buf.length !== expected) throw new Error(`${source}: size ${buf.length} bytes, expected ${expected} (truncated or corrupt)`);
    const sha = createHash('sha256').update(buf.subarray(start)).digest('hex');
    if (sha !== header.sha256) throw new Error(`${source}: checksum mismatch (corrupt artefact)`);
    // Copy into aligned arrays (the Buffer's offset may not be 4-aligned).
    const floats = new Float32Array(new Uint8Array(buf.subarray(start)).buffer);
    return new LinearModel(header.bits, floats.slice(K), floats.slice(0, K), header.meta ?? {});
  }
}
