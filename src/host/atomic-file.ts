// Crash-safe file replacement: write a temp file in the same directory, fsync it, rename(2) over the
// target, fsync the directory — after a crash the file is either the old or the new content.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync, constants, existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { KbindError } from "../model/errors.ts";
import { nodeErrno } from "./errno-map.ts";

function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Atomically replaces `path` with `data` (mode 0644 by default), creating parent dirs. */
export function atomicWriteFile(path: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`);
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
    try {
      writeSync(fd, typeof data === "string" ? Buffer.from(data, "utf8") : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(dir);
  } catch (e) {
    throw new KbindError("WRITE_FAILED", `cannot write ${path} atomically: ${(e as Error).message}`, { file: path, errno: nodeErrno(e) });
  }
}

/** Atomically removes `path` (unlink + fsync of the directory); absent is fine. */
export function atomicRemoveFile(path: string): void {
  if (!existsSync(path)) return;
  rmSync(path);
  fsyncDir(dirname(path));
}

export function readTextIfExists(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if (nodeErrno(e) === "ENOENT") return null;
    throw new KbindError("READ_FAILED", `cannot read ${path}: ${(e as Error).message}`, { file: path, errno: nodeErrno(e) });
  }
}

export function listIfExists(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (e) {
    if (nodeErrno(e) === "ENOENT") return [];
    throw new KbindError("READ_FAILED", `cannot list ${dir}: ${(e as Error).message}`, { file: dir, errno: nodeErrno(e) });
  }
}
