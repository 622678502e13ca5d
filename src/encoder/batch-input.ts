/** Right-padded int64 model inputs for one batch of tokenized texts. */
import type {BatchInput} from './onnx-session.js';
import type {TokenizedText} from './tokenize.js';

/** Which int32 word of an int64 holds the low bits on this machine. */
const LOW = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;
const HIGH = 1 - LOW;

export function buildBatchInput(texts: readonly TokenizedText[], padId: number, withTokenTypeIds: boolean): BatchInput {
  const rows = texts.length;
  // A batch of only empty texts still needs one column for the graph; it is masked out.
  const seqLen = Math.max(1, ...texts.map((t) => t.ids.length));
  const inputIds = new BigInt64Array(rows * seqLen);
  const attentionMask = new BigInt64Array(rows * seqLen);
  const tokenTypeIds = withTokenTypeIds ? new BigInt64Array(rows * seqLen) : undefined;
  // Ids fit in 32 bits: write each int64 as two int32 words through a view, instead of one BigInt()
  // allocation per token (measurable on short texts, where per-token overhead dominates).
  const ids32 = new Int32Array(inputIds.buffer);
  const mask32 = new Int32Array(attentionMask.buffer);
  const types32 = tokenTypeIds && new Int32Array(tokenTypeIds.buffer);
  texts.forEach((t, r) => {
    for (let j = 0; j < seqLen; j++) {
      const k = 2 * (r * seqLen + j);
      const real = j < t.ids.length;
      const id = real ? t.ids[j]! : padId;
      ids32[k + LOW] = id;
      ids32[k + HIGH] = id < 0 ? -1 : 0;
      mask32[k + LOW] = real ? 1 : 0;
      if (types32 && real && t.typeIds) types32[k + LOW] = t.typeIds[j]!;
    }
  });
  return {rows, seqLen, inputIds, attentionMask, tokenTypeIds};
}
