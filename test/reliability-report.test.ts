/**
 * scripts/reliability-report.mjs, run on a copy in a temporary directory: `npm test` must leave the
 * committed docs/RELIABILITY.md alone (issue 10 / issue 13: it used to rewrite it), fail when a figure
 * measured on this run is worse than the committed one, and ignore figures not measured on this run
 * (a clone without PostgreSQL measures fewer).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeTempDirs, REPO_ROOT } from './support/cli';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'reliability-report.mjs');

afterAll(() => removeTempDirs());

interface Checkout {
  root: string;
  run: (...args: string[]) => { status: number | null; stdout: string; stderr: string };
  committed: () => string;
}

/** A directory holding the script, the given recorded sections and a committed report. */
function checkout(sections: { id: string; totals: Record<string, number> }[], committed: string): Checkout {
  const root = makeTempDir('atlassian-iam-reliability-');
  fs.mkdirSync(path.join(root, 'scripts'));
  fs.copyFileSync(SCRIPT, path.join(root, 'scripts', 'reliability-report.mjs'));
  fs.mkdirSync(path.join(root, '.reliability'));
  for (const section of sections) {
    fs.writeFileSync(
      path.join(root, '.reliability', `${section.id}.json`),
      JSON.stringify({ title: section.id, description: 'd', columns: ['a'], rows: [[1]], ...section }),
    );
  }
  fs.mkdirSync(path.join(root, 'docs'));
  fs.writeFileSync(path.join(root, 'docs', 'RELIABILITY.md'), committed);
  return {
    root,
    run: (...args) => {
      const result = spawnSync(
        process.execPath,
        [path.join(root, 'scripts', 'reliability-report.mjs'), ...args],
        {
          encoding: 'utf8',
        },
      );
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    committed: () => fs.readFileSync(path.join(root, 'docs', 'RELIABILITY.md'), 'utf8'),
  };
}

const COMMITTED = [
  '| figure | value |',
  '| --- | --- |',
  '| faults survived (correct outcome, nothing duplicated) | 10 of 10 |',
  '| forged or abusive Slack requests rejected | 142 of 142 |',
  '| secrets leaked | 0 |',
  '| crash iterations (SIGKILL during the approval flow) | 50 |',
  '',
].join('\n');

it('writes the report under .reliability/ and leaves the committed docs/RELIABILITY.md untouched', () => {
  const repo = checkout(
    [
      { id: '1-faults', totals: { faultsSurvived: 12, faultRuns: 12 } },
      { id: '4-secrets', totals: { secretsLeaked: 0 } },
    ],
    COMMITTED,
  );
  const run = repo.run();
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(repo.committed()).toBe(COMMITTED);
  const generated = fs.readFileSync(path.join(repo.root, '.reliability', 'RELIABILITY.md'), 'utf8');
  expect(generated).toContain('| faults survived (correct outcome, nothing duplicated) | 12 of 12 |');
  // Not measured here (no crash or Slack section recorded, as on a clone without PostgreSQL): not compared.
  expect(generated).toContain(
    '| crash iterations (SIGKILL during the approval flow) | not measured on this run |',
  );
});

it('fails naming the figure when a measured figure is worse than the committed one', () => {
  const repo = checkout(
    [
      { id: '1-faults', totals: { faultsSurvived: 9, faultRuns: 10 } },
      { id: '5-crash', totals: { crashIterations: 20, approvedDisablesLost: 0, approvedDisablesDoubled: 0 } },
    ],
    COMMITTED,
  );
  const run = repo.run();
  expect(run.status).toBe(1);
  expect(run.stderr).toContain(
    '"faults survived (correct outcome, nothing duplicated)" is worse than docs/RELIABILITY.md says: 9 of 10 (committed: 10 of 10)',
  );
  expect(run.stderr).toContain(
    '"crash iterations (SIGKILL during the approval flow)" is worse than docs/RELIABILITY.md says: 20 (committed: 50)',
  );
  expect(run.stderr).toContain('npm run reliability:update');
  expect(repo.committed()).toBe(COMMITTED);
});

it('reliability:update (--update) copies the generated report to docs/RELIABILITY.md', () => {
  const repo = checkout([{ id: '1-faults', totals: { faultsSurvived: 12, faultRuns: 12 } }], COMMITTED);
  expect(repo.run('--update').status).toBe(0);
  expect(repo.committed()).toBe(
    fs.readFileSync(path.join(repo.root, '.reliability', 'RELIABILITY.md'), 'utf8'),
  );
});
