/** A CLI command: its usage text and how it runs. Options are parsed with `node:util` parseArgs. */
export interface CliCommand {
  /** Usage lines shown by `--help`. */
  usage: string;
  /** Runs the command; resolves to the exit code. Throwing prints the message and exits 1. */
  run(argv: string[]): Promise<number>;
}

/** Formats a command's help text. */
export function commandHelp(name: string, command: CliCommand): string {
  return `switchyard ${name}\n\n${command.usage}`;
}

/** An error whose message is shown to the user as is (bad flags, missing files). */
export class UsageError extends Error {
  override name = 'UsageError';
}
