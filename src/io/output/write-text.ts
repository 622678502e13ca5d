/** Writes one finished text (a report) to a file atomically, or to stdout. */
import {openOutput, type OpenOutputOptions} from './atomic-output.js';

export async function writeTextOutput(output: string, text: string, options: OpenOutputOptions = {}): Promise<void> {
  const sink = await openOutput(output, options);
  try {
    await sink.write(text);
    await sink.commit();
  } catch (error) {
    await sink.abort();
    throw error;
  }
}
