// Fuzzes every decoder that reads what a peer sends, for as long as asked, from one seed: core's
// endpoint parser, tcp's line and length decoders, udp's and reliable-udp's header decoders (the properties in each
// package's test/reliability-fuzz.test.ts, which a normal test run does a few thousand times).
//
//   pnpm fuzz                             # 200,000 cases per property, from a random seed
//   pnpm fuzz --runs 2000000              # longer
//   pnpm fuzz --seed 1234 --runs 200000   # the same run again, case for case
//
// The seed is printed first; on a failure fast-check prints the shrunk counterexample, and this
// prints the command that replays the run.
import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const USAGE =
  "usage: pnpm fuzz [--runs N] [--seed S]   (N ≥ 1 cases per property; S an integer from -2147483648 to 2147483647)";

let values;
try {
  ({ values } = parseArgs({
    options: {
      runs: { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }));
} catch (err) {
  console.error(`fuzz: ${err.message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function integer(flag, text, min, max) {
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || value < min || value > max) {
    console.error(`fuzz: --${flag}: '${text}' is not an integer from ${min} to ${max}\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

const runs = values.runs === undefined ? 200_000 : integer("runs", values.runs, 1, 1e9);
// fast-check seeds are 32-bit integers.
const seed =
  values.seed === undefined
    ? randomInt(-(2 ** 31), 2 ** 31)
    : integer("seed", values.seed, -(2 ** 31), 2 ** 31 - 1);

console.log(`fuzz: ${runs.toLocaleString("en-US")} cases per property, seed ${seed}`);
const root = fileURLToPath(new URL("..", import.meta.url));
const vitest = spawnSync(
  "pnpm",
  [
    "exec",
    "vitest",
    "run",
    ...["--project", "core", "--project", "tcp", "--project", "udp", "--project", "reliable-udp"],
    "--testTimeout=0",
    "--reporter=default",
    "reliability-fuzz",
  ],
  {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, SOCKET_LAB_FUZZ_RUNS: String(runs), SOCKET_LAB_FUZZ_SEED: String(seed) },
  },
);
if (vitest.status !== 0) {
  console.error(
    `fuzz: failed with seed ${seed}; replay it with: pnpm fuzz --seed ${seed} --runs ${runs}`,
  );
  process.exit(1);
}
console.log(
  `fuzz: no failure in ${runs.toLocaleString("en-US")} cases per property (seed ${seed})`,
);
