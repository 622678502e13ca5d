/** Reads a whole small JSON file (a baseline report, a config), with one-line errors naming the file. */
import {readFile} from 'node:fs/promises';
import {EXIT, SbertkitError} from '../../errors.js';

/** `what` names the file in messages: "baseline report not found". */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SbertkitError(code === 'ENOENT' ? `${what} not found` : `cannot read ${what}: ${(error as Error).message}`, {
      file: path,
      exitCode: EXIT.BAD_INPUT,
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new SbertkitError(`${what} is not valid JSON: ${(error as Error).message}`, {file: path, exitCode: EXIT.BAD_INPUT, cause: error});
  }
}
