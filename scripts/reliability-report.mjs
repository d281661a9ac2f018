// Builds the reliability report from the sections the reliability suites (test/reliability) recorded in
// .reliability/ during the jest run, and writes it to .reliability/RELIABILITY.md (ignored by git, so
// `npm test` leaves the working tree as it found it). Exits 1 when
//   - a headline figure shows a failure (a lost or doubled disable, a leaked secret, …), or
//   - a figure measured on this run is worse than the committed docs/RELIABILITY.md says.
// `node scripts/reliability-report.mjs --update` (npm run reliability:update) also copies the report
// to docs/RELIABILITY.md. To add a section: record it from its suite (test/support/reliability.ts),
// add its id to EXPECTED_SECTIONS and, for a headline figure, an entry to FIGURES.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.join(root, '.reliability');
const generatedPath = path.join(dir, 'RELIABILITY.md');
const committedPath = path.join(root, 'docs', 'RELIABILITY.md');

/** Section ids (the suites' `recordReliability({ id })`), in report order. */
const EXPECTED_SECTIONS = [
  '1-faults',
  '2-slack',
  '3-hostile-input',
  '4-secrets',
  '5-crash',
  '6-http-fuzz',
  '7-audit-first',
  '8-store-full',
  '9-stored-rows-and-replays',
  '10-approved-work',
  '11-sigterm-all-down',
  '12-kill-window',
  '13-one-clock',
  '14-pg-terminate',
  '15-ack-bound',
];

/**
 * The summary's headline figures, from the sections' `totals`. `better`: `share` (the first of two
 * totals out of the second: a higher share is better), `more` (a higher count is better), `none`
 * (every total should be 0: lower is better). `label` is the summary row; keep it stable, since the
 * comparison with the committed report finds figures by it.
 */
const FIGURES = [
  {
    label: 'faults survived (correct outcome, nothing duplicated)',
    totals: ['faultsSurvived', 'faultRuns'],
    better: 'share',
  },
  {
    label: 'bad inputs handled (clear refusal or correct result, nothing changed)',
    totals: ['badInputsHandled', 'badInputsTried'],
    better: 'share',
  },
  {
    label: 'forged or abusive Slack requests rejected',
    totals: ['forgedRequestsRejected', 'forgedRequestsTried'],
    better: 'share',
  },
  { label: 'secrets leaked', totals: ['secretsLeaked'], better: 'none' },
  {
    label: 'crash iterations (SIGKILL during the approval flow)',
    totals: ['crashIterations'],
    better: 'more',
  },
  {
    label: 'approved disables lost / applied twice',
    totals: ['approvedDisablesLost', 'approvedDisablesDoubled'],
    better: 'none',
  },
  {
    label: 'approved disables completed after a SIGKILL without their result row / never announced',
    totals: ['completedWithoutResultRow', 'completedUnannounced'],
    better: 'none',
  },
  { label: 'bulk rows failed by rate limits', totals: ['bulkRowsFailedByRateLimits'], better: 'none' },
  { label: 'HTTP fuzz requests survived', totals: ['httpFuzzSurvived', 'httpFuzzRequests'], better: 'share' },
  {
    label: 'bad stored rows recovered (failed alone, audited, told)',
    totals: ['badStoredRowsRecovered', 'badStoredRowsTried'],
    better: 'share',
  },
  { label: 'replayed Slack deliveries refused', totals: ['replaysRefused', 'replaysTried'], better: 'share' },
  {
    label: 'audit rows missing (changes without their record)',
    totals: ['auditRowsMissing'],
    better: 'none',
  },
  { label: 'commands whose requester was told nothing', totals: ['commandsUnanswered'], better: 'none' },
  {
    label: 'store write failures unreported (full disk)',
    totals: ['storeWriteFailuresUnreported'],
    better: 'none',
  },
  {
    label: 'approved disables completed after a 60 s Atlassian storm (injected clock)',
    totals: ['approvedDisablesCompletedAfterStorm', 'approvedDisablesInStorm'],
    better: 'share',
  },
  {
    label: 'received rows lost while PostgreSQL backends were terminated',
    totals: ['receivedRowsLost'],
    better: 'none',
  },
  {
    label: 'SIGTERM to exit with every dependency down: runs over 30 s',
    totals: ['sigtermExitsOver30s'],
    better: 'none',
  },
  {
    label: 'Slack requests answered after 3 s / nobody told, while the database did not answer',
    totals: ['answersOver3s', 'peopleNotTold'],
    better: 'none',
  },
];

