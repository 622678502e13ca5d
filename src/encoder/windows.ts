/**
 * Cuts a record stream into the windows the encoder length-sorts and batches. A window is a barrier
 * (none of its rows can go out before it is read), so for output read as it comes the first window is
 * small and windows grow, and a window also ends when the input stalls: a slow writer on stdin gets
 * each row back soon after it sends it, instead of at the end of the input.
 */

export interface WindowPlan {
  /** Records in the first window. */
  first: number;
  /** Windows double from `first` up to this many records. */
  max: number;
  /** End a non-empty window when no record came for this many milliseconds (undefined: never). */
  stallMs?: number;
}

const STALLED = Symbol('stalled');

export async function* readWindows<R>(records: AsyncIterable<R> | Iterable<R>, plan: WindowPlan): AsyncGenerator<R[]> {
  const iterator = toAsyncIterator(records);
  // A read the stall timer gave up waiting for: it belongs to the next window, never lost or repeated.
  let pending: Promise<IteratorResult<R>> | undefined;
  let size = Math.max(1, Math.min(plan.first, plan.max));
  let ended = false;
  try {
    while (!ended) {
      const window: R[] = [];
      while (window.length < size) {
        pending ??= iterator.next();
        const next = window.length > 0 && plan.stallMs !== undefined ? await withStall(pending, plan.stallMs) : await pending;
        if (next === STALLED) break;
        pending = undefined;
        if (next.done === true) {
          ended = true;
          break;
        }
        window.push(next.value);
      }
      if (window.length > 0) yield window;
      size = Math.min(size * 2, plan.max);
    }
  } finally {
    // Stopped early (an error, or the reader of the output went away). A read still waiting on a slow
    // stdin would hold return() until the next line comes, so it is not awaited.
    if (!ended) {
      if (pending === undefined) await iterator.return?.();
      else void iterator.return?.()?.catch(() => {});
    }
  }
}

/** The read's result, or STALLED when it takes longer than `ms`. */
function withStall<T>(read: Promise<T>, ms: number): Promise<T | typeof STALLED> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<typeof STALLED>((resolve) => {
    timer = setTimeout(() => resolve(STALLED), ms);
  });
  return Promise.race([read, stalled]).finally(() => clearTimeout(timer));
}

function toAsyncIterator<R>(records: AsyncIterable<R> | Iterable<R>): AsyncIterator<R> {
  if (Symbol.asyncIterator in records) return (records as AsyncIterable<R>)[Symbol.asyncIterator]();
  const sync = (records as Iterable<R>)[Symbol.iterator]();
  return {
    next: async () => sync.next(),
    return: async () => sync.return?.() ?? {done: true, value: undefined},
  };
}
