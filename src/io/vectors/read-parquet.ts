/**
 * Parquet reading with parquet-wasm, one row group at a time, from a file-backed Blob
 * (fs.openAsBlob), so only the row group being read is in memory. parquet-wasm runs in a worker
 * thread (parquet-worker.ts), where a panic on a damaged file cannot take the process down; each row
 * group crosses over as Arrow IPC bytes (transferred, not copied) and is decoded by apache-arrow.
 * stdin and pipes are spooled to a temp file first: Parquet's footer is at the end.
 */
import {createReadStream} from 'node:fs';
import {tableFromIPC} from 'apache-arrow';
import {SbertkitError} from '../../errors.js';
import {STDIN} from '../formats.js';
import {checkReadableFile} from '../input/open-input.js';
import type {OpenedVectors, VectorColumns} from './types.js';
import {isPipePath, spoolToTempFile, type SpooledInput} from '../input/spool-stdin.js';
import {readBatch, readLayout} from './arrow-read.js';
import {ParquetWorkerFile} from './parquet-client.js';

export async function openParquetVectors(
  input: string,
  file: string,
  columns: VectorColumns,
  stdin?: NodeJS.ReadableStream,
): Promise<OpenedVectors> {
  let spool: SpooledInput | undefined;
  let reader: ParquetWorkerFile | undefined;
  const close = async (): Promise<void> => {
    await reader?.close();
    reader = undefined;
    await spool?.cleanup();
  };

  let opened: ParquetWorkerFile;
  try {
    let path = input;
    if (input === STDIN) {
      spool = await spoolToTempFile(stdin ?? process.stdin, '.parquet');
      path = spool.path;
    } else if (await isPipePath(input)) {
      // A pipe has no end to seek to: copied like stdin. (Read in place, it looked like an empty file.)
      spool = await spoolToTempFile(createReadStream(input), '.parquet', file);
      path = spool.path;
    }
    await checkReadableFile(path, file);
    reader = opened = await ParquetWorkerFile.open(path);
  } catch (error) {
    await close();
    throw parquetError(file, error);
  }
  const {rowGroups, metadata} = opened.info;
  let layout;
  try {
    layout = readLayout(tableFromIPC(opened.info.schema).schema, file, columns.idColumn, columns.vectorColumn, metadata);
  } catch (error) {
    await close();
    throw parquetError(file, error);
  }

  return {
    dimension: layout.dimension,
    metadata,
    fieldNames: layout.fieldNames,
    precision: layout.stored.precision,
    async *batches(shape, binary) {
      let offset = 0;
      try {
        for (let group = 0; group < rowGroups; group++) {
          let table;
          try {
            table = tableFromIPC(await opened.readRowGroup(group));
          } catch (error) {
            throw parquetError(file, error);
          }
          for (const batch of table.batches) {
            let read;
            try {
              read = readBatch(batch, layout, shape, file, offset, binary);
            } catch (error) {
              throw parquetError(file, error);
            }
            yield read;
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
  // A wasm trap says only "unreachable": what the user needs to know is that the file is damaged.
  const reason = message === 'unreachable' ? 'the file is damaged (the Parquet decoder failed)' : message;
  return new SbertkitError(`cannot read Parquet: ${reason}`, {file, cause: error});
}
