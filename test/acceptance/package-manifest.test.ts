import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { diffManifests, formatDiff, parsePkgQuery, pkgQueryArgs, queryPackages } from '../../pipeline/acceptance/package-manifest.js';
import { ExecaRunner } from '../../pipeline/runner/execa-runner.js';
import { PROJECT_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('package manifest', () => {
  it("queries the pot's root with pkg -c and pkg's own tab escapes", () => {
    assert.deepEqual(pkgQueryArgs('/opt/pot/jails/p/m'), ['-c', '/opt/pot/jails/p/m', 'query', '%n\\t%o\\t%v']);
  });

  it('parses name, origin and version, sorted by name', () => {
    const p = parsePkgQuery('sqlite3\tdatabases/sqlite3\t3.45.1,1\nnginx\twww/nginx\t1.24.0_12,3\n\n');
    assert.deepEqual(p, [
      { name: 'nginx', origin: 'www/nginx', version: '1.24.0_12,3' },
      { name: 'sqlite3', origin: 'databases/sqlite3', version: '3.45.1,1' },
    ]);
    assert.throws(() => parsePkgQuery('nginx www/nginx 1.24\n'), /unexpected line 1 .*name<TAB>origin<TAB>version/);
  });

  it('lists the packages through the pkg stand-in', async () => {
    const root = tempDir('acc-root-');
    const packages = await queryPackages(new ExecaRunner({ pathPrefix: [join(PROJECT_ROOT, 'test', 'stand-ins')] }), root);
    assert.ok(packages.some((p) => p.origin === 'net-im/py-matrix-synapse'));
    assert.ok(packages.every((p) => p.name && p.origin.includes('/') && p.version));
  });

  it('diffs by origin, so a Python prefix change is a change, not add+remove', () => {
    const diff = diffManifests(
      [{ name: 'py39-matrix-synapse', origin: 'net-im/py-matrix-synapse', version: '1.50.0' }, { name: 'nginx', origin: 'www/nginx', version: '1.22.0' }, { name: 'old', origin: 'misc/old', version: '1' }],
      [{ name: 'py311-matrix-synapse', origin: 'net-im/py-matrix-synapse', version: '1.98.0' }, { name: 'nginx', origin: 'www/nginx', version: '1.22.0' }, { name: 'socat', origin: 'net/socat', version: '1.8' }],
    );
    assert.deepEqual(diff.changed, [{ name: 'py311-matrix-synapse', origin: 'net-im/py-matrix-synapse', from: 'py39-matrix-synapse-1.50.0', to: '1.98.0' }]);
    assert.deepEqual(diff.added.map((p) => p.name), ['socat']);
    assert.deepEqual(diff.removed.map((p) => p.name), ['old']);
    const text = formatDiff(diff, '0.10.2', '0.11.0');
    assert.equal(text[0], 'packages 0.10.2 → 0.11.0: 1 changed, 1 added, 1 removed');
    assert.ok(text.includes('  + socat (net/socat) 1.8'));
    assert.deepEqual(formatDiff(diffManifests([], []), 'a', 'b').slice(1), ['  (no package changed)']);
  });
});
