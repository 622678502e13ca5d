/** Binary search in a sorted run of an Int32Array (neighbour rows, sampled rows). */

/** The index of `value` in sorted[from..to), or -1 when it is not there. */
export function indexInSorted(sorted: Int32Array, value: number, from = 0, to = sorted.length): number {
  let lo = from;
  let hi = to - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid]!;
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
