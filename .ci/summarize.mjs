// Sums the vitest JSON reports of every package and app into one line: "N passed, N failed".
// A package with a test script but no report counts as a failure: its tests did not run.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];

for (const group of ["packages", "apps"]) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group).sort()) {
    const dir = join(group, name);
    const manifest = join(dir, "package.json");
    if (!existsSync(manifest)) continue;
    if (JSON.parse(readFileSync(manifest, "utf8")).scripts?.test === undefined) continue;
    const reportPath = join(dir, ".vitest", "report.json");
    if (!existsSync(reportPath)) {
      problems.push(`${dir}: no test report (its tests did not run)`);
      failed += 1;
      continue;
    }
    const report = JSON.parse(readFileSync(reportPath, "utf8"));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    for (const file of report.testResults ?? []) {
      for (const test of file.assertionResults ?? []) {
        if (test.status !== "failed") continue;
        // A timeout's stack starts with vitest's placeholder message instead of its own.
        const first = String(test.failureMessages?.[0] ?? "").split("\n")[0];
        const reason = first === "Error: STACK_TRACE_ERROR" ? "timed out (testTimeout)" : first;
        problems.push(`FAILED ${relative(process.cwd(), file.name)} > ${test.fullName}: ${reason}`);
      }
    }
    // A test file that fails to load has no failed tests but a failed suite.
    if (report.success === false && report.numFailedTests === 0) {
      failed += Math.max(1, report.numFailedTestSuites);
      problems.push(`${dir}: a test file failed to run`);
    }
  }
}

for (const problem of problems) console.error(problem);
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
