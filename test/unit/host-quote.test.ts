import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchLine, batchWord, shellLine, shellQuote } from '../../src/host/quote.js';

test('shellQuote: plain words stay bare, the rest is single-quoted', () => {
  assert.equal(shellQuote('vnet-virt:c7a5fdbd-edaf'), 'vnet-virt:c7a5fdbd-edaf');
  assert.equal(shellQuote('52:54:00:aa:bb:cc'), '52:54:00:aa:bb:cc');
  assert.equal(shellQuote('vnet-virt:name:my vm'), `'vnet-virt:name:my vm'`);
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote(''), `''`);
  assert.equal(shellLine(['ip', 'link', 'set', 'dev', 't0', 'alias', 'a b']), `ip link set dev t0 alias 'a b'`);
});

test('batchWord: what iproute2 batch input can carry, and what it cannot', () => {
  assert.equal(batchWord('t0'), 't0');
  assert.equal(batchWord('a b'), '"a b"');
  assert.equal(batchWord(''), '""');
  assert.equal(batchWord('say "hi"'), `'say "hi"'`);
  assert.equal(batchWord(`"x'`), undefined);
  assert.equal(batchWord('a#b'), undefined, 'ip cuts the line at #');
  assert.equal(batchWord('a\nb'), undefined);
  assert.equal(batchWord('a\\'), undefined, 'a trailing backslash continues the line');
  assert.equal(batchLine(['link', 'set', 'dev', 't0', 'alias', 'vnet-virt:name:my vm']), 'link set dev t0 alias "vnet-virt:name:my vm"');
  assert.equal(batchLine(['link', 'set', 'dev', 't0', 'alias', 'x#y']), undefined);
});
