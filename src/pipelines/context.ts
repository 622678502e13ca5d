/**
 * src/pipelines: one module per command, each wiring source -> encoder -> algorithm -> sink and
 * returning a typed result (counts, paths, figures). Commands only turn flags into options, call
 * one pipeline and hand its result to the base command to render; library users call the same
 * functions.
 *
 * What a pipeline needs from whoever runs it comes in as PipelineServices, built once per run: the
 * model loader (so inputs are checked before a model is loaded or downloaded), progress display,
 * and the status and warning channels. The CLI draws bars and lines; `quietServices` does nothing.
 */
import type {SentenceEncoder} from '../encoder/types.js';
import type {InputPosition} from '../io/input/open-input.js';

export interface Progress {
  /** Adds finished units. */
  increment(units: number): void;
  stop(): void;
}

export interface PipelineServices {
  /** Loads the encoder; pipelines call it only after their inputs and outputs are checked. */
  loadEncoder(): Promise<SentenceEncoder>;
  /**
   * A progress display for `unit`s of work; `total` when known (for a percentage and ETA), else
   * `options.position` (bytes of a file read so far and its size) gives the percentage and ETA.
   */
  progress(label: string, unit: string, total?: number, options?: ProgressOptions): Progress;
  /** A line for a human watching (e.g. "reading texts from the terminal"); not data, not a warning. */
  status(message: string): void;
  /** Something the user should know that does not fail the run; the JSON envelope lists them. */
  warn(message: string): void;
}

export interface ProgressOptions {
  /** How far reading the input file has got: the bar's measure when the number of units is unknown. */
  position?: () => InputPosition;
}

const NO_PROGRESS: Progress = {increment() {}, stop() {}};

/** Services that draw nothing: for library users and tests. */
export function quietServices(loadEncoder: () => Promise<SentenceEncoder>): PipelineServices {
  return {loadEncoder, progress: () => NO_PROGRESS, status() {}, warn() {}};
}

/** Seconds since `started` (a performance.now() reading), to the millisecond. */
export function secondsSince(started: number): number {
  return Number(((performance.now() - started) / 1000).toFixed(3));
}
