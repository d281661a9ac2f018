import fc from 'fast-check';

/** Characters that break stores, terminals or readers: NUL, lone surrogates, bidi and zero-width controls. */
const HOSTILE = ['\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\u202e', '\u2066', '\u200b', '\ufeff'];

/**
 * Arbitrary Unicode text: any code point (lone surrogates included), the hostile characters above
 * mixed in often, and now and then a 10 kB value.
 */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.string({
      unit: fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
      maxLength: 40,
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ unit: 'binary', maxLength: 5 }), fc.constantFrom('é', 'x', '👩🏽‍💻'))
      .map(([s, c]) => s + c.repeat(Math.ceil(10_240 / c.length))),
  },
);
