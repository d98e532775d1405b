#!/usr/bin/env node
// `kubectl lvs ...`: kubectl runs an executable named kubectl-lvs on the PATH for it. The same
// commands as lvs-operator (status, genhash, and the rest).
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
