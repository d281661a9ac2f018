/** Hostile policy files shared by the policy unit tests and the process tests. */

/** Nine levels of nine aliases (9^9 values once expanded), used by the rule at line 12. */
export function aliasBomb(): string {
  const levels = 'abcdefghi';
  const first = `a: &a [${Array(9).fill('"x"').join(',')}]`;
  const rest = [...levels.slice(1)].map(
    (name, i) => `${name}: &${name} [${Array(9).fill(`*${levels[i]}`).join(',')}]`,
  );
  return [first, ...rest, 'rules:', '  - action: disable', '    approvers: *i', ''].join('\n');
}
