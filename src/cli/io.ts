// The CLI's only window on the process: commands write through this, so tests can drive
// `runCli(argv, io)` in-process and read what a user would see.
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (colour, tables) — false in tests and pipes. */
  isTty: boolean;
}

export function processIo(): CliIo {
  // A reader that goes away (`kbind demo | head`) is not an error: stop writing quietly.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0);
      throw e;
    });
  }
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTty: process.stdout.isTTY,
  };
}

export function bufferIo(): CliIo & { stdout: () => string; stderr: () => string } {
  let o = "";
  let e = "";
  return {
    out: (t) => (o += t),
    err: (t) => (e += t),
    isTty: false,
    stdout: () => o,
    stderr: () => e,
  };
}

/** Raised by a command to end with a given exit code after it printed what it had to say. */
export class ExitCode extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}
