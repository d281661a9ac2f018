import { buildResult } from '../../src/iam/result';
import { renderResultText, renderTextTable, resultTable, terminalWidth } from '../../src/views/table';

const user = {
  id: 'u1',
  userName: 'jane@example.com',
  emails: [{ value: 'jane@example.com', primary: true }],
  active: true,
};

describe('result table', () => {
  it('has the XSOAR title and drops empty columns, and the constant brand and instanceName (issue 13)', () => {
    const result = buildResult({ action: 'create', instanceName: 'inst', profile: {}, user });
    const table = resultTable(result);
    expect(table.title).toBe('Create User Results (Atlassian IAM)');
    expect(table.columns).toEqual(['success', 'active', 'id', 'username', 'email', 'details']);
    expect(table.rows[0].slice(0, 5)).toEqual(['true', 'true', 'u1', 'jane@example.com', 'jane@example.com']);
  });

  it('shows skipped and reason for a skipped result', () => {
    const result = buildResult({
      action: 'disable',
      instanceName: 'inst',
      profile: { email: 'x@example.com' },
      skippedReason: 'User does not exist',
    });
    const text = renderTextTable(resultTable(result));
    expect(text.split('\n')).toEqual([
      'Disable User Results (Atlassian IAM)',
      'skipped  reason',
      '-------  -------------------',
      'true     User does not exist',
    ]);
  });

  it('shows the error code and message of a failure, and keeps false visible', () => {
    const result = buildResult({
      action: 'get',
      instanceName: 'inst',
      profile: { email: 'x@example.com' },
      success: false,
      error: { status: 404, message: 'User does not exist' },
    });
    const table = resultTable(result);
    expect(table.title).toBe('Get User Results (Atlassian IAM)');
    expect(table.columns).toEqual(['success', 'username', 'email', 'errorCode', 'errorMessage']);
    expect(table.rows[0]).toContain('false');
    expect(table.rows[0]).toContain('404');
  });

  it('shortens a long SCIM user in the details cell', () => {
    const long = { ...user, title: 'x'.repeat(500) };
    const table = resultTable(buildResult({ action: 'get', instanceName: 'inst', profile: {}, user: long }), {
      detailsMax: 120,
    });
    const details = table.rows[0][table.columns.indexOf('details')];
    expect(details).toHaveLength(120);
    expect(details.endsWith('…')).toBe(true);
  });

  it('keeps a multi-line value on one line', () => {
    const result = buildResult({
      action: 'update',
      instanceName: 'inst',
      profile: {},
      error: { status: null, message: 'line one\nline two' },
    });
    expect(renderTextTable(resultTable(result)).split('\n')).toHaveLength(4);
  });
});

describe('issue 13: the CLI table fits the terminal', () => {
  const wide = {
    title: 'Get User Results (Atlassian IAM)',
    columns: ['success', 'id', 'email', 'details'],
    rows: [['true', 'u1', 'jane@example.com', JSON.stringify({ ...user, title: 'x'.repeat(200) })]],
  };

  it('cuts the widest cells with an ellipsis so that every line fits the width', () => {
    const lines = renderTextTable(wide, { maxWidth: 60 }).split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(60);
    expect(lines[3].startsWith('true     u1  jane@example.com  {"id":"u1"')).toBe(true);
    expect(lines[3].endsWith('…')).toBe(true);
  });

  it('a create result in 100 columns keeps the email whole and cuts the raw details first', () => {
    const result = buildResult({
      action: 'create',
      instanceName: 'inst',
      profile: {},
      user: { ...user, id: 'b7ad11ef-f3a4-4c1e-9a57-2f1f0c1d9e10', userName: 'table.e2e@example.com' },
    });
    const lines = renderTextTable(resultTable(result, { detailsMax: 120 }), {
      maxWidth: 100,
      shrinkFirst: ['details'],
    }).split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
    expect(lines[3]).toContain('table.e2e@example.com');
    expect(lines[3]).toMatch(/\{"…$|…$/);
  });

  it('prints a failure message the table had to cut in full under it', () => {
    const message = `Group "jira-users" does not exist in the directory (closest: "jira-software-users").`;
    const result = buildResult({
      action: 'get',
      instanceName: 'inst',
      profile: { email: 'jane@example.com' },
      success: false,
      error: { status: 404, message },
    });
    const lines = renderResultText(resultTable(result), result.IAM.Vendor, { maxWidth: 80 }).split('\n');
    expect(lines[3]).toMatch(/…$/);
    expect(lines[4]).toBe(`error: ${message}`);
    const wide = renderResultText(resultTable(result), result.IAM.Vendor, { maxWidth: 200 });
    expect(wide).not.toContain('error: ');
  });

  it('leaves a table that fits as it was', () => {
    const narrow = { title: 't', columns: ['a', 'b'], rows: [['1', '2']] };
    expect(renderTextTable(narrow, { maxWidth: 80 })).toBe(renderTextTable(narrow));
  });

  it('is 100 columns wide when stdout is not a terminal, else the terminal width', () => {
    expect(terminalWidth(undefined)).toBe(100);
    expect(terminalWidth(132)).toBe(132);
  });

  it('still shows invisible characters as <U+XXXX> before cutting (no hidden text in the shown part)', () => {
    const table = { title: 't', columns: ['name'], rows: [['a\u202Eb' + 'c'.repeat(50)]] };
    const shown = renderTextTable(table, { maxWidth: 20 }).split('\n')[3];
    expect(shown).toBe('a<U+202E>bccccccccc…');
    expect(shown).toHaveLength(20);
  });
});
