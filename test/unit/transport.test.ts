import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { test } from 'node:test';
import { createAgent, parseProxyUrl, proxyFromEnvironment } from '../../src/kube/transport.ts';
import { startConnectProxy, startSocksProxy } from '../support/proxies.ts';

const target = new URL('https://api.corp.example:6443');
const proxied = (env: Record<string, string>, url = target) => proxyFromEnvironment(url, env)?.href;

test('HTTPS_PROXY/https_proxy for https servers, HTTP_PROXY for http ones, as Go reads them', () => {
  assert.equal(proxied({ HTTPS_PROXY: 'http://proxy:3128' }), 'http://proxy:3128/');
  assert.equal(proxied({ https_proxy: 'proxy:3128' }), 'http://proxy:3128/');
  assert.equal(proxied({ HTTP_PROXY: 'http://proxy:3128' }), undefined);
  assert.equal(proxied({ HTTP_PROXY: 'http://p:1' }, new URL('http://api.corp.example')), 'http://p:1/');
  assert.equal(proxied({ HTTPS_PROXY: 'socks5://p:1080' }), 'socks5://p:1080');
});

test('NO_PROXY: domains, subdomains, ports, IPs, CIDRs, *, and loopback never proxied', () => {
  const proxy = { HTTPS_PROXY: 'http://proxy:3128' };
  const bypass = (noProxy: string, url = target) =>
    proxied({ ...proxy, NO_PROXY: noProxy }, url) === undefined;
  assert.ok(bypass('corp.example'));
  assert.ok(bypass('.corp.example'));
  assert.ok(bypass('*.corp.example'));
  assert.ok(bypass('api.corp.example'));
  assert.ok(bypass('api.corp.example:6443'));
  assert.ok(!bypass('api.corp.example:443'));
  assert.ok(!bypass('other.example,xample'));
  assert.ok(bypass(' other.example , corp.example '));
  assert.ok(bypass('*'));
  assert.ok(bypass('10.1.0.0/16', new URL('https://10.1.2.3')));
  assert.ok(!bypass('10.1.0.0/16', new URL('https://10.2.2.3')));
  assert.ok(bypass('10.1.2.3', new URL('https://10.1.2.3:6443')));
  assert.ok(bypass('', new URL('https://127.0.0.1:6443')));
  assert.ok(bypass('', new URL('https://localhost:6443')));
  assert.ok(bypass('', new URL('https://[::1]:6443')));
  assert.equal(proxied({ ...proxy, no_proxy: 'corp.example' }), undefined);
});

test('proxy-url accepts http, https and socks5 only', () => {
  assert.equal(parseProxyUrl('socks5://u:p@h:1080', 'c').hostname, 'h');
  assert.throws(() => parseProxyUrl('ftp://h', 'c'), /scheme "ftp" is not supported/);
  assert.throws(() => parseProxyUrl('::', 'c'), /is not a URL/);
});

test('the agent tunnels through CONNECT and SOCKS5 proxies, with credentials', async () => {
  const server = http.createServer((_request, response) => response.end('hello'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const hosts = { 'only.proxy.test': '127.0.0.1' };
  const get = (agent: http.Agent) =>
    new Promise<string>((resolve, reject) => {
      http
        .get({ host: 'only.proxy.test', port, path: '/', agent }, (response) => {
          let text = '';
          response.on('data', (chunk) => {
            text += chunk;
          });
          response.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
  try {
    for (const start of [startConnectProxy, startSocksProxy]) {
      const proxy = await start({ hosts, credentials: 'me:s3cr:t' });
      const url = new URL(proxy.url);
      url.username = 'me';
      url.password = encodeURIComponent('s3cr:t');
      const agent = createAgent({ secure: false, proxy: url });
      assert.equal(await get(agent), 'hello');
      assert.deepEqual(proxy.tunnels, [`only.proxy.test:${port}`]);
      agent.destroy();
      const wrong = createAgent({ secure: false, proxy: new URL(proxy.url) });
      await assert.rejects(get(wrong), /refused|rejected|authentication/);
      assert.equal(proxy.refused, 1);
      wrong.destroy();
      proxy.close();
    }
  } finally {
    server.close();
  }
});
