import { buildResult } from '../../src/iam/result';
import { renderTextTable, resultTable } from '../../src/views/table';

const user = {
  id: 'u1',
  userName: 'jane@example.com',
  emails: [{ value: 'jane@example.com', primary: true }],
  active: true,
};

describe('result table', () => {
  it('has the XSOAR title and drops empty columns', () => {
    const result = buildResult({ action: 'create', instanceName: 'inst', profile: {}, user });
    const table = resultTable(result);
    expect(table.title).toBe('Create User Results (Atlassian IAM)');
    expect(table.columns).toEqual([
      'brand',
      'instanceName',
      'success',
      'active',
      'id',
      'username',
      'email',
      'details',
    ]);
    expect(table.rows[0].slice(0, 7)).toEqual([
      'Atlassian IAM',
      'inst',
      'true',
      'true',
      'u1',
      'jane@example.com',
      'jane@example.com',
    ]);
  });

  it('shows brand, instanceName, skipped and reason for a skipped result', () => {
    const result = buildResult({
      action: 'disable',
      instanceName: 'inst',
      profile: { email: 'x@example.com' },
      skippedReason: 'User does not exist',
    });
    const text = renderTextTable(resultTable(result));
    expect(text.split('\n')).toEqual([
      'Disable User Results (Atlassian IAM)',
      'brand          instanceName  skipped  reason',
      '-------------  ------------  -------  -------------------',
      'Atlassian IAM  inst          true     User does not exist',
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
    expect(table.columns).toEqual([
      'brand',
      'instanceName',
      'success',
      'username',
      'email',
      'errorCode',
      'errorMessage',
    ]);
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
