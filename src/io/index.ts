/**
 * src/io: everything that touches bytes, one folder per concern. The format of a path comes from
 * formats.ts; the folders, from the bottom up:
 *
 * - input/   a path or '-' as a byte stream (gzip, stdin and pipe spooling for Parquet/Arrow and for
 *            text inputs read twice, JSON files), strict UTF-8 decoding (utf8.ts: invalid bytes, UTF-16, onInvalidUtf8), a
 *            peek at the first line that leaves the stream whole, and physical lines with their numbers.
 * - output/  the atomic output (temp file renamed on success, devices and FIFOs written in place,
 *            quiet EPIPE on stdout, exit 74 on write failures), the output-over-input refusal,
 *            and the cleanup of temp files (at exit, and those of killed runs).
 * - text/    tabular text input: CSV/TSV/JSONL/txt rows with column checks and line spans, the texts
 *            picked from them (id, text, kept columns), and the verbatim copy of chosen rows' lines.
 *            The "file:line: column 'x' not found" lives here.
 * - sts/     the STS dataset reader (headered files and the original STS Benchmark layout).
 * - rows/    the one typed rows writer (JSONL, CSV, TSV, Parquet, Arrow) and its encoders.
 * - vectors/ vector files: the reader (records, or VectorMatrix batches) and the writer, which is
 *            the rows writer with id + kept columns + embedding.
 * - report/  the table renderer shared by reports and listings.
 * - shard/   `--shard i/N`: which rows a part holds (a stable hash of the id), and the part's manifest.
 *
 * Heavy modules (apache-arrow, parquet-wasm) are loaded only by the format modules that need them.
 * Nothing inside io/ imports this file; it is the folder's public face for src/index.ts.
 */
export {detectTextFormat, detectVectorFormat, STDIN, STDIN_NAME, TEXT_FORMATS, VECTOR_FORMATS, type TextFormat, type VectorFormat} from './formats.js';
export type {Row, TextRecord} from './text/types.js';
export type {VectorBatch, VectorRecord, VectorFileMetadata} from './vectors/types.js';
export {openRows, requireColumn, type RowSource} from './text/read-rows.js';
export {openTexts, type TextSource} from './text/read-texts.js';
export {openVectors, readVectorMatrix, type VectorSource, type VectorTable} from './vectors/read-vectors.js';
export {openVectorWriter, vectorColumns, type VectorWriter} from './vectors/write-vectors.js';
export {openRowWriter, resolveRowFormat, rowFormatFromPath, type RowWriter} from './rows/write-rows.js';
export {column, type Column, type ColumnType, type RowFormat, type TypedRow} from './rows/types.js';
export {openOutput, checkOutputWritable, type OutputSink} from './output/atomic-output.js';
export {refuseOutputOverInput} from './output/same-file.js';
export {writeTextOutput} from './output/write-text.js';
export {readStsDataset, readStsDatasets, type StsDataset} from './sts/read-sts.js';
export {INVALID_UTF8_POLICIES, type InvalidUtf8Policy} from './input/utf8.js';
export {textTable, markdownTable} from './report/table.js';
export {parseShard, formatShard, shardOf, keepShard, type Shard} from './shard/partition.js';
export {manifestPathFor, readManifest, type PartManifest, type PartModel, type PartSettings} from './shard/manifest.js';
