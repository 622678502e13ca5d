/**
 * Parquet reading with parquet-wasm, one row group at a time, from a file-backed Blob
 * (fs.openAsBlob), so only the row group being read is in memory. Each row group crosses from wasm
 * as Arrow IPC and is decoded by apache-arrow. stdin is spooled to a temp file first: Parquet's
 * footer is at the end.
 */
import {openAsBlob} from 'node:fs';
import {tableFromIPC} from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import {SbertkitError} from '../../errors.js';
import {STDIN} from '../formats.js';
import {checkReadableFile} from '../input/open-input.js';
import type {OpenedVectors, VectorColumns} from './types.js';
import {spoolToTempFile, type SpooledInput} from '../input/spool-stdin.js';
import {readBatch, readLayout} from './arrow-read.js';

/** parquet-wasm/arrow-rs store the Arrow schema under this key; it is not user metadata. */
const ARROW_SCHEMA_KEY = 'ARROW:schema';

export async function openParquetVectors(
  input: string,
  file: string,
  columns: VectorColumns,
  stdin?: NodeJS.ReadableStream,
): Promise<OpenedVectors> {
  let spool: SpooledInput | undefined;
  let reader: parquet.ParquetFile | undefined;
  const close = async (): Promise<void> => {
    reader?.free();
    reader = undefined;
    await spool?.cleanup();
  };

  let path = input;
  let blob: Blob;
  try {
    if (input === STDIN) {
      spool = await spoolToTempFile(stdin ?? process.stdin, '.parquet');
      path = spool.path;
    }
    await checkReadableFile(path, file);
    blob = await openAsBlob(path);
    reader = await parquet.ParquetFile.fromFile(blob);
  } catch (error) {
    await close();
    throw parquetError(file, error);
  }

  const file_ = reader;
  // wasm-side objects are freed by hand: the JS wrappers are small, so GC would not hurry to.
  const meta = file_.metadata();
  const fileMeta = meta.fileMetadata();
  const rowGroups = meta.numRowGroups();
  const metadata: Record<string, string> = {};
  for (const [key, value] of fileMeta.keyValueMetadata() as Map<string, string>) {
    if (key !== ARROW_SCHEMA_KEY) metadata[key] = value;
  }
  fileMeta.free();
  meta.free();
  const schema = tableFromIPC(file_.schema().intoIPCStream()).schema;
  let layout;
  try {
    layout = readLayout(schema, file, columns.idColumn, columns.vectorColumn);
  } catch (error) {
    await close();
    throw error;
  }

  return {
    dimension: layout.dimension,
    metadata,
    fieldNames: layout.fieldNames,
    async *batches(shape) {
      let offset = 0;
      try {
        for (let group = 0; group < rowGroups; group++) {
          let table;
          try {
            const wasmTable = await file_.read({rowGroups: [group]});
            table = tableFromIPC(wasmTable.intoIPCStream()); // intoIPCStream consumes (frees) the wasm table
          } catch (error) {
            throw parquetError(file, error);
          }
          for (const batch of table.batches) {
            yield readBatch(batch, layout, shape, file, offset);
            offset += batch.numRows;
          }
        }
      } finally {
        await close();
      }
    },
    close,
  };
}

function parquetError(file: string, error: unknown): SbertkitError {
  if (error instanceof SbertkitError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SbertkitError(`cannot read Parquet: ${message}`, {file, cause: error});
}
