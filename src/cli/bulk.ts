/**
 * `atlassian-iam bulk <create|update|disable|enable> FILE.csv`: runs one operation for every row of a
 * CSV file. Everything that can be checked before a request is sent (usage, the file, the report, the
 * configuration) is checked first: a problem there exits with status 2 and nothing is sent or written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseFlags } from './args';
import { type CliAudit, openCliAudit } from './audit-trail';
import { EXIT, reportCliError } from './errors';
import { type CliIo, sandboxNotice } from './io';
import { type Config, loadConfig, loadDotenv } from '../config';
import {
  BUILT_IN_OUTGOING,
  loadMapper,
  mapperSourceKeys,
  parseAllowEnable,
  type ProfileOptions,
} from '../iam';
import { createLogger, redact } from '../log';
import { renderDryRunSummary, renderRowPlan } from '../views/plan';
import { bulkRowsText } from '../metrics';
import { createRuntime, newDatabaseNotice, type Runtime } from '../runtime';
import { AimdController, DEFAULT_CONCURRENCY, MAX_CONCURRENCY } from '../bulk/concurrency';
import { type BulkRow, BulkFileError, readCsv, toBulkRows } from '../bulk/csv';
import { countPlans, planRows } from '../bulk/dry-run';
import { RunGate } from '../bulk/gate';
import { type ProgressSnapshot, ProgressDisplay, RateMeter } from '../bulk/progress';
import {
  defaultReportPath,
  planResume,
  type PreviousReport,
  readReport,
  type ReportLine,
  ReportWriter,
} from '../bulk/report';
import { BULK_OPERATIONS, type BulkOperation, isGroupOperation, runRows } from '../bulk/runner';
import { type BulkSummary, renderSummary, summaryExitCode, Tally } from '../bulk/summary';
import { observeDirectory, watchThrottling } from '../bulk/throttle';

export const BULK_HELP = `Usage: atlassian-iam bulk <create|update|disable|enable> FILE.csv [--allow-enable true|false]
                          [--concurrency N] [--report FILE] [--json] [--dry-run]
                          [--metrics FILE]
       atlassian-iam bulk <add-to-group|remove-from-group> FILE.csv [--concurrency N] [--report FILE]
                          [--json] [--dry-run] [--metrics FILE]

Runs the operation for every row of FILE.csv. The first row names the profile keys (email, username,
givenname, surname, title, department, employeeid, id, …; case-insensitive, as in --user-profile);
each further row is one user profile, its empty cells left out. A column olduserdata.KEY gives the
previous value of KEY (update). A column that names no profile key stops the run before anything is
sent (the message names the closest key); scim:NAME columns and keys of IAM_OUTGOING_MAPPER pass.
A row that cannot run (a bad value, no identifier, the wrong number of cells) is reported as
malformed and skipped; the other rows go on.

add-to-group and remove-from-group (also spelt iam-add-to-group, iam-remove-from-group) read a group
column beside the user's identifier (email,group): each row adds that user to (removes them from) the
group it names. A member already in (not in) is skipped; an unknown group fails that row, naming the
closest groups.

Options:
  --allow-enable BOOL   create/update may re-activate an inactive user (default true)
  --concurrency N       rows in flight at most, 1 to ${MAX_CONCURRENCY} (default ${DEFAULT_CONCURRENCY}); halved while Atlassian
                        answers 429 (rate limited), then raised again one at a time
  --report FILE         JSON-lines report, one line per row (default FILE.csv.report.jsonl). When
                        it exists, rows it records as success or skipped are not run again: run the
                        same command again to resume an interrupted run or to retry failed rows
  --json                print the summary as JSON
  --dry-run             look every row's user up and print what would change (before → after), the
                        rows that would be created or skipped, and a summary; send no write and write
                        no report (a later real run does every row)
  --metrics FILE        also write the rows by outcome as Prometheus text (node_exporter textfile)
  -h, --help            show this help

A rate limit the client does not wait out pauses the whole run for its Retry-After; a storm of 5xx
answers or timeouts opens a circuit breaker (one probe row, then resume); the rows they met are sent
again, not failed. A bad token (401/403), DNS or TLS failure stops the run: rows not started are not run.

Progress goes to stderr: a bar on a terminal, otherwise a line a second. The summary goes to stdout.
Exit status: 0 every row succeeded or was skipped, 1 a row failed or was malformed, 2 bad usage, file
or configuration (nothing was sent), 130 interrupted (Ctrl-C; run it again to go on).`;

class BulkUsageError extends Error {}

const HINT = 'run atlassian-iam bulk --help';

interface BulkInvocation {
  operation: BulkOperation;
  file: string;
  allowEnable: boolean;
  concurrency: number;
  reportPath: string;
  json: boolean;
  /** Print every row's plan; send no write, write no report (./dry-run.ts). */
  dryRun: boolean;
  /** Where to write the run's rows by outcome in Prometheus text (--metrics), if anywhere. */
  metricsPath: string | null;
}

