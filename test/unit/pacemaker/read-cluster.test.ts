import { describe, expect, it } from 'vitest';
import { CommandError, PacemakerUnavailableError, readPacemakerView } from '../../../src/index.js';
import { fixture } from './fixtures.js';
import { ok, scripted } from './scripted-executor.js';

describe('readPacemakerView on a live node', () => {
  it('runs crm_mon -1 --output-as=xml and cibadmin -Q as root and combines them', async () => {
    const executor = scripted({ 'crm_mon -1 --output-as=xml': ok(fixture('crm-mon-running.xml')), 'cibadmin -Q': ok(fixture('cib-drbd-running.xml')) });
    const view = await readPacemakerView(executor);
    expect(executor.ran.map((r) => r.argv.join(' '))).toEqual(['crm_mon -1 --output-as=xml', 'cibadmin -Q']);
    expect(executor.ran.every((r) => r.options?.root === true)).toBe(true);
    expect(view.drbdClones.map((c) => [c.drbdResource, c.promotedOn])).toEqual([
      ['r0', ['node1']],
      ['r1', ['node1', 'node2']],
    ]);
  });

  it('root: false runs both as the caller (a haclient member), with the timeout given', async () => {
    const executor = scripted({ 'crm_mon -1 --output-as=xml': ok(fixture('crm-mon-running.xml')), 'cibadmin -Q': ok(fixture('cib-drbd-running.xml')) });
    await readPacemakerView(executor, { root: false, timeoutMs: 1234 });
    expect(executor.ran.map((r) => [r.options?.root, r.options?.timeoutMs])).toEqual([
      [false, 1234],
      [false, 1234],
    ]);
  });

  it('cib: false reads crm_mon only', async () => {
    const executor = scripted({ 'crm_mon -1 --output-as=xml': ok(fixture('crm-mon-running.xml')) });
    const view = await readPacemakerView(executor, { cib: false });
    expect(view.sources).toEqual({ crmMon: true, cib: false });
    expect(executor.ran).toHaveLength(1);
  });

  it('crm_mon exit 102 (not connected): PacemakerUnavailableError saying Pacemaker is not running', async () => {
    const executor = scripted({ 'crm_mon -1 --output-as=xml': { stdout: fixture('crm-mon-not-connected.xml'), stderr: '', exitCode: 102 } });
    const error = await readPacemakerView(executor).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PacemakerUnavailableError);
    expect((error as PacemakerUnavailableError).message).toMatch(/^node1: Pacemaker is not running on this node.*Not connected/);
    expect((error as PacemakerUnavailableError).crmMonCode).toBe(102);
    expect((error as PacemakerUnavailableError).node).toBe('node1');
  });

  it('no crm_mon on the node (ENOENT): PacemakerUnavailableError saying it is not installed', async () => {
    const enoent = Object.assign(new Error('spawn crm_mon ENOENT'), { code: 'ENOENT' });
    const executor = scripted({
      'crm_mon -1 --output-as=xml': () => {
        throw new CommandError('crm_mon -1 --output-as=xml: spawn crm_mon ENOENT', { argv: ['crm_mon'], exitCode: null, stderr: '', cause: enoent });
      },
    });
    await expect(readPacemakerView(executor)).rejects.toThrow(/crm_mon not found: Pacemaker is not installed/);
  });

  it('another crm_mon failure stays a CommandError', async () => {
    const executor = scripted({ 'crm_mon -1 --output-as=xml': { stdout: '', stderr: 'crm_mon: permission denied', exitCode: 13 } });
    await expect(readPacemakerView(executor)).rejects.toBeInstanceOf(CommandError);
  });
});

describe('readPacemakerView: a missing program behind sudo or ssh', () => {
  it('exit 127 from env or a shell: not installed', async () => {
    const executor = scripted({ 'crm_mon -1 --output-as=xml': { stdout: '', stderr: "env: 'crm_mon': No such file or directory", exitCode: 127 } });
    await expect(readPacemakerView(executor)).rejects.toBeInstanceOf(PacemakerUnavailableError);
  });
});
