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
