/**
 * Third-party documents the contract tests check against: Atlassian's user-provisioning OpenAPI
 * document and Slack's app manifest schema. They are not ours, so they are not in the repository: CI
 * puts them in `shared/` beside it (`<repo>/../shared/…`), and a variable can point at another copy.
 * Where neither is there (a fresh clone), the tests that need one are skipped and say why.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface SharedDocument {
  /** What it is, for messages. */
  title: string;
  /** The variable that may give its path. */
  variable: string;
  /** Where it is on this machine, or null when it is nowhere. */
  path: string | null;
  /** Why it is missing (null when found). */
  missing: string | null;
}

const SHARED_DIR = path.resolve(__dirname, '../../../shared');

function locate(title: string, variable: string, relative: string): SharedDocument {
  const given = process.env[variable];
  if (given) {
    // A path given on purpose that is wrong is a mistake to report, not a reason to skip.
    if (!fs.existsSync(given)) throw new Error(`${variable}=${given}: there is no file there (${title})`);
    return { title, variable, path: path.resolve(given), missing: null };
  }
  const beside = path.join(SHARED_DIR, relative);
  if (fs.existsSync(beside)) return { title, variable, path: beside, missing: null };
  return {
    title,
    variable,
    path: null,
    missing: `${title} not found at ${beside} and ${variable} is not set`,
  };
}

export const ATLASSIAN_OPENAPI = locate(
  "Atlassian's OpenAPI document",
  'ATLASSIAN_OPENAPI_PATH',
  'atlassian-scim/user-provisioning.openapi.json',
);

export const SLACK_MANIFEST_SCHEMA = locate(
  "Slack's manifest schema",
  'SLACK_MANIFEST_SCHEMA_PATH',
  'slack/manifest.schema.json',
);

/**
 * `describe(name, define)` when the document is there; otherwise one skipped test whose name carries
 * the reason (as test/support/postgres.ts does for PostgreSQL).
 */
export function describeWithDocument(
  document: SharedDocument,
  name: string,
  define: (file: string) => void,
): void {
  if (document.path !== null) {
    const file = document.path;
    describe(name, () => define(file));
    return;
  }
  describe(name, () => {
    it.skip(`skipped: ${document.missing}`, () => undefined);
  });
}