function operationOf(text: string | undefined): BulkOperation {
  if (text === undefined) {
    throw new BulkUsageError(
      `which operation? give one of ${BULK_OPERATIONS.join(', ')}, then FILE.csv; ${HINT}`,
    );
  }
  // The group operations keep the names of their single commands too (iam-add-to-group).
  const wanted = text.toLowerCase().replace(/^iam-(?=(add-to|remove-from)-group$)/, '');
  const operation = BULK_OPERATIONS.find((name) => name === wanted);
  if (operation === undefined) {
    throw new BulkUsageError(
      `unknown operation "${text}": give one of ${BULK_OPERATIONS.join(', ')}; ${HINT}`,
    );
  }
  return operation;
}

function concurrencyOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  const text = value.trim();
  const concurrency = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  if (!(concurrency >= 1 && concurrency <= MAX_CONCURRENCY)) {
    throw new BulkUsageError(
      `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(value)}`,
    );
  }
  return concurrency;
}

function parseBulkArgs(argv: string[]): BulkInvocation | 'help' {
  let parsed;
  try {
    parsed = parseFlags(argv, {
      'allow-enable': { type: 'string' },
      concurrency: { type: 'string' },
      report: { type: 'string' },
      metrics: { type: 'string' },
      json: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
  } catch (error) {
    throw new BulkUsageError(`${(error as Error).message}; ${HINT}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [operationText, file, extra] = positionals;
  const operation = operationOf(operationText);
  if (file === undefined) throw new BulkUsageError(`bulk ${operation} needs the CSV file to read; ${HINT}`);
  if (extra !== undefined) throw new BulkUsageError(`unexpected argument "${extra}"; ${HINT}`);
  if (values['dry-run'] && values.metrics !== undefined) {
    throw new BulkUsageError('--metrics does not go with --dry-run: a dry run writes no file');
  }
  const writes = operation === 'create' || operation === 'update';
  if (values['allow-enable'] !== undefined && !writes) {
    throw new BulkUsageError('--allow-enable applies to bulk create and bulk update only');
  }
  let allowEnable: boolean;
  try {
    allowEnable = parseAllowEnable(values['allow-enable']);
  } catch (error) {
    throw new BulkUsageError((error as Error).message);
  }
  return {
    operation,
    file,
    allowEnable,
    concurrency: concurrencyOf(values.concurrency),
    reportPath: values.report ?? defaultReportPath(file),
    json: values.json,
    dryRun: values['dry-run'],
    metricsPath: values.metrics ?? null,
  };
}

function readFileText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BulkFileError(`${file}: no such file`);
    if (code === 'EISDIR') throw new BulkFileError(`${file} is a directory, not a CSV file`);
    if (code === 'EACCES') throw new BulkFileError(`${file}: permission denied`);
    throw new BulkFileError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** What the file and the report say, checked before any configuration or connection. */
function prepare(
  invocation: BulkInvocation,
  options: ProfileOptions,
): { rows: BulkRow[]; previous: PreviousReport | null } {
  const text = readFileText(invocation.file);
  const table = namingFile(invocation.file, () => readCsv(text));
  if (table.records.length === 0) {
    throw new BulkFileError(`${invocation.file} has a header row but no rows of users`);
  }
  if (path.resolve(invocation.reportPath) === path.resolve(invocation.file)) {
    throw new BulkFileError('--report names the CSV file itself; give another file for the report');
  }
  const rows = namingFile(invocation.file, () =>
    toBulkRows(table, invocation.operation, {
      ...options,
      groupColumn: isGroupOperation(invocation.operation),
    }),
  );
  return { rows, previous: readReport(invocation.reportPath) };
}

/** Columns the outgoing mapper file reads are profile keys too. */
function profileOptions(config: Config): ProfileOptions {
  return { mapperKeys: mapperSourceKeys(loadMapper(config.outgoingMapperPath, BUILT_IN_OUTGOING)) };
}

/** Runs `read`; a BulkFileError it throws names the file. */
function namingFile<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof BulkFileError) error.message = `${file}: ${error.message}`;
    throw error;
  }
}

/** Runs `atlassian-iam bulk <argv>`; returns the exit status. Never throws. */
export async function runBulkCommand(argv: string[], io: CliIo): Promise<number> {
  // Known before the flags are read, so that even a usage error is JSON when --json was asked for.
  const jsonOut = argv.includes('--json') ? io.out : undefined;
  let invocation: BulkInvocation | 'help';
  try {
    invocation = parseBulkArgs(argv);
  } catch (error) {
    return reportCliError(error, io.err, 'atlassian-iam bulk', [BulkUsageError], jsonOut);
  }
  if (invocation === 'help') {
    io.out(BULK_HELP + '\n');
    return EXIT.success;
  }
  try {
    return await run(invocation, io);
  } catch (error) {
    return reportCliError(error, io.err, 'atlassian-iam bulk', [BulkFileError, BulkUsageError], jsonOut);
  }
}

/** What watches a run: the concurrency controller, the rate-limit gate, the counts and the progress line. */
interface RunMeters {
  clock: () => number;
  controller: AimdController;
  gate: RunGate;
  tally: Tally;
  meter: RateMeter;
  progress: ProgressDisplay;
  /** When the rows started (set again once the run really starts). */
  startedAt: number;
  /** Rows this run is to do. */
  todo: number;
}

function startMeters(
  invocation: BulkInvocation,
  io: CliIo,
  label: string,
  scrub: (text: string) => string,
  todo: number,
): RunMeters {
  const clock = () => performance.now();
  const startedAt = clock();
  const meters: RunMeters = {
    clock,
    controller: new AimdController({ max: invocation.concurrency, now: clock }),
    gate: new RunGate({
      now: clock,
      concurrency: invocation.concurrency,
      onWait: (text) => meters.progress.log(`${label}: ${text}\n`),
    }),
    tally: new Tally(),
    meter: new RateMeter(startedAt),
    progress: new ProgressDisplay({
      label,
      write: (text) => io.err(scrub(text)),
      tty: io.errIsTty ?? false,
      columns: io.errColumns,
      snapshot: () => snapshotOf(meters),
      now: clock,
    }),
    startedAt,
    todo,
  };
  return meters;
}

function snapshotOf(meters: RunMeters): ProgressSnapshot {
  const { tally, controller } = meters;
  const now = meters.clock();
  const rate = meters.meter.rate(now);
  const left = meters.todo - tally.done;
  return {
    total: meters.todo,
    done: tally.done,
    failed: tally.failed,
    malformed: tally.malformed,
    limit: controller.limit,
    throttled: controller.stats().throttled,
    waiting: meters.gate.waiting(),
    elapsedMs: now - meters.startedAt,
    rate,
    etaMs: rate && rate > 0 ? (left / rate) * 1000 : null,
  };
}

/** Counts each finished row; a failed or malformed one gets a line above the progress bar. */
function rowWatcher(meters: RunMeters): (line: ReportLine) => void {
  return (line) => {
    meters.tally.add(line.outcome);
    meters.meter.record(meters.clock());
    if (line.outcome === 'failed' || line.outcome === 'malformed') {
      const who = line.identifier ? ` (${line.identifier})` : '';
      const why = line.error ?? line.result?.IAM.Vendor.errorMessage ?? 'failed';
      meters.progress.log(`row ${line.row}${who}: ${line.outcome}: ${why}\n`);
    }
    meters.progress.changed();
  };
}

/** What the report of an earlier run says about this one. */
function resumeNotices(
  io: CliIo,
  label: string,
  invocation: BulkInvocation,
  previous: PreviousReport | null,
  counts: { alreadyDone: number; rows: number },
): void {
  if (previous && previous.unreadable > 0) {
    io.err(
      `${label}: ${previous.unreadable} unreadable line(s) in ${invocation.reportPath} ignored (a run killed while writing leaves one)\n`,
    );
  }
  if (previous && previous.interrupted.size > 0) {
    io.err(
      `${label}: ${previous.interrupted.size} row(s) in ${invocation.reportPath} were sent by an interrupted run and never finished; each is looked up again, and one found already done is reported as done by that run\n`,
    );
  }
  if (counts.alreadyDone > 0) {
    io.err(
      `${label}: ${counts.alreadyDone} of ${counts.rows} rows are already done according to ${invocation.reportPath} (success or skipped in an earlier run); they are not run again\n`,
    );
  }
}

interface RunEnd {
  rows: number;
  alreadyDone: number;
  scimCalls: number;
  sandbox: boolean;
  interrupted: boolean;
  stoppedBy: string | null;
}

function summaryOf(invocation: BulkInvocation, meters: RunMeters, end: RunEnd): BulkSummary {
  const { tally } = meters;
  const elapsedMs = meters.clock() - meters.startedAt;
  const stats = meters.controller.stats();
  return {
    operation: invocation.operation,
    file: invocation.file,
    report: invocation.reportPath,
    sandbox: end.sandbox,
    rows: {
      total: end.rows,
      success: tally.success,
      skipped: tally.skipped,
      failed: tally.failed,
      malformed: tally.malformed,
      alreadyDone: end.alreadyDone,
      notRun: meters.todo - tally.done,
    },
    elapsedMs: Math.round(elapsedMs),
    rowsPerSecond: elapsedMs > 0 ? Math.round((tally.done / elapsedMs) * 10_000) / 10 : 0,
    scimCalls: end.scimCalls,
    throttled: stats.throttled,
    rateLimitPauses: meters.gate.counts.pauses,
    breakerOpened: meters.gate.counts.breakerOpened,
    concurrency: {
      initial: invocation.concurrency,
      lowest: stats.lowestLimit,
      final: stats.limit,
      maxInFlight: stats.maxInFlight,
      decreases: stats.decreases,
    },
    interrupted: end.interrupted,
    stoppedBy: end.stoppedBy,
  };
}

// Longer than 50 lines: the run's steps in order, inside the try that closes what they opened.
async function run(invocation: BulkInvocation, io: CliIo): Promise<number> {
  if (invocation.dryRun) return dryRun(invocation, io);
  loadDotenv();
  const config = loadConfig();
  const { rows, previous } = prepare(invocation, profileOptions(config));
  const scrub = (text: string): string => redact(text, config.secrets);
  const label = `bulk ${invocation.operation}${config.directory.mode === 'sandbox' ? ' (SANDBOX)' : ''}`;
  const { alreadyDone, todo } = planResume(rows, previous);
  const meters = startMeters(invocation, io, label, scrub, todo.length);
  const { progress } = meters;
  const write = (line: string) => progress.log(line);
  const logger = watchThrottling(
    createLogger({ level: config.logLevel, write, secrets: config.secrets }),
    () => meters.controller.throttle(),
  );
  const notice = newDatabaseNotice(config.database);
  const runtime: Runtime = createRuntime(config, logger);
  let audit: CliAudit | null = null;
  let report: ReportWriter | null = null;
  let scimCalls = 0;
  const stopSignals = installStop(progress);
  try {
    if (runtime.sandbox) io.err(sandboxNotice(runtime.sandboxLocation));
    resumeNotices(io, label, invocation, previous, { alreadyDone: alreadyDone.length, rows: rows.length });
    const directory = observeDirectory(runtime.context.directory, { onCall: () => scimCalls++ });
    // The report first: a report that cannot be written stops the run before the audit log is touched.
    report = ReportWriter.open(invocation.reportPath, scrub);
    audit = await openCliAudit(config, logger);
    meters.startedAt = meters.clock();
    progress.start();
    const outcome = await runRows(todo, {
      operation: invocation.operation,
      allowEnable: invocation.allowEnable,
      context: { ...runtime.context, directory },
      audit,
      report,
      controller: meters.controller,
      gate: meters.gate,
      shouldStop: stopSignals.stopping,
      onRow: rowWatcher(meters),
      interrupted: previous?.interrupted,
    });
    progress.stop();
    const summary = summaryOf(invocation, meters, {
      rows: rows.length,
      alreadyDone: alreadyDone.length,
      scimCalls,
      sandbox: runtime.sandbox,
      interrupted: stopSignals.stopping(),
      stoppedBy: outcome.fatal,
    });
    io.out(scrub(invocation.json ? JSON.stringify(summary, null, 2) : renderSummary(summary)) + '\n');
    if (invocation.metricsPath) await writeMetricsFile(invocation.metricsPath, summary, io);
    return summary.interrupted ? EXIT.interrupted : summaryExitCode(summary);
  } finally {
    progress.stop();
    stopSignals.remove();
    report?.close();
    await audit?.close();
    runtime.close();
    const created = notice();
    if (created) io.err(created);
  }
}

/**
 * `--dry-run`: every row's plan on stdout (or one JSON document), then what a real run would do. Rows
 * the report records as done are left out, as a real run leaves them; no report line is written, so a
 * later real run does every planned row. Exit 0, or 1 when a row is malformed or its lookup failed.
 */
async function dryRun(invocation: BulkInvocation, io: CliIo): Promise<number> {
  loadDotenv();
  const config = loadConfig();
  const { rows, previous } = prepare(invocation, profileOptions(config));
  const scrub = (text: string): string => redact(text, config.secrets);
  const logger = createLogger({ level: config.logLevel, write: io.err, secrets: config.secrets });
  const { alreadyDone, todo } = planResume(rows, previous);
  const runtime = createRuntime(config, logger);
  const audit = await openCliAudit(config, logger);
  try {
    const label = `bulk ${invocation.operation}${runtime.sandbox ? ' (SANDBOX)' : ''}`;
    const plans = await planRows(todo, {
      operation: invocation.operation,
      allowEnable: invocation.allowEnable,
      context: runtime.context,
      audit,
      controller: new AimdController({ max: invocation.concurrency, now: () => performance.now() }),
    });
    const counts = countPlans(plans, alreadyDone.length);
    const text = invocation.json
      ? JSON.stringify(
          { dryRun: true, operation: invocation.operation, file: invocation.file, counts, rows: plans },
          null,
          2,
        )
      : [
          ...plans.map((planned) =>
            planned.plan
              ? renderRowPlan(planned.row, planned.identifier, planned.plan)
              : `row ${planned.row}: dry-run: malformed: ${planned.malformed}`,
          ),
          renderDryRunSummary(label, counts),
        ].join('\n');
    io.out(scrub(text) + '\n');
    return counts.malformed + counts.fail > 0 ? EXIT.failure : EXIT.success;
  } finally {
    await audit.close();
    runtime.close();
  }
}

/**
 * Ctrl-C (or SIGTERM) stops starting rows; those in flight finish and are reported, then the summary
 * is printed. A second one exits at once: the report then lacks only the rows still in flight.
 */
function installStop(progress: ProgressDisplay): { stopping: () => boolean; remove: () => void } {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      progress.stop();
      process.exit(EXIT.interrupted);
    }
    stopping = true;
    progress.log(
      `${signal === 'SIGINT' ? 'Ctrl-C' : signal}: starting no more rows; finishing those in flight (again to quit at once)\n`,
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stopping: () => stopping,
    remove: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * --metrics FILE: the rows by outcome as Prometheus text, written to a temporary file then renamed, so a
 * collector never reads half of it. A failure to write is said on stderr; the run's own result stands.
 */
async function writeMetricsFile(file: string, summary: BulkSummary, io: CliIo): Promise<void> {
  const { total: _total, ...counts } = summary.rows;
  try {
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, await bulkRowsText(counts));
    fs.renameSync(partial, file);
  } catch (error) {
    io.err(`atlassian-iam bulk: the metrics file ${file} was not written: ${(error as Error).message}\n`);
  }
}
