// Prints jest's totals as the last line of the run, "jest: N passed, N failed, N skipped", for CI to read.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`;
    // After jest's own summary, which its default reporters print later in this same phase.
    process.once('exit', () => process.stdout.write(line));
  }
}
module.exports = SummaryReporter;
