// A reader slower than the writer: copies its stdin to the file named by argv[2], pausing after each
// chunk, so that the pipe in front of it fills up (as with `| jq` on a big export or a slow network).
'use strict';
const fs = require('node:fs');

const out = fs.openSync(process.argv[2], 'w');
const pauseMs = Number(process.argv[3] ?? '10');
process.stdin.on('data', (chunk) => {
  fs.writeSync(out, chunk);
  process.stdin.pause();
  setTimeout(() => process.stdin.resume(), pauseMs);
});
process.stdin.on('end', () => fs.closeSync(out));
