// Lint and type-check are part of the test suite (issue: Foundation, "Lint is part of the tests").
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function run(cmd: string, args: string[]): { code: number; out: string } {
  try {
    const out = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { code: err.status ?? 1, out: `${err.stdout ?? ""}${err.stderr ?? ""}` };
  }
}

describe("static checks", () => {
  it("tsc --noEmit reports no type errors", () => {
    const r = run("npx", ["tsc", "-p", "tsconfig.json", "--noEmit"]);
    expect(r.out).toBe("");
    expect(r.code).toBe(0);
  }, 300_000);

  it("typed typescript-eslint reports no problems", () => {
    const r = run("npx", ["eslint", "--max-warnings", "0", "."]);
    expect(r.out.trim()).toBe("");
    expect(r.code).toBe(0);
  }, 300_000);
});