const sections = EXPECTED_SECTIONS.filter((id) => fs.existsSync(path.join(dir, `${id}.json`))).map((id) =>
  JSON.parse(fs.readFileSync(path.join(dir, `${id}.json`), 'utf8')),
);
const missing = EXPECTED_SECTIONS.filter((id) => !sections.some((s) => s.id === id));

/** A figure's totals on this run, or null when no recorded section measured it. */
function measure(figure) {
  const recorded = sections.filter((s) => figure.totals.some((name) => name in (s.totals ?? {})));
  if (recorded.length === 0) return null;
  const values = figure.totals.map((name) => recorded.reduce((n, s) => n + (s.totals?.[name] ?? 0), 0));
  if (figure.better === 'share' && values[1] === 0) return null;
  if (figure.better === 'more' && values[0] === 0) return null;
  return values;
}

const show = (figure, values) =>
  values === null ? 'not measured on this run' : values.join(figure.better === 'share' ? ' of ' : ' / ');

/** The numbers of a summary value as written (`58 of 58`, `0 / 0`, `50`), or null. */
const numbersOf = (text) => (/^\d+((?: of | \/ )\d+)*$/.test(text) ? text.match(/\d+/g).map(Number) : null);

/** Why `now` is worse than `before` for this figure, or null when it is not. */
function worse(figure, now, before) {
  if (before === null || before.length !== now.length) return null;
  switch (figure.better) {
    case 'share':
      // now[0] / now[1] < before[0] / before[1], without division.
      return now[0] * before[1] < before[0] * now[1]
        ? `${show(figure, now)} (committed: ${show(figure, before)})`
        : null;
    case 'more':
      return now[0] < before[0] ? `${now[0]} (committed: ${before[0]})` : null;
    case 'none':
      return now.some((n, i) => n > before[i])
        ? `${show(figure, now)} (committed: ${show(figure, before)})`
        : null;
  }
  throw new Error(`unknown figure kind ${figure.better}`);
}

/** The summary table of a report: label → value text. */
function summaryOf(markdown) {
  const rows = new Map();
  for (const line of markdown.split('\n')) {
    const cells = /^\| (.+) \| (.+) \|$/.exec(line);
    if (cells) rows.set(cells[1].replace(/\\\|/g, '|'), cells[2]);
  }
  return rows;
}

const escapeCell = (value) => String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const table = (columns, rows) =>
  [
    `| ${columns.map(escapeCell).join(' | ')} |`,
    `| ${columns.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
  ].join('\n');

const measured = FIGURES.map((figure) => ({ figure, values: measure(figure) }));
const lines = [
  '# Reliability and security figures',
  '',
  'Generated from what the suites in `test/reliability/` observed: `npm test` writes it to',
  '`.reliability/RELIABILITY.md` and fails when a figure is worse than here; `npm run reliability:update`',
  'copies it here. Do not edit by hand.',
  '',
  '## Summary',
  '',
  table(
    ['figure', 'value'],
    measured.map(({ figure, values }) => [figure.label, show(figure, values)]),
  ),
  '',
];
if (missing.length > 0) lines.push(`Sections not recorded on this run: ${missing.join(', ')}.`, '');
for (const section of sections) {
  lines.push(`## ${section.title}`, '', section.description, '', table(section.columns, section.rows), '');
}
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(generatedPath, lines.join('\n'));
console.log(`${path.relative(root, generatedPath)} written from ${sections.length} sections`);

const failures = [];
for (const { figure, values } of measured) {
  if (values === null) continue;
  const failed =
    figure.better === 'share'
      ? values[0] !== values[1]
      : figure.better === 'none' && values.some((n) => n !== 0);
  if (failed) failures.push(`${figure.label}: ${show(figure, values)}`);
}

if (process.argv.includes('--update')) {
  fs.copyFileSync(generatedPath, committedPath);
  console.log(`${path.relative(root, committedPath)} updated`);
} else if (fs.existsSync(committedPath)) {
  const committed = summaryOf(fs.readFileSync(committedPath, 'utf8'));
  for (const { figure, values } of measured) {
    if (values === null) continue;
    const why = worse(figure, values, numbersOf(committed.get(figure.label) ?? ''));
    if (why) {
      failures.push(
        `"${figure.label}" is worse than docs/RELIABILITY.md says: ${why}; fix the regression, or run ` +
          '`npm run reliability:update` to commit the new figure on purpose',
      );
    }
  }
}
if (failures.length > 0) {
  console.error(`reliability:\n${failures.map((f) => `  ${f}`).join('\n')}`);
  process.exit(1);
}
