// Prints jest's totals as the last line of the run, "jest: N passed, N failed, N skipped", for CI to read.
// Before it, the reason of every skipped test titled "… tests skipped: <why>" (e.g. PostgreSQL without
// TEST_DATABASE_URL) or "skipped: <why>" (a third-party document not beside the clone), once: jest's default reporter hides the console output of a wholly skipped file.
class SummaryReporter {
  constructor() {
    this.reasons = new Map();
  }

  onTestResult(_test, testResult) {
    for (const assertion of testResult.testResults) {
      if (assertion.status === 'pending' && /(^| tests )skipped: /.test(assertion.title)) {
        this.reasons.set(assertion.title, (this.reasons.get(assertion.title) ?? 0) + 1);
      }
    }
  }

  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const reasons = [...this.reasons].map(
      ([title, files]) => `${title} (${files} test file${files === 1 ? '' : 's'})\n`,
    );
    const line = `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`;
    // After jest's own summary, which its default reporters print later in this same phase.
    process.once('exit', () => process.stdout.write(reasons.join('') + line));
  }
}
module.exports = SummaryReporter;
