/** Messages between the host harness and the guest agent (JSON files in the lab dir). */

export interface AgentRequest {
  id: string;
  argv: string[];
  /**
   * 'poweroff': sysrq s+o, never answered.
   * 'stream': a long-lived process; its stdout/stderr come back as chunk files
   * `<nodeDir>/stream/<id>.<seq>.<out|err>` (seq counts both, from 0), and it is answered
   * once it ended, with `chunks`. 'stdin' / 'stdin-end' / 'kill' act on the stream
   * named by `stream` and are never answered; 'stdin' and 'stdin-end' apply in `seq` order.
   */
  op?: 'exec' | 'poweroff' | 'stream' | 'stdin' | 'stdin-end' | 'kill';
  stream?: string;
  seq?: number;
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
  /** 'stream': how many chunk files it wrote. */
  chunks?: number;
}

export interface AgentReady {
  pid: number;
  uptimeSeconds: number;
  hostname: string;
  kernel: string;
}
