// fnmatch + alias_normalize in kmod's own setting: the real modprobe (kmod 30, `-R`/--resolve-alias only,
// on the real Debian 6.1 module trees in data/debian, with `-C /dev/null` so no host config interferes)
// resolves device modaliases through modules.alias.bin (libkmod-index.c index_searchwild); kbind scans
// modules.alias with src/kmod/fnmatch.ts after aliasNormalize (as depmod's alias index stores them). The
// module sets must be equal for every key. Keys are instantiated from the trees' own aliases (wildcards
// filled in), so most of them hit several patterns.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fnmatch } from "../../src/kmod/fnmatch.ts";
import { aliasNormalize } from "../../src/kmod/normalize.ts";
import { parseModulesAliasLine } from "../../src/model/alias-parse.ts";
import { rng } from "../helpers/glibc-fnmatch-gen.ts";

const root = join(import.meta.dirname, "../../data/debian");
const KEYS = 150;

/** A string the pattern matches: literals kept, `*` → 0..3 hex digits, `?` → a digit, `[set]` → a member. */
function instantiate(p: string, r: () => number): string {
  let s = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*") {
      const n = Math.floor(r() * 4);
      for (let k = 0; k < n; k++) s += "0123456789ABCDEF"[Math.floor(r() * 16)];
    } else if (c === "?") s += String(Math.floor(r() * 10));
    else if (c === "[") {
      const close = p.indexOf("]", i + 2);
      if (close < 0) return "";
      const body = p.slice(i + 1, close);
      s += body.startsWith("!") || body.startsWith("^") ? "Z" : body[0];
      i = close;
    } else if (c === "\\") s += p[++i] ?? "";
    else s += c;
  }
  return s;
}

describe.each(["6.1.0-56-amd64", "6.1.0-56-arm64"])("%s: kbind's fnmatch scan of modules.alias = real `modprobe -R`", (kver) => {
  it(`gives the same modules for ${KEYS} modaliases built from the tree's aliases`, () => {
    const tree = join(root, kver);
    const aliases = readFileSync(join(tree, "lib/modules", kver, "modules.alias"), "latin1")
      .split("\n")
      .map((l) => parseModulesAliasLine(l))
      .filter((a) => a !== null)
      .flatMap((a) => {
        try {
          return [{ pattern: aliasNormalize(a.pattern), module: a.module }];
        } catch {
          return []; // depmod skips these too ("Unmatched bracket")
        }
      });
    const r = rng(kver.length * 7919 + 17);
    const keys = new Set<string>();
    while (keys.size < KEYS) {
      const a = aliases[Math.floor(r() * aliases.length)]!;
      const k = instantiate(a.pattern, r);
      if (k !== "" && !/[\s\]\\]/.test(k)) keys.add(k);
    }
    const diffs: string[] = [];
    let hits = 0;
    for (const key of keys) {
      const nk = aliasNormalize(key);
      const ours = [...new Set(aliases.filter((a) => fnmatch(a.pattern, nk)).map((a) => a.module))].sort();
      let out: string;
      try {
        out = execFileSync("modprobe", ["-C", "/dev/null", "-d", tree, "-S", kver, "-R", key], { encoding: "latin1", stdio: ["ignore", "pipe", "ignore"] });
      } catch (e) {
        out = (e as { stdout?: string }).stdout ?? "";
      }
      const theirs = [...new Set(out.split("\n").filter((l) => l !== ""))].sort();
      hits += theirs.length;
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) diffs.push(`${key}: kbind ${JSON.stringify(ours)} modprobe ${JSON.stringify(theirs)}`);
    }
    expect(diffs.slice(0, 10)).toEqual([]);
    expect(hits).toBeGreaterThanOrEqual(KEYS);
  });
});
