/** The end-of-run summary of a bulk run: a text table on stdout, or one JSON document with --json. */
import { renderTextTable } from '../views/table';
import { formatDuration } from './progress';
import type { RowOutcome } from './report';

export interface BulkSummary {
  operation: string;
  file: string;
  report: string;
  sandbox: boolean;
  rows: {
    /** Data rows in the file. */
    total: number;
    success: number;
    skipped: number;
    failed: number;
    malformed: number;
    /** Done in an earlier run according to the report: not run again. */
    alreadyDone: number;
    /** Not run because the run was interrupted or stopped early. */
    notRun: number;
  };
  elapsedMs: number;
  /** Rows finished per second of this run. */
  rowsPerSecond: number;
  /** Calls to the directory (each one HTTP request unless retried). */
  scimCalls: number;
  /** 429 answers met (each one retried by the client after Retry-After). */
  throttled: number;
  /** Times the whole run paused for a rate limit longer than the client waits. */
  rateLimitPauses: number;
  /** Times the circuit breaker opened (a storm of 5xx answers or timeouts). */
  breakerOpened: number;
  concurrency: { initial: number; lowest: number; final: number; maxInFlight: number; decreases: number };
  interrupted: boolean;
  /** Why the run stopped early (a bad token, unreachable Atlassian, a storm outlasting the breaker), if it did. */
  stoppedBy: string | null;
}

export class Tally {
  success = 0;
  skipped = 0;
  failed = 0;
  malformed = 0;

  add(outcome: RowOutcome): void {
    this[outcome]++;
  }

  get done(): number {
    return this.success + this.skipped + this.failed + this.malformed;
  }
}

/** 0 when no row failed or was malformed (and nothing was left undone), else 1. */
export function summaryExitCode(summary: BulkSummary): number {
  const { failed, malformed, notRun } = summary.rows;
  return failed + malformed + notRun === 0 ? 0 : 1;
}

export function renderSummary(summary: BulkSummary): string {
  const { rows } = summary;
  const table = renderTextTable({
    title: `Bulk ${summary.operation} results (Atlassian IAM)${summary.sandbox ? ' (SANDBOX)' : ''}`,
    columns: ['outcome', 'rows'],
    rows: [
      ['success', rows.success],
      ['skipped', rows.skipped],
      ['failed', rows.failed],
      ['malformed', rows.malformed],
      ...(rows.alreadyDone > 0 ? [['already done (earlier run)', rows.alreadyDone] as const] : []),
      ...(rows.notRun > 0 ? [['not run', rows.notRun] as const] : []),
      ['total', rows.total],
    ].map(([label, count]) => [String(label), String(count).padStart(String(rows.total).length)]),
  });
  const { concurrency } = summary;
  const lines = [
    table,
    '',
    `elapsed ${summary.elapsedMs < 60_000 ? `${(summary.elapsedMs / 1000).toFixed(1)} s` : formatDuration(summary.elapsedMs)}, ` +
      `${summary.rowsPerSecond.toFixed(1)} rows/s, ${summary.scimCalls} SCIM calls, ` +
      `${summary.throttled} rate-limited (429)` +
      (summary.rateLimitPauses > 0 ? `, ${summary.rateLimitPauses} rate-limit pauses` : '') +
      (summary.breakerOpened > 0 ? `, circuit breaker opened ${summary.breakerOpened}×` : ''),
    `concurrency ${concurrency.initial} at the start, lowest ${concurrency.lowest}, ${concurrency.final} at the end`,
    `report: ${summary.report}`,
  ];
  if (summary.stoppedBy !== null) lines.push(`stopped early: ${summary.stoppedBy}`);
  if (summary.interrupted) lines.push('interrupted: run the same command again to go on where it stopped');
  else if (rows.failed + rows.malformed > 0)
    lines.push('failed and malformed rows are in the report; fix them and run the same command again');
  return lines.join('\n');
}
