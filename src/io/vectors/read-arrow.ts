/**
 * Arrow IPC file and stream reading with apache-arrow's RecordBatchReader, one batch at a time.
 * Files are read through a FileHandle (random access: the reader detects file vs stream format
 * itself). From stdin or a pipe the stream format is read as it arrives; the file format is spooled
 * to a temp file first, because from a plain stream apache-arrow would buffer the whole input.
 */
import {createReadStream} from 'node:fs';
import {open, type FileHandle} from 'node:fs/promises';
import {Readable} from 'node:stream';
import {RecordBatchReader, type RecordBatch} from 'apache-arrow';
import {SbertkitError} from '../../errors.js';
import {STDIN} from '../formats.js';
import {fileError} from '../input/open-input.js';
import type {OpenedVectors, VectorColumns} from './types.js';
import {isPipePath, spoolToTempFile, type SpooledInput} from '../input/spool-stdin.js';
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
    // stdin, or a path that is a pipe (a FIFO, `<(zcat x.gz)`), can be read only once, front to back.
    const pipe = input !== STDIN && (await isPipePath(input));
    const source = pipe ? createReadStream(input) : (stdin ?? process.stdin);
    if ((input === STDIN || pipe) && format === 'arrow-stream') {
      const readable = source instanceof Readable ? source : Readable.from(source as AsyncIterable<Buffer>);
      reader = await RecordBatchReader.from(readable);
    } else {
      let path = input;
      if (input === STDIN || pipe) {
        spool = await spoolToTempFile(source, '.arrow', file);
        path = spool.path;
      }
      try {
        handle = await open(path, 'r');
      } catch (error) {
        throw fileError(file, error);
      }
      reader = await RecordBatchReader.from(readBudget(handle, (await handle.stat()).size));
    }
    await reader.open();
    // An empty input, or one that ends before its schema, opens without error but has no schema.
    if (reader.schema === undefined || reader.schema === null) throw new SbertkitError('not Arrow IPC: the input is empty or ends before its schema', {file});
  } catch (error) {
    await close();
    throw arrowError(file, error);
  }

  let layout;
  try {
    layout = readLayout(reader.schema, file, columns.idColumn, columns.vectorColumn, schemaMetadata(reader.schema));
  } catch (error) {
    await close();
    throw arrowError(file, error);
  }
  return {
    dimension: layout.dimension,
    metadata: schemaMetadata(reader.schema),
    fieldNames: layout.fieldNames,
    precision: layout.stored.precision,
    async *batches(shape, binary) {
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
          let batch;
          try {
            batch = readBatch(next.value, layout, shape, file, offset, binary);
          } catch (error) {
            // Buffers shorter than the batch says (a damaged file) fail inside apache-arrow.
            throw arrowError(file, error);
          }
          yield batch;
          offset += next.value.numRows;
        }
      } finally {
        await close();
      }
    },
    close,
  };
}

/**
 * The file handle as apache-arrow sees it, with a cap on the bytes read and on the reads. A damaged
 * Arrow file can send apache-arrow's file reader round in a loop (a record batch block that points
 * at a message of another type is read again and again, without end). A sound read takes each byte
 * about once, in about four reads per message of at least 16 bytes, so going well over either
 * means the file is damaged.
 */
function readBudget(handle: FileHandle, size: number): FileHandle {
  let bytes = 4 * size + (1 << 20);
  let reads = 64 + size / 2;
  const guarded = {
    fd: handle.fd,
    stat: () => handle.stat(),
    close: () => handle.close(),
    read: async (buffer: Uint8Array, offset: number, length: number, position: number) => {
      bytes -= length;
      reads--;
      if (bytes < 0 || reads < 0) throw new Error('the file is damaged: reading it never ends');
      return handle.read(buffer, offset, length, position);
    },
  };
  // apache-arrow takes any object with fd and stat for a FileHandle, and calls only stat, read and close.
  return guarded as unknown as FileHandle;
}

function arrowError(file: string, error: unknown): SbertkitError {
  if (error instanceof SbertkitError) return error;
  return new SbertkitError(`cannot read Arrow IPC: ${(error as Error).message ?? String(error)}`, {file, cause: error});
}
