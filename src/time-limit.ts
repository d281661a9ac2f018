/**
 * Resolves to `work`'s value when it answers within `ms` (a rejection within `ms` rejects), else to
 * `late`. The work is left running; whatever it does afterwards is ignored.
 */
export async function answerWithin<T, L>(work: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  const tooLate = new Promise<L>((resolve) => {
    timer = setTimeout(() => resolve(late), ms);
  });
  try {
    return await Promise.race([work, tooLate]);
  } finally {
    clearTimeout(timer);
  }
}
