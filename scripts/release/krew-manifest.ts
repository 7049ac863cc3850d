/**
 * The Krew plugin manifest (plugin-manifest/singlestore.yaml) and the krew-release-bot template
 * beside it (plugin-manifest/.krew.yaml) come from this one renderer, so they cannot drift apart.
 * Pure: the release script supplies the archives' names and digests.
 */
import {
  archiveFiles,
  archiveName,
  executableName,
  type Platform,
  platforms,
  pluginName,
} from './platforms.ts';

export interface ManifestSource {
  /** `v`-prefixed version, or the template's `{{ .TagName }}`. */
  version: string;
  /** https://github.com/OWNER/NAME */
  homepage: string;
  platforms: readonly Pick<Platform, 'os' | 'arch'>[];
  /** The `uri:`/`sha256:` lines of one platform, as they appear under its list item. */
  location: (platform: Pick<Platform, 'os' | 'arch'>) => string;
}

export function releaseUrl(homepage: string, tag: string, archive: string): string {
  return `${homepage}/releases/download/${tag}/${archive}`;
}

/** A platform's location with the archive's real digest (Krew requires 64 lowercase hex digits). */
export function pinnedLocation(uri: string, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a lowercase sha256: ${sha256}`);
  return `uri: ${uri}\n    sha256: ${sha256}`;
}

/** krew-release-bot fills this in on a release (its addURIAndSha writes `uri:` and `sha256:`). */
export function templateLocation(uriTemplate: string): string {
  return `{{ addURIAndSha "${uriTemplate}" .TagName }}`;
}

export function renderManifest(source: ManifestSource): string {
  const platformItems = source.platforms.map((platform) => {
    const files = archiveFiles(platform)
      .map((file) => `    - from: ${file}\n      to: .`)
      .join('\n');
    return [
      '  - selector:',
      '      matchLabels:',
      `        os: ${platform.os}`,
      `        arch: ${platform.arch}`,
      `    ${source.location(platform)}`,
      '    files:',
      files,
      `    bin: ${executableName(platform)}`,
    ].join('\n');
  });
  return `apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: ${pluginName}
spec:
  version: ${source.version}
  homepage: ${source.homepage}
  shortDescription: Turn on, check and rotate TLS of KubeDB SingleStore databases
  description: |
    Makes TLS for KubeDB SingleStore databases easy to turn on, understand and rotate.
    "tls status" checks every step from the cert-manager issuer to the certificates the pods
    serve, against the live objects and the x509 data in the Secrets, and names the first broken
    step with a hint (a table for a whole cluster, JSON for scripts). "tls enable" runs the
    preflight and turns TLS on the supported way; "tls rotate" re-issues the certificates and
    rolls the database so its pods load them. Uses your kubeconfig and kubectl's flags.
  caveats: |
    Needs cert-manager and KubeDB in the cluster. The least-privilege roles for each command are
    in docs/rbac.yaml of the project.

    For shell completion of "kubectl singlestore ...", kubectl (1.26+) runs the helper
    kubectl_complete-singlestore from PATH, which Krew does not install. Put it beside the plugin:
      kubectl singlestore completion helper
  platforms:
${platformItems.join('\n')}
`;
}

/** The krew-release-bot template for every platform, from the same renderer as the manifest. */
export function krewReleaseBotTemplate(homepage: string): string {
  return renderManifest({
    version: '{{ .TagName }}',
    homepage,
    platforms,
    location: (platform) =>
      templateLocation(releaseUrl(homepage, '{{ .TagName }}', archiveName(platform, '{{ .TagName }}'))),
  });
}

/** `github:owner/name`, `owner/name` or a GitHub URL, as https://github.com/owner/name. */
export function githubHomepage(repository: string): string {
  const match = /^(?:github:|https:\/\/github\.com\/)?([\w.-]+\/[\w.-]+?)(?:\.git)?\/?$/.exec(repository);
  if (!match) throw new Error(`repository "${repository}" is not a GitHub owner/name`);
  return `https://github.com/${match[1]}`;
}
