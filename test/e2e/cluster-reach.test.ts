/**
 * Reaching every cluster kubectl reaches, each case side by side with kubectl 1.32 on the same input:
 * proxies (CONNECT with and without credentials, SOCKS5, the environment, NO_PROXY), exec credential
 * plugins (runs, stderr, stdin, KUBERNETES_EXEC_INFO, relative commands, installHint, apiVersion,
 * refresh on 401), the oidc auth-provider's refresh, dead endpoints and interrupts, flags and messages.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import yaml from 'js-yaml';
import { ExitCode } from '../../src/errors.ts';
import { startApiProxy } from '../support/api-proxy.ts';
import { startConnectProxy, startSocksProxy } from '../support/proxies.ts';
import { forgeCertificate } from '../support/x509-forge.ts';
import { binary, clusterDir, clusterEnv, type Result, runPlugin, skipReason } from './harness.ts';

/** kubectl, asynchronously (several cases run it beside the plugin). */
const kubectl132 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';

function kubectlRun(
  args: string[],
  env: Record<string, string | undefined> = {},
  input?: string,
  program = 'kubectl',
): Promise<Result> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile(
      program,
      args,
      {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } as NodeJS.ProcessEnv,
        timeout: 90_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

interface Whoami {
  username: string;
}

async function pluginWhoami(env: Record<string, string | undefined>, args: string[] = []): Promise<Whoami> {
  const result = await runPlugin(['context', '-o', 'json', ...args], { env });
  assert.equal(result.code, 0, result.stderr);
  return { username: JSON.parse(result.stdout).authenticatedAs.username };
}

async function kubectlWhoami(env: Record<string, string | undefined>, args: string[] = []): Promise<Whoami> {
  const result = await kubectlRun(['auth', 'whoami', '-o', 'json', ...args], env);
  assert.equal(result.code, 0, result.stderr);
  return { username: JSON.parse(result.stdout).status.userInfo.username };
}

describe('reaching the cluster as kubectl does', { skip: skipReason }, () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'reach-'));
  const { SERVER = '', ADMIN_TOKEN = '' } = clusterEnv();
  const port = new URL(SERVER || 'https://127.0.0.1:1').port;
  const ca = path.join(clusterDir, 'pki', 'apiserver.crt');
  const closers: (() => void)[] = [];
  after(() => {
    for (const close of closers) close();
  });

  /** A kubeconfig with one context "c" of the given cluster and user. */
  function kubeconfigWith(
    name: string,
    cluster: object,
    user: object,
    dir = scratch,
  ): Record<string, string> {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(
      file,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster }],
        users: [{ name: 'u', user }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u', namespace: 'default' } }],
        'current-context': 'c',
      }),
    );
    return { KUBECONFIG: file };
  }

  const admin = { token: ADMIN_TOKEN };
  // The API server's certificate names "kubernetes.default.svc"; nothing resolves that name on this
  // machine except the test proxies: a request that succeeds went through the proxy.
  const hiddenServer = `https://kubernetes.default.svc:${port}`;
  const hosts = { 'kubernetes.default.svc': '127.0.0.1' };

  describe('proxies', () => {
    test('proxy-url (CONNECT): a server only the proxy can reach works, as with kubectl', async () => {
      const proxy = await startConnectProxy({ hosts });
      closers.push(proxy.close);
      const env = kubeconfigWith(
        'proxy-plain',
        { server: hiddenServer, 'certificate-authority': ca, 'proxy-url': proxy.url },
        admin,
      );
      assert.deepEqual(await pluginWhoami(env), await kubectlWhoami(env));
      assert.ok(proxy.tunnels.length >= 2, `tunnels: ${proxy.tunnels}`);
      assert.ok(proxy.tunnels.every((tunnel) => tunnel === `kubernetes.default.svc:${port}`));

      const direct = kubeconfigWith(
        'proxy-none',
        { server: hiddenServer, 'certificate-authority': ca },
        admin,
      );
      const unreachable = await runPlugin(['context'], { env: direct });
      assert.equal(unreachable.code, ExitCode.runtime);
      assert.match(
        unreachable.stderr,
        /^error: cannot reach the API server at https:\/\/kubernetes\.default\.svc:\d+: host not found/,
      );
      assert.notEqual((await kubectlRun(['auth', 'whoami'], direct)).code, 0);
    });

    test('proxy-url with credentials; wrong ones are one clear line, like kubectl refused', async () => {
      const proxy = await startConnectProxy({ hosts, credentials: 'ops:p@ss' });
      closers.push(proxy.close);
      const url = new URL(proxy.url);
      url.username = 'ops';
      url.password = 'p%40ss';
      const env = kubeconfigWith(
        'proxy-auth',
        { server: hiddenServer, 'certificate-authority': ca, 'proxy-url': url.href },
        admin,
      );
      assert.deepEqual(await pluginWhoami(env), await kubectlWhoami(env));
      assert.equal(proxy.refused, 0);

      const wrong = kubeconfigWith(
        'proxy-auth-wrong',
        { server: hiddenServer, 'certificate-authority': ca, 'proxy-url': proxy.url },
        admin,
      );
      const refused = await runPlugin(['context'], { env: wrong });
      assert.equal(refused.code, ExitCode.runtime);
      assert.equal(
        refused.stderr,
        `error: cannot reach the API server at ${hiddenServer} through the proxy ${proxy.url}: the proxy refused the tunnel: 407 Proxy Authentication Required\n`,
      );
      assert.notEqual((await kubectlRun(['auth', 'whoami'], wrong)).code, 0);
    });

    test('a socks5 proxy-url with credentials, as kubectl', async () => {
      const proxy = await startSocksProxy({ hosts, credentials: 'ops:secret' });
      closers.push(proxy.close);
      const env = kubeconfigWith(
        'proxy-socks',
        {
          server: hiddenServer,
          'certificate-authority': ca,
          'proxy-url': `socks5://ops:secret@127.0.0.1:${proxy.port}`,
        },
        admin,
      );
      assert.deepEqual(await pluginWhoami(env), await kubectlWhoami(env));
      assert.ok(
        proxy.tunnels.length >= 2 && proxy.tunnels.every((t) => t === `kubernetes.default.svc:${port}`),
      );
    });

    test('HTTPS_PROXY from the environment; NO_PROXY bypasses it, as kubectl', async () => {
      const proxy = await startConnectProxy({ hosts });
      closers.push(proxy.close);
      const config = kubeconfigWith(
        'proxy-env',
        { server: hiddenServer, 'certificate-authority': ca },
        admin,
      );
      for (const name of ['HTTPS_PROXY', 'https_proxy']) {
        const env = { ...config, [name]: `127.0.0.1:${proxy.port}` };
        const before = proxy.tunnels.length;
        assert.deepEqual(await pluginWhoami(env), await kubectlWhoami(env));
        assert.ok(proxy.tunnels.length >= before + 2);
      }
      const bypassed = { ...config, HTTPS_PROXY: proxy.url, NO_PROXY: 'example.com,.svc' };
      const before = proxy.tunnels.length;
      const plugin = await runPlugin(['context'], { env: bypassed });
      const kubectl = await kubectlRun(['auth', 'whoami'], bypassed);
      assert.equal(plugin.code, ExitCode.runtime);
      assert.match(plugin.stderr, /host not found/);
      assert.notEqual(kubectl.code, 0);
      assert.equal(proxy.tunnels.length, before, 'NO_PROXY: nothing went through the proxy');
      // HTTP_PROXY is for http:// servers only.
      const httpOnly = { ...config, HTTP_PROXY: proxy.url };
      assert.equal((await runPlugin(['context'], { env: httpOnly })).code, ExitCode.runtime);
      assert.notEqual((await kubectlRun(['auth', 'whoami'], httpOnly)).code, 0);
    });

    test('an unsupported proxy-url scheme is refused, as kubectl does', async () => {
      const env = kubeconfigWith(
        'proxy-ftp',
        { server: SERVER, 'certificate-authority': ca, 'proxy-url': 'ftp://127.0.0.1:1' },
        admin,
      );
      const plugin = await runPlugin(['context'], { env });
      assert.equal(plugin.code, ExitCode.usage);
      assert.match(
        plugin.stderr,
        /^error: cluster "c": proxy-url scheme "ftp" is not supported: use http, https or socks5\n/,
      );
      assert.notEqual((await kubectlRun(['auth', 'whoami'], env)).code, 0);
    });
  });

  describe('exec credential plugins', () => {
    const plugin = path.join(scratch, 'bin', 'credential-plugin');
    mkdirSync(path.dirname(plugin), { recursive: true });
    // Counts its runs, dumps KUBERNETES_EXEC_INFO, prompts on stderr, optionally reads stdin and
    // answers a first bad token then good ones (MODE=refresh), or another apiVersion (MODE=v1beta1).
    writeFileSync(
      plugin,
      `#!/bin/sh
echo run >> "$STATE/runs"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$STATE/exec-info"
echo "To sign in, open https://device.example and enter the code WXYZ-1234" >&2
if [ "$MODE" = stdin ]; then
  read -r answer || answer=""
  [ "$answer" = yes ] || { echo "no answer on stdin" >&2; exit 7; }
fi
token="$TOKEN"
if [ "$MODE" = refresh ] && [ "$(wc -l < "$STATE/runs")" -eq 1 ]; then token=stale; fi
version=client.authentication.k8s.io/v1
[ "$MODE" = v1beta1 ] && version=client.authentication.k8s.io/v1beta1
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s"}}' "$version" "$token"
`,
    );
    chmodSync(plugin, 0o755);

    /** A kubeconfig using the plugin; its STATE folder is fresh for each call. */
    function execConfig(name: string, exec: Record<string, unknown>, mode = 'plain', cluster: object = {}) {
      const state = mkdtempSync(path.join(scratch, `${name}-`));
      const env = kubeconfigWith(
        'kubeconfig',
        { server: SERVER, 'certificate-authority': ca, ...cluster },
        {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: plugin,
            interactiveMode: 'Never',
            env: [
              { name: 'STATE', value: state },
              { name: 'TOKEN', value: ADMIN_TOKEN },
              { name: 'MODE', value: mode },
            ],
            ...exec,
          },
        },
        state,
      );
      const runs = () =>
        existsSync(path.join(state, 'runs'))
          ? readFileSync(path.join(state, 'runs'), 'utf8').split('\n').length - 1
          : 0;
      const info = () => JSON.parse(readFileSync(path.join(state, 'exec-info'), 'utf8'));
      return { env, runs, info, state };
    }

    test('one run per process; its stderr reaches the user; KUBERNETES_EXEC_INFO as kubectl sets it', async () => {
      const ours = execConfig('exec-info', { provideClusterInfo: true }, 'plain', {
        'tls-server-name': 'kubernetes',
        extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'db-team' } }],
      });
      const theirs = execConfig('exec-info-kubectl', { provideClusterInfo: true }, 'plain', {
        'tls-server-name': 'kubernetes',
        extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'db-team' } }],
      });
      // tls status lists, then reads each kind it needs: several requests, one run.
      const result = await runPlugin(['tls', 'status', '-n', 'default', '-v', '6'], { env: ours.env });
      assert.ok(result.code === 0 || result.code === ExitCode.findings, result.stderr);
      const requests = result.stderr.split('\n').filter((line) => /^(GET|POST) https/.test(line)).length;
      assert.ok(requests >= 2, result.stderr);
      assert.equal(ours.runs(), 1);
      assert.match(result.stderr, /open https:\/\/device\.example and enter the code WXYZ-1234/);
      const kubectl = await kubectlRun(['get', 'pods,secrets,configmaps'], theirs.env);
      assert.equal(kubectl.code, 0, kubectl.stderr);
      assert.equal(theirs.runs(), 1);
      assert.match(kubectl.stderr, /open https:\/\/device\.example and enter the code WXYZ-1234/);
      assert.deepEqual(ours.info(), theirs.info());
      assert.equal(ours.info().spec.cluster.config.audience, 'db-team');

      // Without provideClusterInfo: only spec.interactive, as kubectl.
      const bare = execConfig('exec-bare', {});
      const bareKubectl = execConfig('exec-bare-kubectl', {});
      await pluginWhoami(bare.env);
      await kubectlWhoami(bareKubectl.env);
      assert.deepEqual(bare.info(), bareKubectl.info());
      assert.deepEqual(bare.info().spec, { interactive: false });
    });

    test('interactiveMode: stdin only on a terminal; Always without one fails; nothing hangs', async () => {
      // Not a terminal: IfAvailable gives the plugin no stdin, so its read ends at once, as with kubectl.
      const ifAvailable = execConfig('exec-ifavailable', { interactiveMode: 'IfAvailable' }, 'stdin');
      const failed = await runPlugin(['context'], { env: ifAvailable.env, timeoutMs: 20_000 });
      assert.equal(failed.code, ExitCode.runtime);
      assert.match(
        failed.stderr,
        /no answer on stdin\nerror: exec credential plugin ".*" failed with exit code 7\n$/,
      );
      const kubectl = await kubectlRun(
        ['auth', 'whoami'],
        execConfig('exec-ifavailable-k', { interactiveMode: 'IfAvailable' }, 'stdin').env,
        'yes\n',
      );
      assert.notEqual(kubectl.code, 0);
      assert.match(kubectl.stderr, /no answer on stdin/);

      const always = execConfig('exec-always', { interactiveMode: 'Always' });
      const refused = await runPlugin(['context'], { env: always.env });
      assert.equal(refused.code, ExitCode.runtime);
      assert.match(refused.stderr, /interactiveMode: Always\), but standard input is not a terminal/);
      assert.equal(always.runs(), 0);
      assert.notEqual(
        (await kubectlRun(['auth', 'whoami'], execConfig('exec-always-k', { interactiveMode: 'Always' }).env))
          .code,
        0,
      );

      // On a terminal (script(1) gives one), IfAvailable passes stdin: the plugin reads the answer.
      const onTerminal = execConfig('exec-tty', { interactiveMode: 'IfAvailable' }, 'stdin');
      const tty = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn('script', ['-qec', `${binary} context -o json`, '/dev/null'], {
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...onTerminal.env },
        });
        let output = '';
        child.stdout.on('data', (chunk) => {
          output += chunk;
        });
        setTimeout(() => child.stdin.write('yes\n'), 300);
        child.on('close', (code) => resolve({ code, output }));
      });
      assert.equal(tty.code, 0, tty.output);
      assert.match(tty.output, /enter the code WXYZ-1234/);
      assert.match(tty.output, /"username": "admin"/);
      assert.equal(onTerminal.info().spec.interactive, true);
    });

    test('a relative command is found beside the kubeconfig, as kubectl', async () => {
      const dir = mkdtempSync(path.join(scratch, 'relative-'));
      mkdirSync(path.join(dir, 'bin'));
      writeFileSync(path.join(dir, 'bin', 'get-token'), readFileSync(plugin));
      chmodSync(path.join(dir, 'bin', 'get-token'), 0o755);
      const env = kubeconfigWith(
        'config',
        { server: SERVER, 'certificate-authority': ca },
        {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: './bin/get-token',
            interactiveMode: 'Never',
            env: [
              { name: 'STATE', value: dir },
              { name: 'TOKEN', value: ADMIN_TOKEN },
            ],
          },
        },
        dir,
      );
      assert.deepEqual(await pluginWhoami(env), await kubectlWhoami(env));
    });

    test('a missing command shows its installHint; another apiVersion is refused; as kubectl', async () => {
      const missing = execConfig('exec-missing', {
        command: 'kubectl-no-such-login',
        installHint: 'Install it with: brew install no-such-login',
      });
      const result = await runPlugin(['context'], { env: missing.env });
      assert.equal(result.code, ExitCode.runtime);
      assert.equal(
        result.stderr,
        'error: exec credential plugin "kubectl-no-such-login" was not found on PATH\n\nInstall it with: brew install no-such-login\n',
      );
      const kubectl = await kubectlRun(['auth', 'whoami'], missing.env);
      assert.notEqual(kubectl.code, 0);
      assert.match(kubectl.stderr, /Install it with: brew install no-such-login/);

      const other = execConfig('exec-version', {}, 'v1beta1');
      const wrongVersion = await runPlugin(['context'], { env: other.env });
      assert.equal(wrongVersion.code, ExitCode.runtime);
      assert.match(
        wrongVersion.stderr,
        /error: exec credential plugin ".*" returned apiVersion "client.authentication.k8s.io\/v1beta1", but the kubeconfig asks for client.authentication.k8s.io\/v1\n$/,
      );
      const kubectlVersion = await kubectlRun(
        ['auth', 'whoami'],
        execConfig('exec-version-k', {}, 'v1beta1').env,
      );
      assert.notEqual(kubectlVersion.code, 0);
      assert.match(kubectlVersion.stderr, /plugin returned version client.authentication.k8s.io\/v1beta1/);

      const noMode = execConfig('exec-nomode', { interactiveMode: undefined });
      const invalid = await runPlugin(['context'], { env: noMode.env });
      assert.equal(invalid.code, ExitCode.usage);
      assert.match(invalid.stderr, /interactiveMode must be specified/);
      assert.match(
        (await kubectlRun(['auth', 'whoami'], noMode.env)).stderr,
        /interactiveMode must be specified/,
      );
    });

    test('a 401 refreshes the credential once: a read is replayed with the new one', async () => {
      const stale = execConfig('exec-refresh', {}, 'refresh');
      const result = await runPlugin(['tls', 'status', '-n', 'default', '-o', 'json'], { env: stale.env });
      assert.ok(result.code === 0 || result.code === ExitCode.findings, result.stderr);
      assert.equal(stale.runs(), 2);
      // kubectl refreshes too (its next request carries the new token) but does not replay the 401.
      const theirs = execConfig('exec-refresh-k', {}, 'refresh');
      await kubectlRun(['get', 'pods'], theirs.env);
      assert.equal(theirs.runs(), 2);
    });
  });

  test('the oidc auth-provider: an expired id-token is refreshed and saved, as kubectl does', async () => {
    const jwt = (sub: string, exp: number) =>
      [{ alg: 'none' }, { sub, exp }, 'sig']
        .map((part) =>
          Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url'),
        )
        .join('.');
    const issued = new Set<string>();
    const calls: { auth: string | undefined; form: string }[] = [];
    const issuer = http.createServer((request, response) => {
      if (request.url === '/.well-known/openid-configuration') {
        response.setHeader('Content-Type', 'application/json');
        return response.end(JSON.stringify({ issuer: issuerUrl, token_endpoint: `${issuerUrl}/token` }));
      }
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        calls.push({ auth: request.headers.authorization, form: body });
        const form = new URLSearchParams(body);
        if (
          form.get('grant_type') !== 'refresh_token' ||
          !form.get('refresh_token')?.startsWith('refresh-')
        ) {
          response.writeHead(400, { 'Content-Type': 'application/json' });
          return response.end('{"error":"invalid_grant"}');
        }
        const idToken = jwt(`user-${calls.length}`, Math.floor(Date.now() / 1000) + 3600);
        issued.add(idToken);
        response.setHeader('Content-Type', 'application/json');
        response.end(
          JSON.stringify({
            access_token: 'a',
            token_type: 'Bearer',
            id_token: idToken,
            refresh_token: `refresh-${calls.length}`,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
    closers.push(() => issuer.close());
    const issuerUrl = `http://127.0.0.1:${(issuer.address() as net.AddressInfo).port}`;
    // The test API server does not validate OIDC tokens: an HTTPS proxy in front of it maps every
    // id-token the issuer handed out to the admin token, and drops any other credential.
    const apiProxy = await startApiProxy(clusterDir, SERVER, () => undefined, {
      tls: { cert: readFileSync(ca), key: readFileSync(path.join(clusterDir, 'pki', 'apiserver.key')) },
      authorization: (value) =>
        value && issued.has(value.replace(/^Bearer /, '')) ? `Bearer ${ADMIN_TOKEN}` : undefined,
    });
    closers.push(apiProxy.close);
    const provider = (name: string) =>
      kubeconfigWith(
        name,
        { server: apiProxy.url, 'certificate-authority': ca },
        {
          'auth-provider': {
            name: 'oidc',
            config: {
              'client-id': 'kubectl',
              'client-secret': 's3cret',
              'idp-issuer-url': issuerUrl,
              'id-token': jwt('old', Math.floor(Date.now() / 1000) - 60),
              'refresh-token': 'refresh-0',
              'extra-scopes': 'groups,email',
            },
          },
        },
      );
    const ours = provider('oidc-ours');
    const theirs = provider('oidc-kubectl');
    assert.deepEqual(await pluginWhoami(ours), await kubectlWhoami(theirs));
    assert.equal(calls.length, 2);
    assert.equal(calls[0]?.auth, calls[1]?.auth);
    assert.deepEqual(
      Object.fromEntries(new URLSearchParams(calls[0]?.form)),
      Object.fromEntries(new URLSearchParams(calls[1]?.form)),
    );
    const saved = (file: string) => {
      const doc = yaml.load(readFileSync(file, 'utf8')) as {
        users: { user: { 'auth-provider': { config: Record<string, string> } } }[];
      };
      return doc.users[0]?.user['auth-provider'].config ?? {};
    };
    const oursSaved = saved(ours.KUBECONFIG as string);
    const theirsSaved = saved(theirs.KUBECONFIG as string);
    assert.ok(issued.has(oursSaved['id-token'] ?? ''));
    assert.ok(issued.has(theirsSaved['id-token'] ?? ''));
    assert.match(oursSaved['refresh-token'] ?? '', /^refresh-[12]$/);
    assert.match(theirsSaved['refresh-token'] ?? '', /^refresh-[12]$/);
    // The saved, still valid id-token is used as it is: no new refresh.
    await pluginWhoami(ours);
    assert.equal(calls.length, 2);
  });

  describe('dead endpoints and interrupts', () => {
    test('a server that accepts TCP but never completes TLS: ends after the 10 s handshake limit, as kubectl', async () => {
      const blackHole = net.createServer(() => {}).listen(0, '127.0.0.1');
      await new Promise((resolve) => blackHole.once('listening', resolve));
      closers.push(() => blackHole.close());
      const server = `https://127.0.0.1:${(blackHole.address() as net.AddressInfo).port}`;
      const [plugin, kubectl] = await Promise.all([
        runPlugin(['context', '--server', server]),
        // kubectl 1.32 itself: the /usr/bin/kubectl dispatcher would first wait on the server's version.
        kubectlRun(
          [
            'get',
            '--raw',
            '/version',
            '--server',
            server,
            '--kubeconfig',
            '/dev/null',
            '--insecure-skip-tls-verify',
            '--token',
            'x',
          ],
          {},
          undefined,
          kubectl132,
        ),
      ]);
      assert.equal(plugin.code, ExitCode.runtime);
      assert.equal(
        plugin.stderr,
        `error: cannot reach the API server at ${server}: the TLS handshake did not complete within 10s\n`,
      );
      assert.ok(plugin.ms >= 9_500 && plugin.ms < 13_000, `plugin took ${plugin.ms} ms`);
      assert.notEqual(kubectl.code, 0);
      assert.match(kubectl.stderr, /TLS handshake timeout/);
      assert.ok(kubectl.ms >= 9_500, `kubectl took ${kubectl.ms} ms`);
    });

    test('SIGINT during a hanging request ends the plugin at once with 130', async () => {
      const blackHole = net.createServer(() => {}).listen(0, '127.0.0.1');
      await new Promise((resolve) => blackHole.once('listening', resolve));
      closers.push(() => blackHole.close());
      const server = `https://127.0.0.1:${(blackHole.address() as net.AddressInfo).port}`;
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        const child = spawn(binary, ['context', '--server', server], {
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            KUBECONFIG: path.join(clusterDir, 'kubeconfig'),
          },
        });
        let stderr = '';
        child.stderr.on('data', (chunk) => {
          stderr += chunk;
        });
        // Well inside the 10 s handshake limit, and late enough for a slow start on a busy machine.
        await new Promise((resolve) => setTimeout(resolve, 3000));
        const sent = performance.now();
        child.kill(signal);
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        const ms = performance.now() - sent;
        assert.equal(code, ExitCode.interrupted, stderr);
        assert.ok(ms < 2000, `${signal}: exited ${ms} ms after the signal`);
      }
    });
  });

  describe('flags', () => {
    test('--as-group G NAME keeps NAME positional, as kubectl', async () => {
      const result = await runPlugin([
        'tls',
        'status',
        '--as',
        'admin',
        '--as-group',
        'system:masters',
        'no-such-db',
        '-n',
        'default',
      ]);
      assert.equal(result.code, ExitCode.runtime, result.stderr);
      assert.match(result.stderr, /"no-such-db"/);
      const kubectl = await kubectlRun(
        ['get', 'configmap', '--as', 'admin', '--as-group', 'system:masters', 'no-such-map', '-n', 'default'],
        { KUBECONFIG: path.join(clusterDir, 'kubeconfig') },
      );
      assert.match(kubectl.stderr, /"no-such-map" not found/);
    });

    test('--server URL --token T with no kubeconfig at all works, as kubectl', async () => {
      const home = mkdtempSync(path.join(scratch, 'home-'));
      const env = { KUBECONFIG: undefined, HOME: home };
      const args = ['--server', SERVER, '--token', ADMIN_TOKEN, '--certificate-authority', ca];
      const ours = await runPlugin(['context', '-o', 'json', ...args], { env: { ...env, KUBECONFIG: '' } });
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(JSON.parse(ours.stdout).authenticatedAs.username, 'admin');
      assert.deepEqual(await kubectlWhoami({ HOME: home }, args), { username: 'admin' });
    });

    test('--certificate-authority switches verification back on; insecure plus a CA is refused', async () => {
      const insecure = kubeconfigWith(
        'insecure',
        { server: SERVER, 'insecure-skip-tls-verify': true },
        admin,
      );
      const unrelated = path.join(import.meta.dirname, '..', 'fixtures', 'unrelated-ca.crt');
      const ours = await runPlugin(['context', '--certificate-authority', unrelated], { env: insecure });
      assert.equal(ours.code, ExitCode.runtime);
      assert.match(ours.stderr, /^error: TLS verification of the API server at .* failed/);
      const kubectl = await kubectlRun(['auth', 'whoami', '--certificate-authority', unrelated], insecure);
      assert.match(kubectl.stderr, /x509|certificate/);
      assert.deepEqual(
        await pluginWhoami(insecure, ['--certificate-authority', ca]),
        await kubectlWhoami(insecure, ['--certificate-authority', ca]),
      );

      const both = kubeconfigWith(
        'insecure-and-ca',
        { server: SERVER, 'insecure-skip-tls-verify': true, 'certificate-authority': ca },
        admin,
      );
      const refused = await runPlugin(['context'], { env: both });
      assert.equal(refused.code, ExitCode.usage);
      assert.match(
        refused.stderr,
        /^error: cluster "c" sets both insecure-skip-tls-verify and a certificate-authority/,
      );
      const kubectlRefused = await kubectlRun(['auth', 'whoami'], both);
      assert.notEqual(kubectlRefused.code, 0);
      assert.match(
        kubectlRefused.stderr,
        /specifying a root certificates file with the insecure flag is not allowed/,
      );
    });

    test('--server drops the kubeconfig tls-server-name, as kubectl', async () => {
      const named = kubeconfigWith(
        'server-name',
        { server: SERVER, 'certificate-authority': ca, 'tls-server-name': 'wrong.example' },
        admin,
      );
      assert.equal((await runPlugin(['context'], { env: named })).code, ExitCode.runtime);
      assert.notEqual((await kubectlRun(['auth', 'whoami'], named)).code, 0);
      assert.deepEqual(
        await pluginWhoami(named, ['--server', SERVER]),
        await kubectlWhoami(named, ['--server', SERVER]),
      );
    });

    test('token and tokenFile: a readable tokenFile wins, as client-go', async () => {
      const file = path.join(scratch, 'admin-token');
      writeFileSync(file, `${ADMIN_TOKEN}\n`);
      const both = kubeconfigWith(
        'token-and-file',
        { server: SERVER, 'certificate-authority': ca },
        { token: 'not-a-token', tokenFile: file },
      );
      assert.deepEqual(await pluginWhoami(both), await kubectlWhoami(both));
      const viaFlag = kubeconfigWith(
        'token-file-flag',
        { server: SERVER, 'certificate-authority': ca },
        { tokenFile: file },
      );
      const flagged = ['--token', 'not-a-token'];
      // --token replaces the user's token only: the tokenFile still wins, for kubectl and for us.
      assert.deepEqual(await pluginWhoami(viaFlag, flagged), await kubectlWhoami(viaFlag, flagged));
    });
  });

  describe('messages', () => {
    test('a server address without a scheme is one clear line (kubectl: plain http, a vague 400)', async () => {
      const bare = kubeconfigWith(
        'no-scheme',
        { server: `127.0.0.1:${port}`, 'certificate-authority': ca },
        admin,
      );
      const ours = await runPlugin(['context'], { env: bare });
      assert.equal(ours.code, ExitCode.usage);
      assert.match(
        ours.stderr,
        new RegExp(
          `^error: the server address "127.0.0.1:${port}" has no scheme: write https://127.0.0.1:${port}`,
        ),
      );
      const kubectl = await kubectlRun(['auth', 'whoami'], bare);
      assert.notEqual(kubectl.code, 0);
      assert.match(kubectl.stderr, /the server rejected our request for an unknown reason/);
      const garbage = kubeconfigWith(
        'bad-server',
        { server: 'https://', 'certificate-authority': ca },
        admin,
      );
      const result = await runPlugin(['context'], { env: garbage });
      assert.equal(result.code, ExitCode.usage);
      assert.match(result.stderr, /^error: the server address "https:\/\/" is not a URL/);
    });

    test('an HTML 502 page from a load balancer is one line', async () => {
      const page =
        '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502</h1></body></html>\n';
      const lb = await startApiProxy(clusterDir, SERVER, () => ({
        respond: 502,
        headers: { 'Content-Type': 'text/html' },
        body: page,
      }));
      closers.push(lb.close);
      const result = await runPlugin(['context', '--server', lb.url]);
      assert.equal(result.code, ExitCode.runtime);
      assert.equal(result.stderr.split('\n').length, 2, result.stderr);
      assert.match(
        result.stderr,
        /^error: cannot .*502 Bad Gateway: an HTML page \("502 Bad Gateway"\) instead of a Kubernetes API answer/,
      );
      const listing = await runPlugin(['tls', 'status', '-n', 'default', '--server', lb.url]);
      assert.equal(listing.code, ExitCode.runtime);
      assert.equal(listing.stderr.split('\n').length, 2, listing.stderr);
    });

    test('--as-group without --as is one line; kubectl refuses it too', async () => {
      const result = await runPlugin(['context', '--as-group', 'team-db']);
      assert.equal(result.code, ExitCode.usage);
      assert.match(result.stderr, /^error: --as-group needs --as/);
      const kubectl = await kubectlRun(['auth', 'whoami', '--as-group', 'team-db'], {
        KUBECONFIG: path.join(clusterDir, 'kubeconfig'),
      });
      assert.notEqual(kubectl.code, 0);
    });

    test('a client key that does not match its certificate is one line; kubectl refuses it too', async () => {
      const now = new Date();
      const later = new Date(now.getTime() + 86_400_000);
      const one = forgeCertificate({ commonName: 'one', notBefore: now, notAfter: later });
      const other = forgeCertificate({ commonName: 'other', notBefore: now, notAfter: later });
      const env = kubeconfigWith(
        'mismatch',
        { server: SERVER, 'certificate-authority': ca },
        {
          'client-certificate-data': Buffer.from(one.pem).toString('base64'),
          'client-key-data': Buffer.from(other.keyPem).toString('base64'),
        },
      );
      const result = await runPlugin(['context'], { env });
      assert.equal(result.code, ExitCode.runtime);
      assert.equal(
        result.stderr,
        'error: user "u": the client-key does not belong to the client-certificate (its public key differs)\n',
      );
      const kubectl = await kubectlRun(['auth', 'whoami'], env);
      assert.match(kubectl.stderr, /private key does not match public key/);
    });
  });
});
