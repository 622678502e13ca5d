/**
 * oclif's command_not_found hook: one line with the nearest command ids, exit 127 (the shell's "command
 * not found"). @oclif/plugin-not-found asks "Did you mean ...?" on a terminal and runs the answer,
 * which a scripted tool should not do, and says nothing of the suggestion when stdin is not a TTY.
 */
import type {Hook} from '@oclif/core';

/** Edit distance (insert, delete, substitute: 1 each). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Command ids (space-separated) within a distance of a third of the typed length, nearest first.
 * Ids of as many words as typed come first: 'dedup' means 'dedupe', not its subcommands
 * ('dedupe plan' also starts with 'dedup'); the others only when none of those is near.
 */
export function suggestCommands(typed: string, ids: readonly string[]): string[] {
  const words = typed.split(' ').length;
  const sameLength = nearIds(typed, ids.filter((id) => id.split(' ').length === words));
  return sameLength.length > 0 ? sameLength : nearIds(typed, ids);
}

function nearIds(typed: string, ids: readonly string[]): string[] {
  const limit = Math.max(2, Math.floor(typed.length / 3));
  return ids
    .map((id) => ({id, distance: Math.min(editDistance(typed, id), id.startsWith(typed) && typed.length >= 3 ? 1 : Infinity)}))
    .filter((c) => c.distance <= limit)
    .sort((x, y) => x.distance - y.distance || x.id.localeCompare(y.id))
    .map((c) => c.id);
}

/**
 * With a space as topic separator oclif hands over the command and its arguments as one id
 * ("dedup:x.csv"), so the command is the longest leading part that has suggestions (a topic and
 * command take two parts), else the first word.
 */
export function typedCommand(id: string, ids: readonly string[]): {typed: string; near: string[]} {
  const parts = id.split(':');
  for (let n = Math.min(2, parts.length); n >= 1; n--) {
    const typed = parts.slice(0, n).join(' ');
    const near = suggestCommands(typed, ids);
    if (near.length > 0) return {typed, near};
  }
  return {typed: parts[0]!, near: []};
}

const hook: Hook.CommandNotFound = async function (options) {
  const ids = options.config.commands.filter((c) => !c.hidden).map((c) => c.id.replaceAll(':', ' '));
  const found = typedCommand(options.id, ids);
  const typed = found.typed;
  const near = found.near.slice(0, 3);
  const hint = near.length > 0 ? `; did you mean ${near.map((id) => `'${options.config.bin} ${id}'`).join(' or ')}?` : '';
  process.stderr.write(`${options.config.bin}: '${typed}' is not a command${hint} (see: ${options.config.bin} help)\n`);
  process.exit(127);
};

export default hook;
