/** Maps a path in the parsed policy file back to the line it is written on. */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

export type PolicyPath = readonly PropertyKey[];

/** The line of the key (or, for a list item, the item) at `path`; the nearest written ancestor when absent. */
export function lineAt(doc: Document, lines: LineCounter, path: PolicyPath): number {
  let node: unknown = doc.contents;
  let line = 1;
  const lineOf = (offset: number | undefined) => (offset === undefined ? line : lines.linePos(offset).line);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && item.key.value === segment,
      );
      if (!pair) break;
      line = lineOf((pair.key as Node).range?.[0]);
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
      const item = node.items[segment] as Node;
      line = lineOf(item.range?.[0]);
      node = item;
    } else {
      break;
    }
  }
  return line;
}

/** `rules`, `rule 2`, `rule 2 remind.after`: rules are numbered from 1, list positions are left to the line. */
export function keyName(path: PolicyPath): string {
  if (path.length === 0) return '(file)';
  if (path[0] !== 'rules' || path.length === 1) return String(path[0]);
  const rule = `rule ${Number(path[1]) + 1}`;
  const inside = path.slice(2).filter((segment) => typeof segment === 'string');
  return inside.length === 0 ? rule : `${rule} ${inside.join('.')}`;
}
