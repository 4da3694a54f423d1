import { envRefGlobal } from '../catalog/secret-ref.ts';

/**
 * Replaces every `${env:NAME}` in a value with the variable from `env` (the server passes its
 * environment); an unset variable becomes the empty string. The engine never reads the environment.
 */
export function resolveEnvRefs(value: string, env: Readonly<Record<string, string | undefined>>): string {
  return value.replace(envRefGlobal, (_, name: string) => env[name] ?? '');
}
