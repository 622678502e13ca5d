/**
 * One batch of tokenized texts on its way to ONNX Runtime: packed end to end on the main thread
 * (packBatch: small, transferable typed arrays), then right-padded to int64 model inputs where the
 * session runs (padBatch, in the worker), so the main thread does only the cheap half.
 */
import type {TokenizedText} from './tokenize.js';

/** Which int32 word of an int64 holds the low bits on this machine. */
const LOW = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH = 1 - LOW;

/** Token ids of a batch's rows end to end, unpadded. */
export interface TokenBatch {
  rows: number;
  /** Real token count per row. */
  lengths: Int32Array;
  /** Row r's ids are ids[sum(lengths[0..r-1]) ..] (lengths[r] of them). */
  ids: Int32Array;
  /** Laid out as ids; only when the session wants token_type_ids. */
  typeIds?: Int32Array;
}

/** Right-padded int64 model inputs, [rows, seqLen] each. */
export interface BatchInput {
  rows: number;
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds?: BigInt64Array;
}

export function packBatch(texts: readonly TokenizedText[], withTokenTypeIds: boolean): TokenBatch {
  const rows = texts.length;
  const lengths = new Int32Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) total += lengths[r] = texts[r]!.ids.length;
  const ids = new Int32Array(total);
  const typeIds = withTokenTypeIds ? new Int32Array(total) : undefined;
  let at = 0;
  for (const t of texts) {
    const n = t.ids.length;
    for (let j = 0; j < n; j++) ids[at + j] = t.ids[j]!;
    // A tokenizer without type ids leaves them 0, the single-sequence type.
    if (typeIds && t.typeIds) for (let j = 0; j < n; j++) typeIds[at + j] = t.typeIds[j]!;
    at += n;
  }
  return typeIds ? {rows, lengths, ids, typeIds} : {rows, lengths, ids};
}

export function padBatch(batch: TokenBatch, padId: number, withTokenTypeIds: boolean): BatchInput {
  const {rows, lengths, ids, typeIds} = batch;
  // A batch of only empty texts still needs one column for the graph; it is masked out.
  let seqLen = 1;
  for (let r = 0; r < rows; r++) seqLen = Math.max(seqLen, lengths[r]!);
  const inputIds = new BigInt64Array(rows * seqLen);
  const attentionMask = new BigInt64Array(rows * seqLen);
  const tokenTypeIds = withTokenTypeIds ? new BigInt64Array(rows * seqLen) : undefined;
  // Ids fit in 32 bits: write each int64 as two int32 words through a view, instead of one BigInt()
  // allocation per token (measurable on short texts, where per-token overhead dominates).
  const ids32 = new Int32Array(inputIds.buffer);
  const mask32 = new Int32Array(attentionMask.buffer);
  const types32 = tokenTypeIds && new Int32Array(tokenTypeIds.buffer);
  const padHigh = padId < 0 ? -1 : 0;
  let from = 0;
  for (let r = 0; r < rows; r++) {
    const n = lengths[r]!;
    let k = 2 * r * seqLen;
    for (let j = 0; j < n; j++, k += 2) {
      const id = ids[from + j]!;
      ids32[k + LOW] = id;
      ids32[k + HIGH] = id < 0 ? -1 : 0;
      mask32[k + LOW] = 1;
      if (types32 && typeIds) types32[k + LOW] = typeIds[from + j]!;
    }
    for (let j = n; j < seqLen; j++, k += 2) {
      ids32[k + LOW] = padId;
      ids32[k + HIGH] = padHigh;
    }
    from += n;
  }
  return {rows, seqLen, inputIds, attentionMask, tokenTypeIds};
}

/** packBatch then padBatch, in one place (tests and the benchmark's stage profile). */
export function buildBatchInput(texts: readonly TokenizedText[], padId: number, withTokenTypeIds: boolean): BatchInput {
  return padBatch(packBatch(texts, withTokenTypeIds), padId, withTokenTypeIds);
}
