/**
 * Reliability suites (test/reliability/*.test.ts) record their figures here; scripts/reliability-report.mjs
 * turns every recorded section into docs/RELIABILITY.md after the jest run (`npm test` does both).
 */
import fs from 'node:fs';
import path from 'node:path';

export const RELIABILITY_DIR = path.resolve(__dirname, '../../.reliability');

export interface ReliabilitySection {
  /** File name and order key, e.g. `1-faults`. */
  id: string;
  title: string;
  /** One paragraph: what was tried and how correctness was judged. */
  description: string;
  columns: string[];
  rows: (string | number)[][];
  /**
   * Headline counters summed across sections into the summary: use the names `faultsSurvived`,
   * `faultRuns`, `badInputsTried`, `badInputsHandled`, `forgedRequestsRejected`, `forgedRequestsTried`,
   * `secretsLeaked`, `crashIterations`, `approvedDisablesLost`, `approvedDisablesDoubled`,
   * `bulkRowsFailedByRateLimits`, `httpFuzzRequests`, `httpFuzzSurvived`, `badStoredRowsTried`,
   * `badStoredRowsRecovered`, `replaysTried`, `replaysRefused`, `completedWithoutResultRow`,
   * `completedUnannounced` (and the others scripts/reliability-report.mjs FIGURES names).
   */
  totals: Record<string, number>;
}

/** Writes a section; call it once per suite, in afterAll, with what the tests actually observed. */
export function recordReliability(section: ReliabilitySection): void {
  fs.mkdirSync(RELIABILITY_DIR, { recursive: true });
  fs.writeFileSync(path.join(RELIABILITY_DIR, `${section.id}.json`), JSON.stringify(section, null, 2));
}
