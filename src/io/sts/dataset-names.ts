/**
 * Names of STS datasets, which baselines are matched by. A name depends only on its own argument,
 * never on which other files are given: a name that changed when a file was added would silently
 * drop that dataset from a --baseline comparison. So a name is the file's basename without extension
 * ("sts-test", "test"), or what the user wrote in NAME=FILE; two datasets with one name are refused.
 */
import {existsSync} from 'node:fs';
import {basename, extname} from 'node:path';
import {EXIT, SbertkitError} from '../../errors.js';
import {STDIN} from '../formats.js';

export interface NamedInput {
  name: string;
  /** The path (or '-') to read. */
  file: string;
}

/** Display name of one dataset file: basename without extension, "stdin" for '-'. */
export function datasetBaseName(input: string): string {
  if (input === STDIN) return 'stdin';
  // "sts-test.csv.gz" -> "sts-test": the compression suffix is not part of the name either.
  const base = basename(input).replace(/\.gz$/i, '');
  const ext = extname(base);
  return ext === '' ? base : base.slice(0, -ext.length);
}

/** "NAME=FILE" names a dataset explicitly, unless the whole argument is an existing file. */
function parseArgument(argument: string): NamedInput {
  const eq = argument.indexOf('=');
  if (eq > 0 && eq < argument.length - 1 && !existsSync(argument)) return {name: argument.slice(0, eq), file: argument.slice(eq + 1)};
  return {name: datasetBaseName(argument), file: argument};
}

export function namedDatasetInputs(argumentsGiven: readonly string[]): NamedInput[] {
  const inputs = argumentsGiven.map(parseArgument);
  const byName = new Map<string, NamedInput>();
  for (const input of inputs) {
    const other = byName.get(input.name);
    if (other !== undefined) {
      const example = input.file === other.file ? `${input.name}-2=${input.file}` : `${basename(dirnameOf(input.file))}-${input.name}=${input.file}`;
      throw new SbertkitError(
        `two datasets are named '${input.name}' (${other.file} and ${input.file}); name them apart with NAME=FILE, e.g. ${example}`,
        {exitCode: EXIT.BAD_INPUT},
      );
    }
    byName.set(input.name, input);
  }
  return inputs;
}

function dirnameOf(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts.length > 1 ? parts[parts.length - 2]! || 'dir' : 'dir';
}
