import { HastorError } from '../index.js';

/** What commands need from the outside world; tests pass their own. */
export interface CliContext {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  usageError(message: string): never;
}

export class UsageError extends HastorError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}
