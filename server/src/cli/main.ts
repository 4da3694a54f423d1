import { type CliCommand, commandHelp } from './cli-command.ts';

/** Top-level commands, loaded lazily so `switchyard policy check` never loads the HTTP server. */
const commands: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  serve: { summary: 'run the gateway', load: async () => (await import('./serve.command.ts')).serveCommand },
  policy: {
    summary: 'check, test, explain, diff and publish policies',
    load: async () => (await import('./policy.command.ts')).policyCommand,
  },
  keys: {
    summary: 'create, list and revoke API keys',
    load: async () => (await import('./keys.command.ts')).keysCommand,
  },
  eval: {
    summary: 'run the eval gate: candidate vs baseline policy',
    load: async () => (await import('./eval.command.ts')).evalCommand,
  },
  rollout: {
    summary: 'canary rollouts: start, status, pause, promote, rollback',
    load: async () => (await import('./rollout.command.ts')).rolloutCommand,
  },
  usage: {
    summary: 'usage and cost from the ledger, grouped and bucketed',
    load: async () => (await import('./usage.command.ts')).usageCommand,
  },
};

const usage = `switchyard: an LLM gateway driven by versioned YAML policies

usage: switchyard <command> [options]

commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Run \`switchyard <command> --help\` for a command's options.`;

/** Runs the CLI with the given arguments and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return name ? 0 : 1;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`switchyard: unknown command \`${name}\`\n\n${usage}\n`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${commandHelp(name, command)}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    process.stderr.write(`switchyard ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}
