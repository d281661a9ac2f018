/**
 * Property-based tests (fast-check, fixed seed) for the three functions that stand between hostile text
 * and a system: the profile parser, the SCIM filter escaper and the mrkdwn escaper.
 */
import fc from 'fast-check';
import { parseUserProfile, ProfileError, STRING_KEYS } from '../../src/iam/profile';
import { escapeFilterValue } from '../../src/scim/filter';
import { userIdProblem } from '../../src/scim/user-id';
import { looksLikeEmail } from '../../src/scim/value-rules';
import { parseUserFilter } from '../../src/sandbox/filter';
import { escapeMrkdwn } from '../../src/views/slack/escape';

const SETTINGS = { seed: 424_242, numRuns: 500 };

const anyText = fc.string({ unit: 'binary', maxLength: 200 });
/** Changes the case of some letters, the way an admin might type a key. */
const randomCase = (key: string) =>
  fc
    .array(fc.boolean(), { minLength: key.length, maxLength: key.length })
    .map((upper) => [...key].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));

describe('parseUserProfile', () => {
  it('never throws anything but ProfileError, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (text) => {
          try {
            parseUserProfile(text);
          } catch (error) {
            expect(error).toBeInstanceOf(ProfileError);
          }
        },
      ),
      SETTINGS,
    );
  });

  it('never throws anything but ProfileError for any parsed JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseUserProfile(value);
        } catch (error) {
          expect(error).toBeInstanceOf(ProfileError);
        }
      }),
      SETTINGS,
    );
  });

  it('round-trips known string keys case-insensitively, values trimmed', () => {
    // An id must also be usable in a URL (src/scim/user-id.ts) and an email look like one
    // (src/scim/value-rules.ts); those refusals have tests of their own.
    const valueFor = (key: string) =>
      key === 'email'
        ? fc.emailAddress().filter((v) => looksLikeEmail(v))
        : fc
            .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
            .filter((v) => v.trim() !== '' && (key !== 'id' || userIdProblem(v.trim()) === null));
    const entry = fc
      .constantFrom(...STRING_KEYS)
      .chain((key) => fc.tuple(fc.constant(key), randomCase(key), valueFor(key)));
    fc.assert(
      fc.property(
        fc.uniqueArray(entry, { selector: ([key]) => key, maxLength: STRING_KEYS.length }),
        (entries) => {
          const given = Object.fromEntries(entries.map(([, typed, value]) => [typed, value]));
          const expected = Object.fromEntries(entries.map(([key, , value]) => [key, value.trim()]));
          expect(parseUserProfile(JSON.stringify(given))).toEqual(expected);
          expect(parseUserProfile(given)).toEqual(expected);
        },
      ),
      SETTINGS,
    );
  });
});

describe('escapeFilterValue', () => {
  it('JSON.parse gives the input back, and no quote inside is unescaped', () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const literal = escapeFilterValue(value);
        expect(JSON.parse(literal)).toBe(value);
        const inner = literal.slice(1, -1);
        // Walk the literal: every `"` inside must be preceded by an escaping backslash.
        for (let i = 0; i < inner.length; i += 1) {
          if (inner[i] === '\\') i += 1;
          else expect(inner[i]).not.toBe('"');
        }
        // And no raw control character survives.
        expect([...inner].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
      }),
      SETTINGS,
    );
  });

  it('the emulated Atlassian reads the whole value back as one literal on userName and externalId', () => {
    fc.assert(
      fc.property(
        anyText,
        fc.constantFrom('userName', 'externalId') as fc.Arbitrary<'userName' | 'externalId'>,
        (value, attribute) => {
          expect(parseUserFilter(`${attribute} eq ${escapeFilterValue(value)}`)).toEqual({
            attribute,
            value,
          });
        },
      ),
      SETTINGS,
    );
  });
});

const unescapeMrkdwn = (text: string) =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('escapeMrkdwn', () => {
  const mrkdwnish = fc.oneof(
    anyText,
    fc
      .array(
        fc.constantFrom(
          '<',
          '>',
          '&',
          '&amp;',
          '&lt;',
          '<!channel>',
          '<@U123>',
          '<http://evil|x>',
          'a',
          ' ',
          '😀',
        ),
        {
          maxLength: 30,
        },
      )
      .map((parts) => parts.join('')),
  );

  it('leaves no < or >, no bare &, and unescaping gives the input back', () => {
    fc.assert(
      fc.property(mrkdwnish, (text) => {
        const escaped = escapeMrkdwn(text);
        expect(escaped).not.toMatch(/[<>]/);
        expect(escaped.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
        expect(unescapeMrkdwn(escaped)).toBe(text);
      }),
      SETTINGS,
    );
  });
});
