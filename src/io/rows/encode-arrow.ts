/**
 * Arrow IPC file / stream encoder. apache-arrow's writers push their bytes into an internal
 * AsyncByteQueue that nothing drains until the writer is closed, which would hold the whole output in
 * memory. Handing the writer a queue subclass that just collects chunks lets each batch's bytes be
 * written to the sink (with backpressure) right after the batch is serialized.
 */
import {AsyncByteQueue, RecordBatchFileWriter, RecordBatchStreamWriter} from 'apache-arrow';
import type {OutputSink} from '../output/atomic-output.js';
import {arrowBatch, arrowSchema} from './arrow-columns.js';
import type {BatchEncoder, RowSchema} from './types.js';

class ChunkCollector extends AsyncByteQueue {
  chunks: Uint8Array[] = [];

  override write(value: unknown): void {
    // RecordBatchWriter only ever writes Uint8Arrays (it converts before calling the sink).
    if (!(value instanceof Uint8Array)) throw new TypeError('unexpected chunk type from the Arrow writer');
    if (value.byteLength > 0) this.chunks.push(value);
  }

  take(): Uint8Array[] {
    const taken = this.chunks;
    this.chunks = [];
    return taken;
  }
}

export function arrowEncoder(sink: OutputSink, schema: RowSchema, kind: 'file' | 'stream'): BatchEncoder {
  const arrow = arrowSchema(schema);
  const writer = kind === 'file' ? new RecordBatchFileWriter() : new RecordBatchStreamWriter();
  const collector = new ChunkCollector();
  writer.reset(collector);
  let batches = 0;

  const drain = async (): Promise<void> => {
    for (const chunk of collector.take()) await sink.write(chunk);
  };

  return {
    async encode(rows) {
      writer.write(arrowBatch(arrow, schema, rows));
      batches++;
      await drain();
    },
    async finish() {
      // A file with no batch would have no schema either; an empty batch makes a valid 0-row file.
      if (batches === 0) writer.write(arrowBatch(arrow, schema, []));
      writer.close();
      await drain();
    },
    async abort() {
      collector.take();
    },
  };
}
