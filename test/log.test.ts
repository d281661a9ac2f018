/**
 * Issue 10, finding 9: redaction ran on the JSON-encoded log line, so a secret holding `"` or `\`
 * (written there as `\"`, `\\`) slipped through. `redact` now matches the raw secret and its
 * JSON-escaped forms.
 */
import { createLogger, redact } from '../src/log';

const SECRET = 'pa"ss\\wo\u0001rd';

describe('finding 9: redaction matches the raw secret and its JSON-escaped form', () => {
  it('a log line with such a secret in the message and in a field shows neither', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', write: (line) => lines.push(line), secrets: [SECRET] });
    logger.error(`failed with ${SECRET}`, { detail: `body: {"token":${JSON.stringify(SECRET)}}` });
    const line = lines.join('');
    expect(line).not.toContain('pa"ss');
    expect(line).not.toContain('pa\\"ss');
    expect(line).not.toContain('wo\\u0001rd');
    expect(JSON.parse(line)).toEqual(
      expect.objectContaining({ message: 'failed with [REDACTED]', detail: 'body: {"token":"[REDACTED]"}' }),
    );
  });

  it('redact catches the raw, the once-escaped and the twice-escaped forms', () => {
    const once = JSON.stringify(SECRET).slice(1, -1);
    const twice = JSON.stringify(once).slice(1, -1);
    expect(redact(`a ${SECRET} b ${once} c ${twice} d`, [SECRET])).toBe(
      'a [REDACTED] b [REDACTED] c [REDACTED] d',
    );
  });

  it('a secret inside a longer one does not leave half of the longer one behind', () => {
    expect(redact('xx-long-secret-yy', ['secret', 'long-secret'])).toBe('xx-[REDACTED]-yy');
  });
});
