/** JSONL files the commands write, read back for assertions; and the dedupe duplicates map's rows. */
import {readFile} from 'node:fs/promises';

export async function readJsonl<T>(file: string): Promise<T[]> {
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

/** A row of dedupe's --duplicates map (and of the staged merge's). */
export interface DuplicateMapRow {
  removed_id: string | number;
  kept_id: string | number;
  score: number;
  reason: string;
  reference?: string | null;
}
