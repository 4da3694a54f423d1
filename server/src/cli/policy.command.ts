import type { CliCommand } from './cli-command.ts';

const subcommands: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  check: {
    summary: 'parse, validate and compile; report every error with file:line:col',
    load: async () => (await import('./policy-check.command.ts')).policyCheckCommand,
  },
  test: {
    summary: 'run policy.test.yaml cases and bad/*.yaml fixtures',
    load: async () => (await import('./policy-test.command.ts')).policyTestCommand,
  },
  explain: {
    summary: 'show the decision for a request and every rule considered',
    load: async () => (await import('./policy-explain.command.ts')).policyExplainCommand,
  },
  diff: {
    summary: 'semantic diff of two policies and which sample decisions change',
    load: async () => (await import('./policy-diff.command.ts')).policyDiffCommand,
  },
  publish: {
    summary: 'record a folder as an immutable version (content hash, git commit)',
    load: async () => (await import('./policy-publish.command.ts')).policyPublishCommand,
  },
  versions: {
    summary: 'list published versions, newest first',
    load: async () => (await import('./policy-versions.command.ts')).policyVersionsCommand,
  },
  show: {
    summary: 'show a published version, its verdict and its files',
    load: async () => (await import('./policy-versions.command.ts')).policyShowCommand,
  },
};

/** `switchyard policy <check|test|explain|diff|publish|versions|show>`. */
export const policyCommand: CliCommand = {
  usage: `usage: switchyard policy <subcommand> [options]

subcommands:
${Object.entries(subcommands)
  .map(([n, s]) => `  ${n.padEnd(8)} ${s.summary}`)
  .join('\n')}

Run \`switchyard policy <subcommand> --help\` for its options.`,
  async run(argv) {
    const [name, ...rest] = argv;
    const sub = name ? subcommands[name] : undefined;
    if (!sub) {
      process.stderr.write(
        `${name ? `unknown policy subcommand \`${name}\`\n\n` : ''}${policyCommand.usage}\n`,
      );
      return 2;
    }
    const command = await sub.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`switchyard policy ${name}\n\n${command.usage}\n`);
      return 0;
    }
    return command.run(rest);
  },
};
