/**
 * How the CLI ends. `process.exit` drops whatever a pipe has not taken yet (Node queues writes to a
 * pipe that is full), so an export piped to a slow reader would lose its end: the exit status is set
 * first and the process ends only once stdout and stderr have handed everything to the OS.
 */
export function exitWhenWritten(
  code: number,
  streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr],
): void {
  process.exitCode = code;
  let pending = streams.length;
  const done = (): void => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  for (const stream of streams) {
    // A reader that went away (`| head`) is not an error of ours: end with the status we have.
    stream.on('error', () => process.exit(code));
    // Called once this empty write, and so everything written before it, has been handed over.
    stream.write('', done);
  }
}
