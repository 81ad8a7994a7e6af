import { describe, it, expect } from 'vitest';
import { parseErrorOf } from '../parse-error-of.js';
import { parseProcDrbd } from '../../../src/drbd/proc-drbd.js';

const HEADER = 'version: 8.4.11 (api:1/proto:86-101)\nsrcversion: 059B1B470318F053F5077D5 \n';
const DEVICE = ' 0: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----\n';
const COUNTERS = '    ns:28 nr:0 dw:0 dr:28 al:8 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:262072\n';
const PROGRESS = "\t[>....................] sync'ed:  1.6% (262072/262100)K\n";
const FINISH = '\tfinish: 0:10:55 speed: 28 (28) K/sec\n';
const GOOD = HEADER + DEVICE + COUNTERS + PROGRESS + FINISH;


describe('parseProcDrbd rejects bad input with a ParseError naming the line', () => {
  it('accepts the good base text the cases below break', () => {
    expect(parseProcDrbd(GOOD).resources).toHaveLength(1);
  });

  const cases: Array<{ name: string; text: string; line: number | undefined; excerpt?: string; message: RegExp }> = [
    { name: 'empty input', text: '', line: undefined, message: /empty input/ },
    { name: 'only blank lines', text: '\n\n  \n', line: undefined, message: /empty input/ },
    { name: 'garbage first line', text: 'hello\n', line: 1, excerpt: 'hello', message: /"version:/ },
    { name: 'no version line', text: DEVICE + COUNTERS, line: 1, message: /"version:/ },
    { name: 'bad api in version', text: 'version: 8.4.11 (api:x/proto:86-101)\n', line: 1, message: /"version:/ },
    { name: 'reversed protocol range', text: 'version: 8.4.11 (api:1/proto:101-86)\n', line: 1, message: /reversed/ },
    { name: 'two build tags', text: HEADER + 'srcversion: 0ABC\n', line: 3, message: /second build tag/ },
    { name: 'bad transports list', text: 'version: 9.0.1 (api:2/proto:86-113)\nTransports (api:16): tcp\n', line: 2, message: /transport list/ },
    { name: 'unexpected header line', text: HEADER + 'hello world\n', line: 3, excerpt: 'hello world', message: /unexpected line after the header/ },
    { name: 'unknown connection state', text: HEADER + DEVICE.replace('SyncSource', 'Dancing') + COUNTERS, line: 3, message: /unknown connection state "Dancing"/ },
    { name: 'DRBD 9 replication word in /proc/drbd', text: HEADER + DEVICE.replace('SyncSource', 'Established') + COUNTERS, line: 3, message: /unknown connection state "Established"/ },
    { name: 'unknown role', text: HEADER + DEVICE.replace('ro:Primary', 'ro:Boss') + COUNTERS, line: 3, message: /unknown role "Boss"/ },
    { name: 'unknown peer role', text: HEADER + DEVICE.replace('/Secondary', '/Minion') + COUNTERS, line: 3, message: /unknown peer role "Minion"/ },
    { name: 'unknown disk state', text: HEADER + DEVICE.replace('ds:UpToDate', 'ds:Shiny') + COUNTERS, line: 3, message: /unknown disk state "Shiny"/ },
    { name: 'unknown peer disk state', text: HEADER + DEVICE.replace('/Inconsistent', '/Wobbly') + COUNTERS, line: 3, message: /unknown peer disk state "Wobbly"/ },
    { name: 'unknown protocol', text: HEADER + DEVICE.replace(' C ', ' D ') + COUNTERS, line: 3, message: /unknown replication protocol "D"/ },
    { name: 'io flags without r/s', text: HEADER + DEVICE.replace('r-----', 'x-----') + COUNTERS, line: 3, message: /io flags/ },
    { name: 'malformed device line', text: HEADER + ' 0: cs:Connected ro:Primary\n', line: 3, message: /malformed device line/ },
    { name: 'truncated after device line', text: HEADER + DEVICE, line: 3, message: /without its counters line/ },
    { name: 'device line directly after device line', text: HEADER + DEVICE + DEVICE.replace(' 0:', ' 1:') + COUNTERS, line: 3, message: /without its counters line/ },
    { name: 'progress line where counters belong', text: HEADER + DEVICE + PROGRESS, line: 4, message: /expected the counters line/ },
    { name: 'minor listed twice', text: HEADER + DEVICE + COUNTERS + ' 0: cs:Unconfigured\n', line: 5, message: /minor 0 listed twice/ },
    { name: 'counters after Unconfigured', text: HEADER + ' 0: cs:Unconfigured\n' + COUNTERS, line: 4, message: /without a configured device/ },
    { name: 'non-numeric counter', text: HEADER + DEVICE + COUNTERS.replace('ns:28', 'ns:2x8'), line: 4, message: /"ns:2x8" is not an unsigned number/ },
    { name: 'negative KiB counter', text: HEADER + DEVICE + COUNTERS.replace('dw:0', 'dw:-1'), line: 4, message: /"dw:-1"/ },
    { name: 'missing counter', text: HEADER + DEVICE + COUNTERS.replace(' ua:0', ''), line: 4, message: /"ua:" missing/ },
    { name: 'duplicated counter', text: HEADER + DEVICE + COUNTERS.replace('ua:0', 'ua:0 ua:1'), line: 4, message: /appears twice/ },
    { name: 'counter without value', text: HEADER + DEVICE + COUNTERS.replace('ap:0', 'ap:'), line: 4, message: /malformed counter "ap:"/ },
    { name: 'unknown write ordering', text: HEADER + DEVICE + COUNTERS.replace('wo:f', 'wo:z'), line: 4, message: /unknown write ordering "wo:z"/ },
    { name: 'second counters line', text: HEADER + DEVICE + COUNTERS + COUNTERS, line: 5, message: /second counters line/ },
    { name: 'finish without progress', text: HEADER + DEVICE + COUNTERS + FINISH, line: 5, message: /finish line without a progress line/ },
    { name: 'two progress lines', text: HEADER + DEVICE + COUNTERS + PROGRESS + PROGRESS, line: 6, message: /second resync progress line/ },
    { name: 'two finish lines', text: GOOD + FINISH, line: 7, message: /second resync finish line/ },
    { name: 'percent above 100', text: HEADER + DEVICE + COUNTERS + PROGRESS.replace(' 1.6%', '101.6%'), line: 5, message: /above 100/ },
    { name: 'bad thousands separator', text: HEADER + DEVICE + COUNTERS + PROGRESS + FINISH.replace('speed: 28', 'speed: 2,8'), line: 6, message: /unrecognised line/ },
    { name: 'minutes above 59', text: HEADER + DEVICE + COUNTERS + PROGRESS + FINISH.replace('0:10:55', '0:60:55'), line: 6, message: /above 59/ },
    { name: 'junk after the progress pair', text: HEADER + DEVICE + COUNTERS + PROGRESS.replace(')K', ')K ???'), line: 5, message: /unexpected text after the resync progress pair/ },
    { name: 'garbage inside a device block', text: GOOD + '\tsomething else\n', line: 7, excerpt: '\tsomething else', message: /unrecognised line in a device block/ },
    { name: 'old verify with more done than total', text: HEADER + DEVICE.replace('SyncSource', 'VerifyS') + COUNTERS + '\t 50%      300/200\n', line: 5, message: /more bits done/ },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const err = parseErrorOf(() => parseProcDrbd(c.text));
      expect(err.code).toBe('E_PARSE');
      expect(err.source).toBe('/proc/drbd');
      expect(err.message).toMatch(c.message);
      expect(err.line).toBe(c.line);
      if (c.line !== undefined) {
        const lineText = c.text.split('\n')[c.line - 1];
        const expected = c.excerpt ?? lineText!;
        // ParseError keeps the first 80 characters of the line.
        expect(err.excerpt).toBe(expected.length > 80 ? `${expected.slice(0, 80)}…` : expected);
      }
    });
  }

  it('shortens long excerpts', () => {
    const err = parseErrorOf(() => parseProcDrbd(HEADER + 'x'.repeat(500) + '\n'));
    expect(err.line).toBe(3);
    expect(err.excerpt!.length).toBeLessThanOrEqual(81);
  });
});
