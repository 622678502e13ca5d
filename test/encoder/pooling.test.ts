/**
 * Batch pooling (poolBatch, run in the session worker) against a second, deliberately plain
 * implementation here: one row at a time, float64 sums in token order, max by Math.max. Mean pooling
 * must match bit for bit (same summation order, one rounding to float32), so moving pooling into the
 * worker cannot change a vector; and the whole worker path (OnnxSession.embed) must equal the graph's
 * token output pooled by that second implementation.
 */
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {before, describe, test} from 'node:test';
import {buildBatchInput, packBatch} from '../../src/encoder/batch-input.js';
import {OnnxSession} from '../../src/encoder/onnx-session.js';
import {l2Normalize, normalizeRows, poolBatch, poolTokens} from '../../src/encoder/pooling.js';
import type {PoolingMode} from '../../src/models/spec.js';
import {TINY_BERT, writeBertModelFolder} from '../helpers/bert-fixture.js';
import {tempDir} from '../helpers/tmp.js';

const MODES: PoolingMode[] = ['mean', 'cls', 'max', 'lasttoken'];

/** Row r of [rows, seqLen, dim] pooled over its first n tokens, the plain way. */
function plainPool(hidden: Float32Array, seqLen: number, dim: number, r: number, n: number, mode: PoolingMode): Float32Array {
  const at = (t: number, d: number): number => hidden[(r * seqLen + t) * dim + d]!;
  const out = new Float32Array(dim);
  if (n === 0) return out;
  for (let d = 0; d < dim; d++) {
    if (mode === 'cls') out[d] = at(0, d);
    else if (mode === 'lasttoken') out[d] = at(n - 1, d);
    else if (mode === 'max') {
      let m = -Infinity;
      for (let t = 0; t < n; t++) m = Math.max(m, at(t, d));
      out[d] = m;
    } else {
      let sum = 0;
      for (let t = 0; t < n; t++) sum += at(t, d);
      out[d] = sum / n;
    }
  }
  return out;
}

function plainNormalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (const x of v) sum += x * x;
  const norm = Math.max(Math.sqrt(sum), 1e-12);
  return v.map((x) => x / norm);
}

/** Deterministic values with a wide spread of magnitudes and signs. */
function hiddenStates(size: number): Float32Array {
  let state = 12345;
  return Float32Array.from({length: size}, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state / 2 ** 32 - 0.5) * 10 ** ((state % 5) - 2);
  });
}

describe('poolBatch', () => {
  const rows = 5;
  const seqLen = 9;
  const dim = 7;
  // Padding on the right; an empty row; a full row.
  const lengths = Int32Array.from([9, 3, 0, 1, 6]);
  const hidden = hiddenStates(rows * seqLen * dim);

  for (const mode of MODES) {
    test(`${mode}: equals the plain per-row pooling exactly, padding ignored, an empty row gives zeros`, () => {
      const pooled = poolBatch(hidden, rows, seqLen, dim, lengths, mode);
      assert.equal(pooled.length, rows * dim);
      for (let r = 0; r < rows; r++) {
        assert.deepEqual(pooled.subarray(r * dim, (r + 1) * dim), plainPool(hidden, seqLen, dim, r, lengths[r]!, mode), `row ${r}`);
      }
      // The per-row API is the same numbers, one array per row.
      assert.deepEqual(poolTokens(hidden, rows, seqLen, dim, lengths, mode), Array.from({length: rows}, (_, r) => plainPool(hidden, seqLen, dim, r, lengths[r]!, mode)));
    });
  }

  test('normalizeRows equals a plain L2 normalization of each row, and l2Normalize of each', () => {
    const pooled = poolBatch(hidden, rows, seqLen, dim, lengths, 'mean');
    const plain = Array.from({length: rows}, (_, r) => plainNormalize(pooled.slice(r * dim, (r + 1) * dim)));
    const one = Array.from({length: rows}, (_, r) => l2Normalize(pooled.slice(r * dim, (r + 1) * dim)));
    normalizeRows(pooled, dim);
    for (let r = 0; r < rows; r++) {
      assert.deepEqual(pooled.subarray(r * dim, (r + 1) * dim), plain[r], `row ${r}`);
      assert.deepEqual(pooled.subarray(r * dim, (r + 1) * dim), one[r], `row ${r}`);
    }
    // The empty row stays zero (norm clamped at 1e-12), not NaN.
    assert.deepEqual(pooled.subarray(2 * dim, 3 * dim), new Float32Array(dim));
  });
});

describe('OnnxSession.embed (what each worker runs)', () => {
  let onnxPath: string;
  before(async () => {
    const dir = await tempDir();
    await writeBertModelFolder(dir, {config: TINY_BERT, pooling: 'mean', normalize: true, maxSeqLength: 24});
    onnxPath = join(dir, 'onnx', 'model.onnx');
  });

  test('equals the graph token output of the padded batch, pooled and normalized by the plain code', async () => {
    const texts = [[2, 17, 33, 3], [2, 101, 3], [2, 5, 6, 7, 8, 9, 3], [], [2, 400, 3]].map((ids) => ({ids, truncated: false}));
    const session = await OnnxSession.create(onnxPath, {threads: 1});
    try {
      const input = buildBatchInput(texts, 0, session.wantsTokenTypeIds);
      const tokens = await session.run(input);
      assert.equal(tokens.kind, 'tokens');
      for (const mode of MODES) {
        for (const normalize of [false, true]) {
          const {data, dim} = await session.embed({tokens: packBatch(texts, session.wantsTokenTypeIds), padId: 0, pooling: mode, normalize});
          assert.equal(dim, tokens.dim);
          texts.forEach((t, r) => {
            const plain = plainPool(tokens.data, input.seqLen, dim, r, t.ids.length, mode);
            assert.deepEqual(data.subarray(r * dim, (r + 1) * dim), normalize ? plainNormalize(plain) : plain, `${mode} normalize=${normalize} row ${r}`);
          });
        }
      }
    } finally {
      await session.close();
    }
  });
});
