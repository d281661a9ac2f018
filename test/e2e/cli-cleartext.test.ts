/**
 * Issue 10, finding 9 (configuration), through the built CLI: plain http:// to another machine is
 * refused with a line naming the variable and the fix, and nothing is sent; the explicit opt-out
 * (IAM_ALLOW_INSECURE_HTTP=true) is said loudly on stderr.
 */
import { removeTempDirs, requireBuiltCli, runCli } from '../support/cli';

const TOKEN = 'tok-cleartext-SECRET-42';
const env = {
  ATLASSIAN_ACCESS_TOKEN: TOKEN,
  ATLASSIAN_DIRECTORY_ID: 'dir-cleartext',
  // .invalid never resolves: were anything sent, it would fail rather than reach someone.
  ATLASSIAN_URL: 'http://atlassian.invalid',
  ATLASSIAN_TIMEOUT: '1s',
};

beforeAll(() => requireBuiltCli());
afterAll(() => removeTempDirs());

it('finding 9: ATLASSIAN_URL=http://… to another machine is refused (exit 2), naming the variable and the fix', async () => {
  const run = await runCli(['test-module'], { env });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(
    'ATLASSIAN_URL: plain http:// to atlassian.invalid would send tokens in cleartext; use https://',
  );
  expect(run.stderr).toContain('IAM_ALLOW_INSECURE_HTTP=true');
  expect(run.stderr + run.stdout).not.toContain(TOKEN);
});

it('finding 9: with IAM_ALLOW_INSECURE_HTTP=true it runs, and says so on stderr first', async () => {
  const run = await runCli(['test-module'], { env: { ...env, IAM_ALLOW_INSECURE_HTTP: 'yes' } });
  expect(run.code).not.toBe(2);
  expect(run.stderr).toContain(
    'IAM_ALLOW_INSECURE_HTTP=true: ATLASSIAN_URL (atlassian.invalid) is plain http://, so tokens cross the network in cleartext',
  );
  expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
});
