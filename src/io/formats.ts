/**
 * Format detection from file names. Explicit flags always win; these functions only guess from the
 * extension and return undefined when they cannot tell, so each command decides its own default
 * (e.g. encode may read stdin as txt, while a vector reader must insist on a flag).
 */


export type TextFormat = 'csv' | 'tsv' | 'jsonl' | 'txt';
export type VectorFormat = 'parquet' | 'arrow' | 'arrow-stream' | 'jsonl';

export const TEXT_FORMATS: readonly TextFormat[] = ['csv', 'tsv', 'jsonl', 'txt'];
export const VECTOR_FORMATS: readonly VectorFormat[] = ['parquet', 'arrow', 'arrow-stream', 'jsonl'];

/** The name for stdin in paths and error messages. */
export const STDIN = '-';
export const STDIN_NAME = '<stdin>';

const TEXT_EXTENSIONS: Record<string, TextFormat> = {
  csv: 'csv',
  tsv: 'tsv',
  tab: 'tsv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  txt: 'txt',
};

const VECTOR_EXTENSIONS: Record<string, VectorFormat> = {
  parquet: 'parquet',
  arrow: 'arrow',
  feather: 'arrow',
  ipc: 'arrow',
  arrows: 'arrow-stream',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
};

/** True for "x.csv.gz": the input is gzip-compressed and is decompressed while streaming. */
export function isGzipPath(path: string): boolean {
  return path !== STDIN && /\.gz$/i.test(path);
}

/** Lower-case extension after removing a trailing ".gz" ("a/b.CSV.gz" -> "csv"); '' when none. */
function extensionOf(path: string): string {
  const base = path.replace(/\.gz$/i, '').split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

/** Text format implied by the file name, or undefined for stdin and unknown extensions. */
export function detectTextFormat(path: string): TextFormat | undefined {
  if (path === STDIN) return undefined;
  return TEXT_EXTENSIONS[extensionOf(path)];
}

/** Vector format implied by the file name, or undefined for stdin and unknown extensions. */
export function detectVectorFormat(path: string): VectorFormat | undefined {
  if (path === STDIN) return undefined;
  return VECTOR_EXTENSIONS[extensionOf(path)];
}

export function isTextFormat(value: string): value is TextFormat {
  return (TEXT_FORMATS as readonly string[]).includes(value);
}

export function isVectorFormat(value: string): value is VectorFormat {
  return (VECTOR_FORMATS as readonly string[]).includes(value);
}
