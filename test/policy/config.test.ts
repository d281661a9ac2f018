/** IAM_POLICY_FILE in the configuration, and the configuration as the policy's defaults. */
import { loadConfig } from '../../src/config';
import { defaultPolicy, parsePolicy, policyFor } from '../../src/policy';

const noFiles = (file: string): string => {
  throw new Error(`unexpected read of ${file}`);
};

describe('IAM_POLICY_FILE', () => {
  it('is the path of the policy file, or null when unset or empty', () => {
    expect(loadConfig({ IAM_POLICY_FILE: 'config/policy.yaml' }, noFiles).policyFile).toBe(
      'config/policy.yaml',
    );
    expect(loadConfig({}, noFiles).policyFile).toBeNull();
    expect(loadConfig({ IAM_POLICY_FILE: '' }, noFiles).policyFile).toBeNull();
  });

  it('leaves the defaults to the Slack settings, which the policy takes as they are', () => {
    const config = loadConfig(
      { IAM_OPERATORS: 'S0OPS', IAM_APPROVERS: 'U0APP, S0SEC', IAM_APPROVAL_TTL: '2h' },
      noFiles,
    );
    const rule = policyFor(defaultPolicy(config.slack), {
      action: 'disable',
      target: {},
      requesterId: 'U0REQ',
    });
    expect(rule).toMatchObject({
      requesters: { ids: ['S0OPS'], admins: false },
      approvers: { ids: ['U0APP', 'S0SEC'], admins: false },
      approvals: 1,
      expiresMs: 2 * 3_600_000,
    });
  });

  it('keeps no Slack token or secret from the settings it is given', () => {
    const config = loadConfig(
      { SLACK_BOT_TOKEN: 'xoxb-SECRET-1', SLACK_SIGNING_SECRET: 'SECRET-2' },
      noFiles,
    );
    for (const policy of [defaultPolicy(config.slack), parsePolicy('rules: []', 'p.yaml', config.slack)]) {
      expect(JSON.stringify(policy)).not.toMatch(/SECRET/);
    }
  });
});
