// Maps a Node.js fs/child_process error to the errno name the kernel returned, so every failure
// crossing the host boundary becomes a SysfsError/KbindError with the real errno.
import { isErrnoName, type ErrnoName } from "../model/errno.ts";

/** The errno name carried by a Node.js system error (err.code), "EIO" when it is not a known errno. */
export function nodeErrno(e: unknown): ErrnoName {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && isErrnoName(code) ? code : "EIO";
}

/** Whether `e` is a Node.js system error with this code. */
export function hasCode(e: unknown, code: string): boolean {
  return (e as { code?: unknown } | null)?.code === code;
}
