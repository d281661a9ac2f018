/**
 * The README, CONTRIBUTING.md and docs/ name files and npm scripts; each named one must exist, so a
 * newcomer following them word for word never meets a missing file or script.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const SCRIPTS = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
const NPM_BUILTINS = ['ci', 'install', 'link', 'test', 'start'];

/** Backticked words that are repository paths: they start with one of its top-level folders. */
function namedPaths(text: string): string[] {
  const inTicks = [...text.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]);
  return inTicks
    .map((word) => word.replace(/[.,:;]+$/, ''))
    .filter((word) => !/[<>…*{}$]/.test(word) && !word.startsWith('../'))
    .filter((word) => {
      const first = word.split('/')[0];
      return word.includes('/') ? ['src', 'test', 'docs', 'scripts', '.ci'].includes(first) : false;
    });
}

/** Markdown links to files of this repository, relative to the document. */
function linkedPaths(text: string, doc: string): string[] {
  return [...text.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z]+:/.test(target))
    .map((target) => path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, doc)), target)));
}

describe('README.md, CONTRIBUTING.md and docs/', () => {
  it('README.md stays under 12 KB', () => {
    expect(Buffer.byteLength(read('README.md'))).toBeLessThan(12 * 1024);
  });

  for (const doc of DOCS) {
    describe(doc, () => {
      const text = read(doc);

      it('names only files and folders that exist', () => {
        const named = [...namedPaths(text), ...linkedPaths(text, doc)].filter(
          (p) => !p.startsWith('dist/') && !p.startsWith('..'),
        );
        const missing = named.filter((p) => !fs.existsSync(path.join(ROOT, p)));
        expect(missing).toEqual([]);
      });

      it('names only npm scripts that exist', () => {
        const named = [...text.matchAll(/\bnpm (?:run )?([a-z][\w:-]*)/g)].map((m) => m[1]);
        const unknown = named.filter((name) => !SCRIPTS.includes(name) && !NPM_BUILTINS.includes(name));
        expect(unknown).toEqual([]);
      });
    });
  }
});
