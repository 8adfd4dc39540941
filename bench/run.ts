// `npm run bench`: runs every bench/*.bench.ts in its own process, one after another (2 cores:
// benchmarks never run side by side), and prints what each reports. Figures are ratios against the
// real tools measured in the same run, not absolute targets checked by tests.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f} ===\n`);
  try {
    execFileSync(process.execPath, ["--import", "tsx", join(here, f)], { stdio: "inherit" });
  } catch {
    failed++;
    process.stdout.write(`${f}: failed\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
