// Golden traces: every scenarios/*.yaml runs on the simulator and its full text output (trace, final
// state, expectation count, as `kbind sim` prints it) must equal test/sim/golden/<name>.trace byte for
// byte. Each golden file was read by hand against the kernel sources named in the scenario's
// description. After an intended change, rewrite them with
//   UPDATE_GOLDEN=1 npx vitest run test/sim/golden.test.ts
// and read the diff before committing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readModuleDir } from "../../src/host/kmod-files.ts";
import { loadScenario } from "../../src/sim/scenario.ts";
import { formatFinalState, simulate } from "../../src/sim/simulator.ts";
import { formatTraceJsonl, formatTraceText } from "../../src/sim/trace.ts";

const root = resolve(import.meta.dirname, "../..");
const scenarioDir = join(root, "scenarios");
const goldenDir = join(import.meta.dirname, "golden");
const update = process.env.UPDATE_GOLDEN === "1";
const files = readdirSync(scenarioDir).filter((f) => f.endsWith(".yaml")).sort();

function render(file: string): { text: string; failures: number; jsonl: string } {
  const loaded = loadScenario(readFileSync(join(scenarioDir, file), "utf8"), `scenarios/${file}`);
  const dir = loaded.scenario.modules.dir;
  // A real modules directory (the Debian metadata under data/, committed) is read as `kbind sim` reads it.
  const r = simulate(loaded, dir === undefined ? {} : { moduleDir: readModuleDir(resolve(scenarioDir, dir)) });
  const text = formatTraceText(r.trace.records) + formatFinalState(r.state) + `expectations: ${r.expectations - r.failures}/${r.expectations} passed\n`;
  return { text, failures: r.failures, jsonl: formatTraceJsonl(r.trace.records) };
}

describe("golden traces (scenarios/*.yaml → test/sim/golden/*.trace)", () => {
  it("covers the reference scenarios of issue 4", () => {
    expect(files).toEqual(expect.arrayContaining(["debian-amd64-autoload.yaml", "cold-boot-server.yaml", "hotplug.yaml", "deferred-probe-chain.yaml", "driver-override.yaml", "new-id.yaml"]));
  });

  it.each(files)("%s", (file) => {
    const { text, failures } = render(file);
    expect(failures).toBe(0); // every scenario's own expectations hold
    const golden = join(goldenDir, `${basename(file, ".yaml")}.trace`);
    if (update) writeFileSync(golden, text);
    expect(existsSync(golden), `missing ${golden}: run with UPDATE_GOLDEN=1 and read it`).toBe(true);
    expect(text).toBe(readFileSync(golden, "utf8"));
  });

  it("the JSON Lines trace carries the same records as the text trace", () => {
    for (const file of files) {
      const { text, jsonl } = render(file);
      const recs = jsonl.trimEnd().split("\n").map((l) => JSON.parse(l) as { text: string });
      for (const r of recs) expect(text).toContain(r.text);
    }
  });
});
