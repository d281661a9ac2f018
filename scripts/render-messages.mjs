// Renders docs/messages/ (one Block Kit JSON file per Slack message, modal and Home tab the bot sends,
// plus README.md with Block Kit Builder preview links) from test/support/message-examples.ts, built
// to dist/messages/ by tsconfig.messages.json (the examples are test code: the build of src/ leaves
// them out).
//
//   npm run docs:messages                       build the examples, then write the files
//   node scripts/render-messages.mjs --check    compare instead of writing; exit 1 listing drifted files
//
// Exits 2 when the built examples are missing or an argument is unknown.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BUILT = path.join(ROOT, 'dist', 'messages', 'test', 'support', 'message-examples.js');
const OUT = path.join(ROOT, 'docs', 'messages');

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--check');
if (unknown.length > 0) {
  console.error(`unknown argument ${unknown.join(' ')}; usage: node scripts/render-messages.mjs [--check]`);
  process.exit(2);
}
const check = args.includes('--check');
if (!fs.existsSync(BUILT)) {
  console.error(
    `${BUILT} is missing: run \`npx tsc -p tsconfig.messages.json\` first (\`npm run docs:messages\` does it).`,
  );
  process.exit(2);
}

const { default: views } = await import('../dist/messages/test/support/message-examples.js');
const files = views.renderMessageDocs(views.messageExamples());

const generated = (name) => name === 'README.md' || name.endsWith('.json');
const existing = fs.existsSync(OUT) ? fs.readdirSync(OUT).filter(generated) : [];
const stale = existing.filter((name) => !files.has(name));
const read = (name) => {
  const file = path.join(OUT, name);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
};
const changed = [...files].filter(([name, content]) => read(name) !== content).map(([name]) => name);

if (check) {
  const drifted = [...changed, ...stale.map((name) => `${name} (no longer generated)`)];
  if (drifted.length > 0) {
    console.error(`docs/messages is out of date; run \`npm run docs:messages\`:`);
    for (const name of drifted) console.error(`  ${name}`);
    process.exit(1);
  }
  console.log(`docs/messages is up to date (${files.size} files).`);
} else {
  fs.mkdirSync(OUT, { recursive: true });
  for (const name of changed) fs.writeFileSync(path.join(OUT, name), files.get(name));
  for (const name of stale) fs.rmSync(path.join(OUT, name));
  console.log(`docs/messages: ${files.size} files, ${changed.length} written, ${stale.length} removed.`);
}
