import { bulkRowsText, createMetrics, PENDING_COUNT_LIMIT_MS } from '../src/metrics';

/** The value of one sample line of Prometheus text, e.g. `name{label="x"} 3`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  it('counts SCIM requests by method and status, and observes their latency', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.scim.attempt('GET', 200, 0.12);
    metrics.scim.attempt('GET', 200, 0.3);
    metrics.scim.attempt('PATCH', 'network', 10);
    metrics.scim.retry('429');
    const { body, contentType } = await metrics.render();
    expect(contentType).toMatch(/^text\/plain/);
    expect(sample(body, 'atlassian_iam_scim_requests_total{method="GET",status="200"}')).toBe(2);
    expect(sample(body, 'atlassian_iam_scim_requests_total{method="PATCH",status="network"}')).toBe(1);
    expect(sample(body, 'atlassian_iam_scim_request_duration_seconds_count{method="GET"}')).toBe(2);
    expect(sample(body, 'atlassian_iam_scim_request_duration_seconds_bucket{le="0.25",method="GET"}')).toBe(
      1,
    );
    expect(sample(body, 'atlassian_iam_scim_retries_total{reason="429"}')).toBe(1);
  });

  it('counts commands, decisions and audit write failures', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.command('iam-get-user', 'success');
    metrics.command('iam-get-user', 'success');
    metrics.command('iam-disable-user', 'requested');
    metrics.decision('approved');
    metrics.auditWriteFailure();
    metrics.slackAck(0.02);
    const { body } = await metrics.render();
    expect(sample(body, 'atlassian_iam_commands_total{command="iam-get-user",outcome="success"}')).toBe(2);
    expect(sample(body, 'atlassian_iam_commands_total{command="iam-disable-user",outcome="requested"}')).toBe(
      1,
    );
    expect(sample(body, 'atlassian_iam_approval_decisions_total{outcome="approved"}')).toBe(1);
    expect(sample(body, 'atlassian_iam_audit_write_failures_total')).toBe(1);
    expect(sample(body, 'atlassian_iam_slack_ack_duration_seconds_count')).toBe(1);
  });

  it('reads the pending approvals when scraped, and includes process metrics unless told not to', async () => {
    let pending = 3;
    const metrics = createMetrics({ pendingApprovals: async () => pending });
    expect(sample((await metrics.render()).body, 'atlassian_iam_pending_approvals')).toBe(3);
    pending = 1;
    const { body } = await metrics.render();
    expect(sample(body, 'atlassian_iam_pending_approvals')).toBe(1);
    expect(body).toContain('process_resident_memory_bytes');
  });

  it('answers within the count limit while the database does not, keeping the last count and counting the failure (finding 4)', async () => {
    let count: () => Promise<number> = async () => 4;
    const metrics = createMetrics({ processMetrics: false, pendingApprovals: () => count() });
    expect(sample((await metrics.render()).body, 'atlassian_iam_pending_approvals')).toBe(4);
    count = () => new Promise<number>(() => undefined); // a database that never answers
    metrics.auditWriteFailure();
    const started = performance.now();
    const { body } = await metrics.render();
    expect(performance.now() - started).toBeLessThan(PENDING_COUNT_LIMIT_MS + 1_000);
    expect(sample(body, 'atlassian_iam_pending_approvals')).toBe(4);
    expect(sample(body, 'atlassian_iam_pending_approvals_count_failures_total')).toBe(1);
    expect(sample(body, 'atlassian_iam_audit_write_failures_total')).toBe(1);
    count = () => Promise.reject(new Error('Query read timeout'));
    const failed = (await metrics.render()).body;
    expect(sample(failed, 'atlassian_iam_pending_approvals_count_failures_total')).toBe(2);
  });

  it('shows the pending approvals as NaN until the database has counted them once', async () => {
    const metrics = createMetrics({
      processMetrics: false,
      pendingApprovals: () => Promise.reject(new Error('connection refused')),
    });
    expect(sample((await metrics.render()).body, 'atlassian_iam_pending_approvals')).toBeNaN();
  });

  it("renders a bulk run's rows by outcome on their own, for a textfile collector", async () => {
    const text = await bulkRowsText({ success: 1990, failed: 3, notRun: 7 });
    expect(sample(text, 'atlassian_iam_bulk_rows_total{outcome="success"}')).toBe(1990);
    expect(sample(text, 'atlassian_iam_bulk_rows_total{outcome="failed"}')).toBe(3);
    expect(sample(text, 'atlassian_iam_bulk_rows_total{outcome="notRun"}')).toBe(7);
    expect(text).not.toContain('process_');
  });

  it('keeps two registries apart', async () => {
    const first = createMetrics({ processMetrics: false });
    const second = createMetrics({ processMetrics: false });
    first.decision('denied');
    expect((await second.render()).body).not.toContain('outcome="denied"');
  });
});
