/**
 * Smart batching: sort a window of texts by token length and cut batches under a token budget, so
 * short texts are not padded to the length of long ones. Pure and deterministic.
 */

export interface BatchLimits {
  /** Maximum rows in one batch. */
  batchSize: number;
  /** Maximum padded tokens (rows x longest row) in one batch. */
  maxTokens: number;
}

/**
 * Returns batches as lists of indices into `lengths`, longest texts first. Every index appears exactly
 * once. A single text longer than the budget still gets a batch of its own.
 */
export function planBatches(lengths: readonly number[], limits: BatchLimits): number[][] {
  // Stable sort by descending length: ties keep input order, so plans are reproducible.
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const batches: number[][] = [];
  let current: number[] = [];
  let currentWidth = 0;
  for (const index of order) {
    const width = Math.max(currentWidth, lengths[index]!, 1);
    const fits = current.length < limits.batchSize && width * (current.length + 1) <= limits.maxTokens;
    if (current.length > 0 && !fits) {
      batches.push(current);
      current = [];
      currentWidth = 0;
    }
    current.push(index);
    currentWidth = Math.max(currentWidth, lengths[index]!, 1);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
