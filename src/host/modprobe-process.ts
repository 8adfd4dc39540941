// ModprobePort over the real modprobe(8): child_process.execFile, never a shell, argv passed as is.
// Tests inject `exec` (a fake) — the real binary is only run by an operator's command.
import { execFile } from "node:child_process";
import type { ModprobePort, ProcessResult } from "../ports.ts";

export type ExecFileFn = (file: string, args: readonly string[]) => Promise<ProcessResult>;

/** execFile with a 60 s timeout; a non-zero exit becomes {code}, a spawn failure code 127 like a shell. */
export const execFileResult: ExecFileFn = (file, args) =>
  new Promise((resolve) => {
    execFile(file, [...args], { timeout: 60_000, encoding: "utf8", shell: false }, (err, stdout, stderr) => {
      if (err === null) {
        resolve({ code: 0, stdout, stderr });
        return;
      }
      const code = typeof err.code === "number" ? err.code : 127;
      resolve({ code, stdout, stderr: stderr || err.message });
    });
  });

export class ProcessModprobe implements ModprobePort {
  readonly program: string;
  readonly exec: ExecFileFn;
  constructor(opts: { program?: string; exec?: ExecFileFn } = {}) {
    this.program = opts.program ?? "modprobe";
    this.exec = opts.exec ?? execFileResult;
  }
  modprobe(args: readonly string[]): Promise<ProcessResult> {
    return this.exec(this.program, args);
  }
}
