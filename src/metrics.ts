import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ScimObserver } from './scim/types';
import { answerWithin } from './time-limit';

/**
 * What the bot counts, in Prometheus form (served at /metrics). Each room reports through the narrow
 * method it needs, so src/scim and src/handlers depend on an interface, not on prom-client.
 * docs/OPERATIONS.md says what each metric means and which alert to set.
 */
export interface Metrics {
  /** HTTP attempts to Atlassian and their retries, as the SCIM client reports them. */
  scim: ScimObserver;
  /** Time from a Slack request's arrival to its acknowledgement. */
  slackAck(seconds: number): void;
  /** A command's end: its name and outcome (`success`, `skipped`, `failure`, `requested`, `refused`, …). */
  command(name: string, outcome: string): void;
  /** An approval decision: `approved`, `denied`, `expired`. */
  decision(outcome: string): void;
  /** An audit row that could not be written. */
  auditWriteFailure(): void;
  /** Serves the registry's text; `contentType` is Prometheus's text format. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** Counts pending approval requests when scraped (given up after PENDING_COUNT_LIMIT_MS). */
  pendingApprovals?: () => Promise<number>;
  /** Include Node's process metrics (CPU, memory, event-loop lag); off in unit tests. */
  processMetrics?: boolean;
}

/**
 * How long a scrape waits for the database to count pending approvals. Past it (or on an error) the
 * gauge keeps its last known value (NaN until one is known) and the failure is counted, so a scrape
 * still answers well within Prometheus's 10 s timeout with every other metric.
 */
export const PENDING_COUNT_LIMIT_MS = 2_000;

/**
 * A registry of its own (not prom-client's global one), so two bots in one process never collide.
 * Longer than 50 lines: one declaration per metric, kept together so the set reads as one list.
 */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const scimRequests = new Counter({
    name: 'atlassian_iam_scim_requests_total',
    help: 'HTTP requests to Atlassian SCIM, by method and status (network: no answer)',
    labelNames: ['method', 'status'] as const,
    registers,
  });
  const scimLatency = new Histogram({
    name: 'atlassian_iam_scim_request_duration_seconds',
    help: 'Time of one HTTP request to Atlassian SCIM',
    labelNames: ['method'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const scimRetries = new Counter({
    name: 'atlassian_iam_scim_retries_total',
    help: 'SCIM requests retried, by reason (429, 5xx, network, timeout)',
    labelNames: ['reason'] as const,
    registers,
  });
  const slackAcks = new Histogram({
    name: 'atlassian_iam_slack_ack_duration_seconds',
    help: 'Time from a Slack request to its acknowledgement (Slack gives up after 3 s)',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
    registers,
  });
  const commands = new Counter({
    name: 'atlassian_iam_commands_total',
    help: 'Commands by name and outcome',
    labelNames: ['command', 'outcome'] as const,
    registers,
  });
  const decisions = new Counter({
    name: 'atlassian_iam_approval_decisions_total',
    help: 'Approval decisions by outcome (approved, denied, expired)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const auditFailures = new Counter({
    name: 'atlassian_iam_audit_write_failures_total',
    help: 'Audit rows that could not be written (the action was then not carried out)',
    registers,
  });
  if (options.pendingApprovals) pendingGauge(options.pendingApprovals, registry);

  return {
    scim: {
      attempt(method, status, seconds) {
        scimRequests.inc({ method, status: String(status) });
        scimLatency.observe({ method }, seconds);
      },
      retry: (reason) => scimRetries.inc({ reason }),
    },
    slackAck: (seconds) => slackAcks.observe(seconds),
    command: (command, outcome) => commands.inc({ command, outcome }),
    decision: (outcome) => decisions.inc({ outcome }),
    auditWriteFailure: () => auditFailures.inc(),
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/**
 * The pending approvals gauge and its failure counter. A scrape counts once within
 * PENDING_COUNT_LIMIT_MS; both metrics wait for that count, so the failure shows in the same scrape.
 */
function pendingGauge(count: () => Promise<number>, registry: Registry): void {
  const registers = [registry];
  let known = Number.NaN;
  let counting: Promise<void> | null = null;
  const countOnce = (): Promise<void> =>
    (counting ??= answerWithin(count(), PENDING_COUNT_LIMIT_MS, null)
      .catch(() => null)
      .then((counted) => {
        if (counted === null) failures.inc();
        else known = counted;
      })
      .finally(() => (counting = null)));
  const failures = new Counter({
    name: 'atlassian_iam_pending_approvals_count_failures_total',
    help: 'Scrapes where the database did not count pending approvals in time (the gauge kept its last value)',
    registers,
    collect: countOnce,
  });
  new Gauge({
    name: 'atlassian_iam_pending_approvals',
    help: 'Approval requests waiting for a decision (NaN until first counted)',
    registers,
    async collect() {
      await countOnce();
      this.set(known);
    },
  });
}

/**
 * A bulk run's rows by outcome, as Prometheus text on its own (a bulk run is a command-line process, not
 * the bot): for node_exporter's textfile collector.
 */
export async function bulkRowsText(counts: Record<string, number>): Promise<string> {
  const registry = new Registry();
  const rows = new Counter({
    name: 'atlassian_iam_bulk_rows_total',
    help: 'Rows of the last bulk run by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const [outcome, count] of Object.entries(counts)) rows.inc({ outcome }, count);
  return registry.metrics();
}
