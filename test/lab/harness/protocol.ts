/** Messages between the host harness and the guest agent (JSON files in the lab dir). */

export interface AgentRequest {
  id: string;
  argv: string[];
  /** 'poweroff': sysrq s+o, never answered. */
  op?: 'exec' | 'poweroff';
  /** base64 */
  stdin?: string;
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** Return stdout as base64 (binary-safe). */
  binaryStdout?: boolean;
  /** Start detached and answer with the pid at once; output goes to these files. */
  background?: boolean;
  stdoutPath?: string;
  stderrPath?: string;
}

export interface AgentResponse {
  id: string;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
  pid?: number | null;
  error?: string | undefined;
}

export interface AgentReady {
  pid: number;
  uptimeSeconds: number;
  hostname: string;
  kernel: string;
}
