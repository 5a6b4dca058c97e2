// What every CLI here shares: its exit codes, its I/O (injected, so tests run a CLI in process), and
// one way to turn an expected failure into a message and an exit code.
export const EXIT = { OK: 0, REFUSED: 1, USAGE: 2, UNAVAILABLE: 3 } as const;

export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (line: string) => void;
}

/** A failure the user can act on: its message is printed, its code is the exit code. */
export class CliFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Runs a command; a CliFailure (or what `expected` recognises) becomes a message and an exit code. */
export async function runGuarded(io: CliIo, run: () => Promise<number>, expected?: (err: unknown) => number | null): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof CliFailure) {
      io.err(err.message);
      return err.exitCode;
    }
    const code = expected?.(err) ?? null;
    if (code !== null) return code;
    throw err;
  }
}
