/** The one check of a dedupe threshold, for dedupe, its stages and their queue submit. */
import {EXIT, SbertkitError} from '../../errors.js';

/** Dedupe compares unit vectors: a threshold is a cosine. `field` names the flag when one value came from it alone. */
export function checkThreshold(threshold: number, field?: string): void {
  if (!(threshold >= -1 && threshold <= 1)) {
    throw new SbertkitError(`a threshold is a cosine between -1 and 1, got ${threshold}`, {...(field === undefined ? {} : {field}), exitCode: EXIT.BAD_INPUT});
  }
}
