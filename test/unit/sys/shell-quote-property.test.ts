import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { shellQuote } from '../../../src/sys/executor.js';

// Whatever argv can carry: no NUL (execve ends a string there). Lone surrogates are left out
// too, as they cannot survive the UTF-8 of a command line whatever the quoting.
const argument = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.array(fc.constantFrom("'", '"', '\\', '$', '`', '!', '*', '?', '[', ']', '~', '#', ';', '&', '|', '<', '>', '(', ')', '{', '}', ' ', '\t', '\n', '-', '=', '%', 'a', '$(id)', "'\\''"), { maxLength: 12 }).map((p) => p.join('')),
).filter((s) => !s.includes('\0'));

describe('shellQuote', () => {
  it('is a single shell word that sh turns back into the argument, byte for byte', () => {
    fc.assert(
      fc.property(fc.array(argument, { minLength: 1, maxLength: 40 }), (args) => {
        // One sh per batch: the words as a remote shell gets them from ssh.
        const out = execFileSync('sh', ['-c', `printf '%s\\0' ${args.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
        expect(out.split('\0').slice(0, -1)).toEqual(args);
      }),
      { numRuns: 40 },
    );
  });

  it('leaves safe words alone and single-quotes everything else', () => {
    fc.assert(
      fc.property(argument, (arg) => {
        const quoted = shellQuote(arg);
        if (quoted === arg) expect(arg).toMatch(/^[A-Za-z0-9_@%+=:,./-]+$/);
        else expect(quoted).toMatch(/^'.*'$/s);
      }),
      { numRuns: 1000 },
    );
  });
});
