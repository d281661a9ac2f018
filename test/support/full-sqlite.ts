/**
 * A SQLite store on a full disk (issue 11 finding 1). The COMMIT fails when the disk is full; a child
 * process whose file size is capped (`ulimit -f`, the way a full disk answers a write) writes audit
 * rows, approval requests and decisions until long past the cap. (`PRAGMA max_page_count` fails the
 * statement itself, before any row is returned, so only the size cap reaches the COMMIT path.) The
 * child loads the compiled store from dist/ (`npm run build`).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SqliteStore } from '../../src/store';
import { openSqlite } from '../../src/store/sqlite';

export const DIST_STORE = resolve(__dirname, '../../dist/store');

const FILLER = `
const { SqliteStore } = require(process.env.DIST + '/sqlite-store.js');
const { openSqlite } = require(process.env.DIST + '/sqlite.js');
const store = new SqliteStore(openSqlite(process.argv[2]));
const big = 'x'.repeat(2000);
const claimed = { audit: [], approvals: [], decided: [] };
let failures = 0;
let silent = 0;
let attempts = 900;
const attempt = async (work) => { try { await work(); } catch (error) { failures++; } };
(async () => {
  for (let i = 0; i < 300; i++) {
    await attempt(async () => claimed.audit.push((await store.appendAudit({
      at: new Date(), actor: 'U0FILL', source: 'cli', kind: 'command', command: 'fill', target: 'n' + i,
      outcome: 'received', requestId: null, detail: { big } })).id));
    const id = 'req-' + i;
    await attempt(async () => {
      await store.createApproval({ id, requesterId: 'U0R', channelId: 'C0', profile: { big }, target: 't' + i,
        reason: big, createdAt: new Date(), expiresAt: new Date(Date.now() + 3600000) });
      claimed.approvals.push(id);
    });
    if (!claimed.approvals.includes(id)) { attempts--; continue; }
    // Just created and pending: null here would be a decision silently lost.
    await attempt(async () => { if (await store.decideApproval(id, 'approved', 'U0A', new Date())) claimed.decided.push(id); else silent++; });
  }
  try { await store.close(); } catch {}
  process.stdout.write(JSON.stringify({ claimed, failures, silent, attempts }));
})();
`;

export interface FillOutcome {
  /** Writes tried (a decision only for a request that was stored). */
  attempts: number;
  /** Writes that threw: reported failures. */
  failures: number;
  /** Decisions answered "not decided" for a request just stored: a write lost without an error. */
  silent: number;
  /** What the store said it stored. */
  claimed: { audit: number[]; approvals: string[]; decided: string[] };
}

/** Fills a new store at `file` (in `dir`) from a child process capped at 128 kB; returns what it saw. */
export function fillUntilFull(dir: string, file: string): FillOutcome {
  const script = join(dir, 'filler.js');
  writeFileSync(script, FILLER);
  new SqliteStore(openSqlite(file)).close();
  // 256 blocks of 512 bytes: room for a few dozen of the 900 writes.
  const child = spawnSync('sh', ['-c', 'ulimit -f 256 && exec "$0" "$@"', process.execPath, script, file], {
    env: { ...process.env, DIST: DIST_STORE },
    encoding: 'utf8',
  });
  if (child.stderr !== '' || child.status !== 0) throw new Error(`filler failed: ${child.stderr}`);
  return JSON.parse(child.stdout) as FillOutcome;
}

/** How many writes the store claimed that are not in the file (read back without the cap). */
export async function unstoredClaims(file: string, outcome: FillOutcome): Promise<number> {
  const check = new SqliteStore(openSqlite(file));
  try {
    const audit = new Set((await check.listAudit({ limit: 100_000 })).map((e) => e.id));
    let missing = outcome.claimed.audit.filter((id) => !audit.has(id)).length;
    for (const id of outcome.claimed.approvals) {
      const request = await check.getApproval(id);
      if (!request) missing++;
      else if (outcome.claimed.decided.includes(id) && request.status !== 'approved') missing++;
    }
    return missing;
  } finally {
    await check.close();
  }
}
