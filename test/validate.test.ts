import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../src/input/config.js';
import { formatDiagnostic } from '../src/diagnostics.js';
import { parseClusterSource } from '../src/input/load.js';
import { validateCluster } from '../src/input/validate.js';
import { minimalCluster, repoRoot } from './helpers.js';

function check(source: string) {
  return validateCluster(parseClusterSource(source, 'cluster.yaml'));
}

/** Each bad input, the line:column the first error must point at, and words its message must hold. */
const badInputs: { name: string; source: string; at: string; says: RegExp }[] = [
  { name: 'missing name', source: minimalCluster.replace('name: test\n', ''), at: '1:1', says: /\$: missing required field "name"/ },
  { name: 'name not a DNS label', source: minimalCluster.replace('name: test', 'name: Test_1'), at: '1:7', says: /\$\.name: invalid value: use a DNS label/ },
  { name: 'unknown field with a suggestion', source: `${minimalCluster}prots: { client: 1 }\n`, at: '7:1', says: /\$\.prots: unknown field "prots": did you mean "ports"\?/ },
  { name: 'unknown nested field', source: minimalCluster.replace('host: 10.0.0.12 }', 'host: 10.0.0.12, port: 1 }'), at: '5:37', says: /\$\.nodes\[1\]\.port: unknown field "port": remove it \(known fields: name, host, ip, extraSANs\)/ },
  { name: 'version as a number', source: minimalCluster.replace('"3.5.13"', '3.5'), at: '2:18', says: /must be a string, not a number: quote the value/ },
  { name: 'unsupported version', source: minimalCluster.replace('"3.5.13"', '"3.3.27"'), at: '2:18', says: /\$\.etcd\.version: invalid value: use a supported release/ },
  { name: 'no nodes', source: 'name: test\netcd: { version: "3.5.13" }\nnodes: []\n', at: '3:8', says: /\$\.nodes: needs at least 1 entry/ },
  { name: 'duplicate node name', source: minimalCluster.replace('name: etcd2', 'name: etcd1'), at: '5:13', says: /node name "etcd1" is already used on line 4/ },
  { name: 'duplicate host', source: minimalCluster.replace('10.0.0.12', '10.0.0.11'), at: '5:26', says: /address "10.0.0.11" is already used on line 4/ },
  { name: 'host and another node\'s ip collide', source: minimalCluster.replace('host: 10.0.0.13 }', 'host: c.lan, ip: 10.0.0.12 }'), at: '6:37', says: /address "10.0.0.12" is already used on line 5/ },
  { name: 'same IPv6 written two ways', source: minimalCluster.replace('10.0.0.11', 'fd00::11').replace('10.0.0.12', 'fd00:0:0::0011'), at: '5:26', says: /address "fd00::11" is already used/ },
  { name: 'an IPv4 address and its IPv4-mapped IPv6 form', source: minimalCluster.replace('host: 10.0.0.12', 'host: "::ffff:10.0.0.11"'), at: '5:26', says: /address "10.0.0.11" is already used on line 4/ },
  { name: 'an IPv4-mapped host and an ip that is its IPv4 address, on two members', source: minimalCluster.replace('host: 10.0.0.13 }', 'host: c.lan, ip: "0:0:0:0:0:FFFF:0A00:000B" }'), at: '6:37', says: /address "10.0.0.11" is already used on line 4/ },
  { name: 'IPv6 in upper case and in lower case', source: minimalCluster.replace('10.0.0.11', 'fd00::a').replace('10.0.0.12', 'FD00::A'), at: '5:26', says: /address "fd00::a" is already used/ },
  { name: 'zero-padded IPv4', source: minimalCluster.replace('10.0.0.11', '010.000.000.011'), at: '4:26', says: /"010\.000\.000\.011" has zero-padded numbers, which some tools read as octal \(010 is 8\): write 10\.0\.0\.11/ },
  { name: 'one extra SAN in two spellings', source: `${minimalCluster}tls: { extraSANs: [ 10.0.0.5, "::ffff:10.0.0.5" ] }\n`, at: '7:31', says: /"::ffff:10\.0\.0\.5" is the address 10\.0\.0\.5, listed already on line 7: remove one/ },
  { name: 'a member\'s extra SAN in two spellings', source: minimalCluster.replace('host: 10.0.0.11 }', 'host: 10.0.0.11, extraSANs: [ "fd00::0011", "FD00::11" ] }'), at: '4:64', says: /"FD00::11" is the address fd00::11, listed already on line 4/ },
  { name: 'host as a URL', source: minimalCluster.replace('10.0.0.11', '"https://etcd1.lan:2380"'), at: '4:26', says: /is a URL: drop the scheme and port and write the host alone, etcd1\.lan/ },
  { name: 'IPv6 host as a URL', source: minimalCluster.replace('10.0.0.11', '"https://[fd00::11]:2380/"'), at: '4:26', says: /is a URL: drop the scheme and port and write the host alone, fd00::11;/ },
  { name: 'host in brackets', source: minimalCluster.replace('10.0.0.11', '"[fd00::11]"'), at: '4:26', says: /"\[fd00::11\]" has brackets: drop them and write fd00::11/ },
  { name: 'host in brackets with a port', source: minimalCluster.replace('10.0.0.11', '"[fd00::11]:2379"'), at: '4:26', says: /has brackets: drop them and the port and write fd00::11/ },
  { name: 'host with a port', source: minimalCluster.replace('10.0.0.11', 'etcd1.lan:2380'), at: '4:26', says: /"etcd1\.lan:2380" has a port: drop it and write etcd1\.lan/ },
  { name: 'host with a trailing dot', source: minimalCluster.replace('10.0.0.11', 'etcd1.lab.example.'), at: '4:26', says: /ends in a dot .*: drop the dot and write etcd1\.lab\.example/ },
  { name: 'extra SAN as a URL', source: `${minimalCluster}tls: { extraSANs: [ "https://lb.lan:2379" ] }\n`, at: '7:21', says: /is a URL: drop the scheme and port and write the host alone, lb\.lan/ },
  { name: 'member extra SAN with a trailing dot', source: minimalCluster.replace('host: 10.0.0.11 }', 'host: 10.0.0.11, extraSANs: [ nat.lan. ] }'), at: '4:50', says: /drop the dot and write nat\.lan/ },
  { name: 'version written as release pages write it', source: minimalCluster.replace('"3.5.13"', '"v3.5.13"'), at: '2:18', says: /"v3\.5\.13" starts with "v", as release pages write it: drop the v and write "3\.5\.13"/ },
  { name: 'a key outdented out of its parent', source: minimalCluster.replace('etcd: { version: "3.5.13" }', 'etcd:\nversion: "3.5.13"'), at: '2:1', says: /\$\.etcd: must be a mapping, not null: indent its fields under it/ },
  { name: 'an empty value at the end of the file has a real column', source: `${minimalCluster}tls:\n`, at: '7:1', says: /\$\.tls: must be a mapping, not null/ },
  { name: 'host not a name or IP', source: minimalCluster.replace('10.0.0.11', '10.0.0.300'), at: '4:26', says: /neither a DNS name nor an IP address/ },
  { name: 'host with upper case', source: minimalCluster.replace('10.0.0.11', 'Etcd1.LAN'), at: '4:26', says: /write it in lower case \(etcd1\.lan\)/ },
  { name: 'host with shell metacharacters', source: minimalCluster.replace('10.0.0.11', '"a;rm -rf /"'), at: '4:26', says: /\$\.nodes\[0\]\.host: invalid value/ },
  { name: 'IPv6 zone index', source: minimalCluster.replace('10.0.0.11', '"fe80::1%eth0"'), at: '4:26', says: /zone indexes/ },
  { name: 'ip not an IP', source: minimalCluster.replace('host: 10.0.0.11 }', 'host: a.lan, ip: 10.0.0 }'), at: '4:37', says: /"10.0.0" is not an IP address/ },
  { name: 'host IP differs from ip', source: minimalCluster.replace('host: 10.0.0.11 }', 'host: 10.0.0.11, ip: 10.0.0.99 }'), at: '4:41', says: /host is the IP 10.0.0.11 but ip is 10.0.0.99/ },
  { name: 'same ports', source: `${minimalCluster}ports: { client: 2380 }\n`, at: '7:18', says: /\$\.ports\.client: client and peer ports are both 2380/ },
  { name: 'metrics port on the client port', source: `${minimalCluster}ports: { metrics: 2379 }\n`, at: '7:19', says: /\$\.ports\.metrics: client and metrics ports are both 2379/ },
  { name: 'data dir a shared directory', source: `${minimalCluster}paths: { data: /var/lib }\n`, at: '7:16', says: /"\/var\/lib" is a directory other software shares.*such as \/var\/lib\/etcd/ },
  { name: 'etc dir at the top level', source: `${minimalCluster}paths: { etc: /etc }\n`, at: '7:15', says: /"\/etc" is a directory other software shares.*such as \/etc\/etcd/ },
  { name: 'data dir in /tmp, which the sandbox makes private', source: `${minimalCluster}paths: { data: /tmp/etcd }\n`, at: '7:16', says: /under \/tmp, which the etcd unit's sandbox replaces with an empty private directory \(PrivateTmp=yes\)/ },
  { name: 'binary in a home directory, which the sandbox hides', source: `${minimalCluster}paths: { bin: /home/ops/bin }\n`, at: '7:15', says: /under \/home, which the etcd unit's sandbox makes inaccessible \(ProtectHome=yes\)/ },
  { name: 'port out of range', source: `${minimalCluster}ports: { peer: 70000 }\n`, at: '7:16', says: /\$\.ports\.peer: must be from 1 to 65535/ },
  { name: 'relative path', source: `${minimalCluster}paths: { etc: etc/etcd }\n`, at: '7:15', says: /use an absolute path/ },
  { name: 'path traversal', source: `${minimalCluster}paths: { data: /var/lib/../../etc }\n`, at: '7:16', says: /not a normalized absolute path: write it as \/etc/ },
  { name: 'data inside etc', source: `${minimalCluster}paths: { etc: /srv/etcd, data: /srv/etcd/data }\n`, at: '7:32', says: /overlap/ },
  { name: 'leaf outlives CA', source: `${minimalCluster}tls: { caDays: 100, certDays: 365 }\n`, at: '7:31', says: /cannot outlive its CA/ },
  { name: 'unknown key type', source: `${minimalCluster}tls: { key: ed25519 }\n`, at: '7:13', says: /must be one of "ecdsa-p256"/ },
  { name: 'bad extra SAN', source: `${minimalCluster}tls: { extraSANs: [ "lb..lan" ] }\n`, at: '7:21', says: /"lb..lan" is neither a DNS name nor an IP/ },
  { name: 'wrong type for nodes', source: 'name: test\netcd: { version: "3.5.13" }\nnodes: etcd1\n', at: '3:8', says: /\$\.nodes: must be a list, not a string/ },
  { name: 'tarball without sha256', source: minimalCluster.replace('"3.5.13" }', '"3.5.13", install: { from: tarball } }'), at: '2:37', says: /\$\.etcd\.install: from: tarball needs the tarball's sha256/ },
  { name: 'sha256 not hex', source: minimalCluster.replace('"3.5.13" }', '"3.5.13", install: { from: tarball, sha256: ABC } }'), at: '2:62', says: /\$\.etcd\.install\.sha256: invalid value: use the tarball's SHA-256/ },
  { name: 'url not https', source: minimalCluster.replace('"3.5.13" }', `"3.5.13", install: { from: tarball, sha256: ${'a'.repeat(64)}, url: "http://x.lan/e.tgz" } }`), at: '2:133', says: /\$\.etcd\.install\.url: invalid value: use an https URL/ },
  { name: 'url with a command substitution', source: minimalCluster.replace('"3.5.13" }', `"3.5.13", install: { from: tarball, sha256: ${'a'.repeat(64)}, url: "https://x.lan/$(reboot)" } }`), at: '2:133', says: /\$\.etcd\.install\.url: invalid value/ },
  { name: 'sha256 with from: package', source: `${minimalCluster.replace('"3.5.13" }', `"3.5.13", install: { from: package, sha256: ${'a'.repeat(64)} } }`)}paths: { bin: /usr/bin }\n`, at: '2:62', says: /\$\.etcd\.install\.sha256: sha256 is only used with from: tarball, not from: package: remove it/ },
  { name: 'from: package with bin elsewhere', source: `${minimalCluster.replace('"3.5.13" }', '"3.5.13", install: { from: package } }')}paths: { bin: /opt/etcd/bin }\n`, at: '7:15', says: /\$\.paths\.bin: the etcd-server package installs etcd in \/usr\/bin, but paths\.bin is \/opt\/etcd\/bin: set paths\.bin to \/usr\/bin/ },
  { name: 'from: package with the default bin', source: minimalCluster.replace('"3.5.13" }', '"3.5.13", install: { from: package } }'), at: '2:45', says: /\$\.etcd\.install\.from: the etcd-server package installs etcd in \/usr\/bin, but paths\.bin is \/usr\/local\/bin/ },
  { name: 'unknown install source', source: minimalCluster.replace('"3.5.13" }', '"3.5.13", install: { from: snap } }'), at: '2:45', says: /\$\.etcd\.install\.from: must be one of "tarball", "package", "none"/ },
];

describe('validate', () => {
  for (const bad of badInputs) {
    it(`refuses ${bad.name}`, () => {
      const { diagnostics, config } = check(bad.source);
      assert.equal(config, null);
      const first = diagnostics.find((d) => d.severity === 'error');
      assert.ok(first, 'expected an error');
      const text = formatDiagnostic(first);
      assert.match(text, bad.says);
      assert.equal(`${first.position.line}:${first.position.column}`, bad.at, text);
      assert.ok(text.startsWith(`cluster.yaml:${bad.at}: `), text);
    });
  }

  it('names the field an outdented key belongs to, and where its parent is', () => {
    const outdented = (source: string) => check(source).diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    assert.deepEqual(outdented(minimalCluster.replace('etcd: { version: "3.5.13" }', 'etcd:\nversion: "3.5.13"')), [
      'cluster.yaml:2:1: $.etcd: must be a mapping, not null: indent its fields under it (two spaces more than the key), or remove the key',
      'cluster.yaml:3:1: $.version: unknown field "version" here: did you mean etcd.version? check its indentation: a key indented less than its parent\'s fields lands one level up',
    ]);
    // One level down too, and a field of a list's items.
    const nested = outdented(`${minimalCluster.replace('etcd: { version: "3.5.13" }', 'etcd:\n  version: "3.5.13"\n  install:\n  from: none')}ip: 10.0.0.9\n`);
    assert.ok(nested.some((l) => l.startsWith('cluster.yaml:5:3: $.etcd.from: unknown field "from" here: did you mean etcd.install.from?')), nested.join('\n'));
    assert.ok(nested.some((l) => l.startsWith('cluster.yaml:10:1: $.ip: unknown field "ip" here: did you mean nodes[].ip?')), nested.join('\n'));
    // A key close to a field of its own level is a typo, not an outdent.
    assert.match(outdented(`${minimalCluster}tsl: {}\n`).join('\n'), /unknown field "tsl": did you mean "tls"\?/);
  });

  it('points every diagnostic at a real line and column of the file', () => {
    for (const source of [`${minimalCluster}tls:\n`, `${minimalCluster}tls:`, 'name: test\netcd:\nnodes:\n  -\n  -\n', 'name:\n']) {
      const lines = source.split('\n');
      for (const d of check(source).diagnostics) {
        const { line, column } = d.position;
        assert.ok(Number.isInteger(line) && line >= 1 && line <= lines.length, `${JSON.stringify(source)}: line ${line}`);
        assert.ok(Number.isInteger(column) && column >= 1 && column <= (lines[line - 1]?.length ?? 0) + 1, `${JSON.stringify(source)}: ${line}:${column}`);
      }
    }
  });

  it('reports every problem at once, in source order', () => {
    const source = minimalCluster.replace('name: etcd2', 'name: etcd1').replace('name: test', 'name: BAD') + 'ports: { client: 0 }\n';
    const errors = check(source).diagnostics.filter((d) => d.severity === 'error');
    assert.deepEqual(errors.map((d) => d.position.line), [1, 5, 7]);
  });

  it('accepts a valid cluster with no errors', () => {
    const { diagnostics, config } = check(minimalCluster);
    assert.ok(config);
    assert.deepEqual(diagnostics.filter((d) => d.severity === 'error'), []);
    // 3.5.13's warnings are about the release (src/etcd/releases.ts KNOWN_ISSUES), nothing else.
    assert.deepEqual(diagnostics.filter((d) => d.pointer !== '/etcd/version'), []);
  });

  it('warns about quorum with an even number of members, and about a single member', () => {
    const four = `${minimalCluster}  - { name: etcd4, host: 10.0.0.14 }\n`;
    const even = check(four);
    assert.ok(even.config, 'an even member count still builds');
    assert.match(even.diagnostics.map(formatDiagnostic).join('\n'), /warning: \$\.nodes: 4 members tolerate no more failures than 3/);
    const single = check('name: lab\netcd: { version: "3.5.13" }\nnodes: [ { name: one, host: 10.0.0.1 } ]\n');
    assert.match(single.diagnostics.map(formatDiagnostic).join('\n'), /one member has no fault tolerance/);
  });

  it('warns when a DNS host has no ip, as the member then listens on every interface', () => {
    const { diagnostics } = check(minimalCluster.replace('host: 10.0.0.11', 'host: etcd1.lan'));
    assert.match(diagnostics.map(formatDiagnostic).join('\n'), /cluster.yaml:4:26: warning: \$\.nodes\[0\]\.host: no ip for DNS host etcd1.lan/);
  });

  it('keeps the schema defaults equal to the defaults the model applies', () => {
    const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schema', 'cluster.schema.json'), 'utf8')) as {
      properties: Record<string, { properties?: Record<string, { default?: unknown }>; items?: { properties: Record<string, { default?: unknown }> } }>;
    };
    for (const [section, values] of Object.entries(DEFAULTS)) {
      // A list's defaults are those of each of its items (nodes[]).
      const fields = schema.properties[section]?.properties ?? schema.properties[section]?.items?.properties;
      for (const [key, value] of Object.entries(values)) {
        assert.deepEqual(fields?.[key]?.default, value, `${section}.${key}`);
      }
    }
  });
});

describe('the ahead-of-time schema validator', () => {
  it('agrees with one compiled from schema/ now, on every bad input', async () => {
    const { createRequire } = await import('node:module');
    const { compileSchemaValidator } = await import('../src/input/validate.js');
    const aot = createRequire(import.meta.url)('../src/generated/cluster-validator.cjs') as ReturnType<typeof compileSchemaValidator>;
    const fresh = compileSchemaValidator();
    const summary = (v: typeof fresh, data: unknown) => {
      v(data);
      return (v.errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`).sort();
    };
    for (const bad of [...badInputs.map((b) => b.source), minimalCluster]) {
      const data = parseClusterSource(bad, 'c.yaml').data;
      assert.deepEqual(summary(aot, data), summary(fresh, data));
    }
  });
});
