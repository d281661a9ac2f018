/** docs/messages/ must be what the view code renders today (`npm run docs:messages` regenerates it). */
import fs from 'node:fs';
import path from 'node:path';
import { messageExamples, renderMessageDocs } from '../../support/message-examples';

const DIR = path.resolve(__dirname, '../../../docs/messages');

describe('docs/messages', () => {
  it('matches the rendered examples (run `npm run docs:messages` if not)', () => {
    const files = renderMessageDocs(messageExamples());
    const onDisk = fs.existsSync(DIR)
      ? fs.readdirSync(DIR).filter((name) => name === 'README.md' || name.endsWith('.json'))
      : [];
    const drifted = [
      ...[...files]
        .filter(([name, content]) => {
          const file = path.join(DIR, name);
          return !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== content;
        })
        .map(([name]) => name),
      ...onDisk.filter((name) => !files.has(name)).map((name) => `${name} (no longer generated)`),
    ];
    if (drifted.length > 0) {
      throw new Error(`docs/messages is out of date, run npm run docs:messages:\n  ${drifted.join('\n  ')}`);
    }
  });

  it('writes one JSON file per example, in the shape Block Kit Builder takes', () => {
    const examples = messageExamples();
    const files = renderMessageDocs(examples);
    expect(files.size).toBe(examples.length + 1);
    for (const example of examples) {
      const payload = JSON.parse(files.get(`${example.name}.json`) ?? 'null');
      if (example.kind === 'message') expect(Object.keys(payload)).toEqual(['blocks']);
      else expect(payload.type).toBe(example.kind);
      expect(files.get('README.md')).toContain(`## ${example.name} (${example.kind})`);
    }
    expect(files.get('README.md')).toContain('https://app.slack.com/block-kit-builder/#%7B%22blocks%22');
  });
});
