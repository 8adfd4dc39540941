// Builds and runs test/helpers/glibc-fnmatch.c: glibc's fnmatch(3) with flags 0 in the C locale, fed in one
// batch through a pipe. Strings are byte strings (one UTF-16 code unit per byte, 1..255, no NUL).
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SRC = join(import.meta.dirname, "glibc-fnmatch.c");

/** Compiles the helper with gcc into a temp dir; throws if gcc is missing (the suite needs it). */
export function buildGlibcFnmatch(): string {
  const dir = mkdtempSync(join(tmpdir(), "kbind-fnmatch-"));
  const exe = join(dir, "glibc-fnmatch");
  execFileSync("gcc", ["-O2", "-o", exe, SRC], { stdio: "pipe" });
  return exe;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** glibc's verdict for every pair, in order: true when fnmatch() returned 0. */
export function glibcFnmatchBatch(exe: string, pairs: readonly (readonly [string, string])[]): boolean[] {
  const parts: Buffer[] = [];
  for (const [p, s] of pairs) {
    const pb = Buffer.from(p, "latin1");
    const sb = Buffer.from(s, "latin1");
    parts.push(u32(pb.length), pb, u32(sb.length), sb);
  }
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C" };
  delete env.POSIXLY_CORRECT;
  const out = execFileSync(exe, [], { input: Buffer.concat(parts), env, maxBuffer: 1 << 28 });
  if (out.length !== pairs.length) throw new Error(`glibc-fnmatch answered ${out.length} of ${pairs.length} pairs`);
  const res: boolean[] = [];
  for (const b of out) res.push(b === 0x30);
  return res;
}
