import { equalityFilter, escapeFilterValue } from '../../src/scim/filter';

/** Reads the value back out of `attr eq "<literal>"` the way a SCIM server's grammar does. */
function literalOf(filter: string): string {
  const match = /^(userName|externalId) eq (".*")$/s.exec(filter);
  if (!match) throw new Error(`not a single eq filter: ${filter}`);
  const literal = match[2];
  // A raw control character would not be a valid literal; JSON.parse fails on anything after it ends.
  expect([...literal].every((c) => c.charCodeAt(0) >= 0x20)).toBe(true);
  const value: unknown = JSON.parse(literal);
  expect(typeof value).toBe('string');
  return value as string;
}

describe('escapeFilterValue', () => {
  it('quotes a plain value', () => {
    expect(escapeFilterValue('jane@example.com')).toBe('"jane@example.com"');
  });

  it('escapes double quotes and backslashes', () => {
    expect(escapeFilterValue('a"b')).toBe('"a\\"b"');
    expect(escapeFilterValue('a\\b')).toBe('"a\\\\b"');
  });

  it('escapes control characters', () => {
    expect(escapeFilterValue('a\nb\tc\u0001')).toBe('"a\\nb\\tc\\u0001"');
  });

  it('keeps non-ASCII text as it is', () => {
    expect(escapeFilterValue('zoë@exämple.com')).toBe('"zoë@exämple.com"');
  });

  it('keeps an empty value as an empty literal', () => {
    expect(escapeFilterValue('')).toBe('""');
  });
});

describe('equalityFilter', () => {
  it('builds a single eq filter', () => {
    expect(equalityFilter('userName', 'jane@example.com')).toBe('userName eq "jane@example.com"');
    expect(equalityFilter('externalId', '42')).toBe('externalId eq "42"');
  });

  it.each([
    'a" or userName pr or userName eq "b',
    'x") or (userName pr',
    'back\\slash"quote',
    'trailing\\',
    '\\" or userName pr or userName eq \\"',
    'new\nline',
  ])('turns an injection attempt into one literal: %j', (value) => {
    const filter = equalityFilter('userName', value);
    expect(literalOf(filter)).toBe(value);
  });
});
