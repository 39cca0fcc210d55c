import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { md5 } from '../../../src/integrity/md5.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('md5 in plain JavaScript', () => {
  it('matches the RFC 1321 test vectors', () => {
    const enc = new TextEncoder();
    expect(hex(md5(enc.encode('')))).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(hex(md5(enc.encode('abc')))).toBe('900150983cd24fb0d6963f7d28e17f72');
    expect(hex(md5(enc.encode('12345678901234567890123456789012345678901234567890123456789012345678901234567890')))).toBe(
      '57edf4a22be3c955ac49da2e2107b67a',
    );
  });

  it('matches node:crypto at every length around the 64-byte block and padding boundaries, and on random bytes', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let n = 0; n <= 300; n++) {
      const bytes = Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
      expect(hex(md5(bytes)), `length ${n}`).toBe(createHash('md5').update(bytes).digest('hex'));
    }
  });
});
