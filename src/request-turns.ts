/**
 * Hands calls to `handle` one per turn of the event loop, in arrival order. A burst of slash commands
 * arrives in one go; handled back to back, the SCIM connection each command opens could only complete
 * after the last of them had been acknowledged, so every result waited for the whole burst. With a turn
 * between requests, each command's SCIM request leaves while the next one is being acknowledged.
 */
export function oneCallPerTurn<A extends unknown[]>(handle: (...args: A) => void): (...args: A) => void {
  const waiting: A[] = [];
  let scheduled = false;
  const next = () => {
    const args = waiting.shift();
    try {
      if (args !== undefined) handle(...args);
    } finally {
      scheduled = waiting.length > 0;
      if (scheduled) setImmediate(next);
    }
  };
  return (...args: A) => {
    waiting.push(args);
    if (!scheduled) {
      scheduled = true;
      setImmediate(next);
    }
  };
}
