/** Flag types shared by commands, with parse errors that oclif reports as usage errors (exit 2). */
import {Errors, Flags} from '@oclif/core';

/** A plain decimal number flag ("80", "0.5"); anything else is a usage error naming the flag. */
export const numberFlag = Flags.custom<number>({
  async parse(value: string) {
    const n = Number(value);
    // A CLIError keeps oclif's exit code 2 and its "--flag:" prefix when oclif wraps the message.
    if (value.trim() === '' || !Number.isFinite(n)) throw new Errors.CLIError(`expected a number but received: ${value}`, {exit: 2});
    return n;
  },
});

/** Flags of every command that searches vectors: which backend, and a reusable ANN index. */
export const searchFlags = {
  exact: Flags.boolean({description: 'Exact search, however large the input (the default below the ANN size threshold).', exclusive: ['ann'], helpGroup: 'SEARCH BACKEND'}),
  ann: Flags.boolean({description: 'Approximate search (usearch HNSW) even for small inputs; not for manhattan.', exclusive: ['exact'], helpGroup: 'SEARCH BACKEND'}),
  index: Flags.string({description: 'Reuse an ANN index saved with --save-index for this corpus (implies --ann).', helpGroup: 'SEARCH BACKEND'}),
  'save-index': Flags.string({description: 'Save the ANN index built for the corpus, for later runs (implies --ann).', helpGroup: 'SEARCH BACKEND'}),
};

export function searchBackend(flags: {exact?: boolean; ann?: boolean}): 'exact' | 'ann' | 'auto' {
  return flags.exact ? 'exact' : flags.ann ? 'ann' : 'auto';
}

/** CSV's field separator, for exports that use ';' or '|' (csvDelimiter checks it when the input opens). */
export const delimiterFlag = Flags.string({description: "CSV field separator: one character, e.g. ';' or '|' ('\\t' or tab for a tab) [default: ,].", helpGroup: 'INPUT'});

/** CSV/TSV/txt kept columns: strings unless asked to read numbers, booleans and empty cells as such. */
export const inferTypesFlag = Flags.boolean({
  description: 'CSV/TSV/txt: type kept columns from their text (42 integer, 2.5 decimal, true/false boolean, empty null; "007" stays a string). JSONL keeps its own types.',
  default: false,
  helpGroup: 'INPUT',
});

/** What to do with bytes that are not UTF-8 in text inputs. */
export const INVALID_UTF8_POLICIES = ['error', 'replace'] as const;

export const textInputFlags = {
  'on-invalid-utf8': Flags.option({
    description: 'Bytes that are not UTF-8: error (name file, line and byte offset) or replace them with U+FFFD and count the lines in the summary.',
    options: INVALID_UTF8_POLICIES,
    default: 'error' as const,
  })(),
};
