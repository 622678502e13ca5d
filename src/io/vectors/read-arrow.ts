/**
 * Arrow IPC file and stream reading with apache-arrow's RecordBatchReader, one batch at a time.
 * Files are read through a FileHandle (random access: the reader detects file vs stream format
 * itself). From stdin the stream format is read as it arrives; the file format is spooled to a temp
 * file first, because from a plain stream apache-arrow would buffer the whole input.
 */
import {open, type FileHandle} from 'node:fs/promises';
import {Readable} from 'node:stream';
import {RecordBatchReader, type RecordBatch} from 'apache-arrow';
import {SbertkitError} from '../../errors.js';
import {STDIN} from '../formats.js';
import {fileError} from '../input/open-input.js';
import type {OpenedVectors, VectorColumns} from './types.js';
import {spoolToTempFile, type SpooledInput} from '../input/spool-stdin.js';
import type {VectorFormat} from '../formats.js';
import {readBatch, readLayout, schemaMetadata} from './arrow-read.js';

export async function openArrowVectors(
  input: string,
  file: string,
  format: VectorFormat,
  columns: VectorColumns,
  stdin?: NodeJS.ReadableStream,
): Promise<OpenedVectors> {
  let spool: SpooledInput | undefined;
  let handle: FileHandle | undefined;
  const close = async (): Promise<void> => {
    await handle?.close().catch(() => {});
    handle = undefined;
    await spool?.cleanup();
  };

  let reader: RecordBatchReader;
  try {
    const source = stdin ?? process.stdin;
    if (input === STDIN && format === 'arrow-stream') {
      const readable = source instanceof Readable ? source : Readable.from(source as AsyncIterable<Buffer>);
      reader = await RecordBatchReader.from(readable);
    } else {
      let path = input;
      if (input === STDIN) {
        spool = await spoolToTempFile(source, '.arrow');
        path = spool.path;
      }
      try {
        handle = await open(path, 'r');
      } catch (error) {
        throw fileError(file, error);
      }
      reader = await RecordBatchReader.from(handle);
    }
    await reader.open();
  } catch (error) {
    await close();
    throw arrowError(file, error);
  }

  let layout;
  try {
    layout = readLayout(reader.schema, file, columns.idColumn, columns.vectorColumn);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    dimension: layout.dimension,
    metadata: schemaMetadata(reader.schema),
    fieldNames: layout.fieldNames,
    async *batches(shape) {
      let offset = 0;
      try {
        const batches = reader as AsyncIterable<RecordBatch>;
        const iterator = batches[Symbol.asyncIterator]();
        for (;;) {
          let next: IteratorResult<RecordBatch>;
          try {
            next = await iterator.next();
          } catch (error) {
            throw arrowError(file, error);
          }
          if (next.done) break;
          yield readBatch(next.value, layout, shape, file, offset);
          offset += next.value.numRows;
        }
      } finally {
        await close();
      }
    },
    close,
  };
}

function arrowError(file: string, error: unknown): SbertkitError {
  if (error instanceof SbertkitError) return error;
  return new SbertkitError(`cannot read Arrow IPC: ${(error as Error).message ?? String(error)}`, {file, cause: error});
}
