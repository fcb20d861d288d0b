// Reading xmllint's stderr back into one verdict per file (what the xmllint engine relies on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseXmllintOutput } from '../../src/schema/xmllint.js';
import { defaultWorkers, xmllintProcesses } from '../../src/lint/engine.js';

// Captured from xmllint 2.9.14 (Debian 12) over four files, the first not well-formed.
const STDERR = `a/bad-syntax.xml:7: parser error : Opening and ending tag mismatch: target line 6 and interface
    </interface>
                ^
a/bad-syntax.xml:10: parser error : Premature end of data in tag domain line 1

^
Relax-NG validity error : Extra element devices in interleave
a/schema-bad.xml:7: element devices: Relax-NG validity error : Element domain failed to validate content
a/schema-bad.xml fails to validate
a/good.xml validates
-:13: element type: Relax-NG validity error : Error validating value
- fails to validate
`;

test('verdicts in the order of the names, problems with their lines and elements', () => {
  const v = parseXmllintOutput(['a/bad-syntax.xml', 'a/schema-bad.xml', 'a/good.xml', '-'], STDERR);
  assert.deepEqual(v[0], {
    kind: 'not-well-formed',
    problems: [
      { message: 'Opening and ending tag mismatch: target line 6 and interface', line: 7, xpath: undefined, element: undefined },
      { message: 'Premature end of data in tag domain line 1', line: 10, xpath: undefined, element: undefined },
    ],
  });
  assert.deepEqual(v[1], {
    kind: 'invalid',
    problems: [
      { message: 'Extra element devices in interleave', line: 0, xpath: undefined, element: undefined },
      { message: 'Element domain failed to validate content', line: 7, xpath: undefined, element: 'devices' },
    ],
  });
  assert.deepEqual(v[2], { kind: 'valid' });
  assert.deepEqual(v[3], { kind: 'invalid', problems: [{ message: 'Error validating value', line: 13, xpath: undefined, element: 'type' }] });
});

test('a file xmllint said nothing about has no verdict', () => {
  assert.deepEqual(parseXmllintOutput(['x.xml', 'y.xml'], 'y.xml validates\n'), [undefined, { kind: 'valid' }]);
});

test('a file name that contains another one is not confused with it', () => {
  const v = parseXmllintOutput(['vm.xml', 'old-vm.xml'], 'old-vm.xml fails to validate\nvm.xml validates\n');
  assert.deepEqual(v, [{ kind: 'valid' }, { kind: 'invalid', problems: [] }]);
});

test('one xmllint per core, each from 200 files; the lanes get the cores xmllint leaves', () => {
  assert.equal(xmllintProcesses(3590, 2), 2);
  assert.equal(xmllintProcesses(3590, 1), 1);
  assert.equal(xmllintProcesses(3590, 12), 12);
  // Each compiles the schema: a second one needs files enough to pay for it.
  assert.equal(xmllintProcesses(150, 12), 1);
  assert.equal(xmllintProcesses(401, 12), 3);
  // With xmllint running, one core counts as busy: on 2 cores the main thread alone runs the rules.
  assert.equal(defaultWorkers(3590, 1, 2), 0);
});

test('lint --no-schema on 2 cores: one lane for the corpus x10 (3,590 files), a worker only from 10,000 files', () => {
  assert.equal(defaultWorkers(3590, 0, 2), 0);
  assert.equal(defaultWorkers(9999, 0, 2), 0);
  assert.equal(defaultWorkers(35900, 0, 2), 1);
  assert.equal(defaultWorkers(35900, 0, 8), 6);
});
