/**
 * embedStream for records some of which already have their vector (encode --reuse): those skip the
 * encoder, the others go through it as usual (windows, length sort, eager output), and the two are
 * merged back into input order. A known row goes out as soon as every row before it has, so the
 * eager behaviour survives: only the encoder's own read-ahead stands between input and output.
 *
 * Why a race and not a plain loop over embedStream: when a long run of rows is known, the encoder
 * reads them all (it never sees them) without yielding anything, and only the consumer side can
 * write them out meanwhile. The reader waits while more than HIGH_WATER known rows are ready to go
 * and the consumer has not taken them. Known rows behind a row still with the encoder wait in memory
 * (the record, the vector is OLD's): eager, the encoder's stall timer (200 ms without a text for it)
 * ends its window, so that is about 200 ms of reading; with whole windows (eager off, the latency
 * baseline only) a window waits for windowSize new texts, and the known rows after it wait too.
 */
import {addStats, emptyStats, type EmbeddedChunk, type EmbedStreamOptions, type EncodeStats, type SentenceEncoder} from './types.js';

/** Ready rows waiting at the head before the reader pauses. */
const HIGH_WATER = 4096;

/** One run of rows in input order: vector i is records[i]'s. */
export interface MergedChunk<R> {
  records: R[];
  vectors: Float32Array[];
  /** Stats of the rows the encoder ran on since the previous chunk (not necessarily these rows). */
  stats: EncodeStats;
  /** How many of these rows came with their vector (did not go through the encoder). */
  reused: number;
}

interface Entry<R> {
  text: string;
  record: R;
  vector: Float32Array | undefined;
  known: boolean;
}

/**
 * Streams `records` through `encoder`, except those for which `known(record)` returns a vector: those
 * are passed through with it. Chunks come in input order; `options` are embedStream's.
 */
export async function* embedStreamReusing<R extends {text: string}>(
  encoder: SentenceEncoder,
  records: AsyncIterable<R>,
  known: (record: R) => Float32Array | undefined,
  options: EmbedStreamOptions = {},
): AsyncGenerator<MergedChunk<R>> {
  // Entries not yet handed out, in input order, from `head` on (compacted now and then).
  let order: Entry<R>[] = [];
  let head = 0;
  let wakeConsumer: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  let stopped = false;
  const notify = (): void => {
    const wake = wakeConsumer;
    wakeConsumer = undefined;
    wake?.();
  };
  const release = (): void => {
    const wake = wakeReader;
    wakeReader = undefined;
    wake?.();
  };

  async function* feed(): AsyncGenerator<Entry<R>> {
    for await (const record of records) {
      if (stopped) return;
      const vector = known(record);
      const entry: Entry<R> = {text: record.text, record, vector, known: vector !== undefined};
      order.push(entry);
      if (vector === undefined) {
        yield entry;
        continue;
      }
      notify();
      // Pause only while the head is ready: then the consumer is sure to take it and release us.
      // (Were the head waiting on the encoder, the encoder might be waiting on us: no pause then.)
      while (!stopped && order.length - head > HIGH_WATER && order[head]!.vector !== undefined) {
        await new Promise<void>((resolve) => (wakeReader = resolve));
      }
    }
  }

  /** The ready rows at the head: every row up to the first one still with the encoder. */
  const takeReady = (): Entry<R>[] => {
    let end = head;
    while (end < order.length && order[end]!.vector !== undefined) end++;
    const ready = order.slice(head, end);
    head = end;
    if (head > 65_536 && head * 2 > order.length) {
      order = order.slice(head);
      head = 0;
    }
    return ready;
  };

  let stats = emptyStats();
  const chunkOf = (ready: Entry<R>[]): MergedChunk<R> => {
    const chunk: MergedChunk<R> = {records: ready.map((e) => e.record), vectors: ready.map((e) => e.vector!), stats, reused: ready.filter((e) => e.known).length};
    stats = emptyStats();
    return chunk;
  };

  const stream = encoder.embedStream(feed(), options);
  let inFlight = false;
  const pull = (): Promise<IteratorResult<EmbeddedChunk<Entry<R>>>> => {
    inFlight = true;
    const next = stream.next();
    // Raced below and awaited there; this only keeps a rejection after an early stop from going unhandled.
    next.catch(() => {});
    return next;
  };
  let next = pull();
  try {
    for (;;) {
      const ready = takeReady();
      release();
      if (ready.length > 0) {
        yield chunkOf(ready);
        continue;
      }
      const woken = new Promise<'woken'>((resolve) => (wakeConsumer = () => resolve('woken')));
      const result = await Promise.race([next, woken]);
      if (result === 'woken') continue;
      wakeConsumer = undefined;
      inFlight = false;
      if (result.done === true) break;
      next = pull();
      const embedded = result.value;
      embedded.records.forEach((entry, i) => (entry.vector = embedded.vectors.row(i)));
      addStats(stats, embedded.stats);
    }
    // The encoder has read everything: what is left is known rows after the last encoded one.
    const rest = takeReady();
    if (head !== order.length) throw new Error('embedStreamReusing: rows left without a vector after the encoder finished');
    if (rest.length > 0 || stats.rows > 0) yield chunkOf(rest);
  } finally {
    stopped = true;
    release();
    // A generator runs one step at a time: a pull still under way must settle before return() can
    // stop it (and with it the batches in flight, before the session may close). The reader stops
    // at its next record, so that pull ends with the window it was filling.
    if (inFlight) await next.then(() => undefined, () => undefined);
    await stream.return(undefined);
  }
}
