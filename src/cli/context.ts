import { HastorError, type LoadedCluster } from '../index.js';

/** What commands need from the outside world; tests pass their own. */
export interface CliContext {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  usageError(message: string): never;
  /** The cluster file: `--cluster FILE`, else HASTOR_CLUSTER, else /etc/hastor/cluster.json. */
  clusterPath(): string;
  /** Reads and builds the cluster file once; a missing or invalid file is bad input (exit 3). */
  loadCluster(): Promise<LoadedCluster>;
}

export class UsageError extends HastorError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

/** Input the user gave (a file, an argument's content) that cannot be used: exit code 3. */
export class BadInputError extends HastorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_BAD_INPUT', message, options);
  }
}

/** Ends the command with this exit code and no message (the output already said why): doctor's 4, lvm lock's pass-through. */
export class SilentExit extends HastorError {
  readonly exitCode: number;

  constructor(exitCode: number) {
    super('E_SILENT_EXIT', `exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}
