#!/usr/bin/env node
// Replay the npm proxmox-api 1.1.1 flow of shared/reference/api-clients.md §2
// (wire/wire-proxmox-api.log: user carol@pve, token js, form bodies) against a
// running pvecfs node, asserting what the reference says the server answers.
// proxmox-api itself insists on the exact Content-Type
// "application/json;charset=UTF-8" and on lowercase-UUID token secrets.
//
// Run by tests/compat/scripts_test.go (TestProxmoxAPI). Input, from the
// environment: COMPAT_HOST, COMPAT_PORT, COMPAT_ROOT_PASSWORD, COMPAT_NODE,
// COMPAT_CLUSTER and, optionally, COMPAT_FINGERPRINT (AA:BB:..., the node
// certificate's SHA-256, which is then pinned).
//
// Output: one line per step, "PASS <step>" or "FAIL <step>: <why>", then
// "SUMMARY passed=N failed=N". Exit status 1 if any step failed.
'use strict';

const fs = require('fs');
const path = require('path');

let proxmoxApi, undici, pkgVersion;
try {
  proxmoxApi = require('proxmox-api').default;
  const pkgFile = path.join(__dirname, 'node_modules', 'proxmox-api', 'package.json');
  pkgVersion = JSON.parse(fs.readFileSync(pkgFile, 'utf8')).version;
  // The client's own HTTP stack (its undici dependency).
  undici = require(require.resolve('undici', { paths: [path.dirname(require.resolve('proxmox-api'))] }));
} catch (e) {
  console.log(`SKIP proxmox-api not installed: ${e.message}`);
  process.exit(3);
}

const env = (k) => {
  const v = process.env[k];
  if (v === undefined) throw new Error(`missing environment variable ${k}`);
  return v;
};
const HOST = env('COMPAT_HOST');
const PORT = Number(env('COMPAT_PORT'));
const ROOT_PW = env('COMPAT_ROOT_PASSWORD');
const NODE = env('COMPAT_NODE');
const CLUSTER = env('COMPAT_CLUSTER');
const FINGERPRINT = (process.env.COMPAT_FINGERPRINT || '').trim().toUpperCase();

const GROUP = 'js-devs';
const USER = 'carol@pve';
const PASSWORD = 'carol-pass-1';
const TOKEN = 'js';
const FULL_TOKEN = `${USER}!${TOKEN}`;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// A fetch over an undici Agent that accepts the node's self-signed
// certificate only if its SHA-256 fingerprint is the expected one.
// No TLS session resumption: a resumed session shows no peer certificate.
const baseConnect = undici.buildConnector({ rejectUnauthorized: false, maxCachedSessions: 0 });
const agent = new undici.Agent({
  connect(opts, cb) {
    baseConnect(opts, (err, socket) => {
      if (err) return cb(err);
      if (FINGERPRINT) {
        const got = socket.getPeerCertificate().fingerprint256;
        if (got !== FINGERPRINT) {
          socket.destroy();
          return cb(new Error(`server certificate fingerprint ${got}, want ${FINGERPRINT}`));
        }
      }
      return cb(null, socket);
    });
  },
});
const pinnedFetch = (url, init) => undici.fetch(url, { ...init, dispatcher: agent });

const results = new Map();
const state = {};

class Failure extends Error {}
const check = (cond, msg) => {
  if (!cond) throw new Failure(msg);
};
const show = (v) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.slice(0, 1500);
};
const oneLine = (s) => String(s).split(/\s+/).join(' ').slice(0, 1500);

async function step(name, needs, fn) {
  const missing = needs.filter((n) => !results.get(n));
  if (missing.length) {
    results.set(name, false);
    console.log(`FAIL ${name}: not run: prerequisite step(s) ${missing.join(', ')} failed`);
    return;
  }
  try {
    await fn();
    results.set(name, true);
    console.log(`PASS ${name}`);
  } catch (e) {
    results.set(name, false);
    let msg = e instanceof Failure ? e.message : `${e.name}: ${e.message}`;
    for (let c = e.cause; c; c = c.cause) msg += ` | cause: ${c.message || c}`;
    console.log(`FAIL ${name}: ${oneLine(msg)}`);
  }
}

// expectError runs call, which must throw with an HTTP status (proxmox-api
// puts "Error <status> <statusText>" in its message); it returns the message.
async function expectError(call, status, what) {
  let got;
  try {
    got = await call();
  } catch (e) {
    const m = /(?:return Error|failed with) (\d{3}) /.exec(e.message);
    check(m && Number(m[1]) === status, `${what}: ${oneLine(e.message)}; want HTTP ${status}`);
    return e.message;
  }
  throw new Failure(`${what} succeeded (${show(got)}), want HTTP ${status}`);
}

const login = (username, password) =>
  proxmoxApi({ host: HOST, port: PORT, schema: 'https', username, password, fetch: pinnedFetch });
const withToken = (tokenID, tokenSecret) =>
  proxmoxApi({ host: HOST, port: PORT, schema: 'https', tokenID, tokenSecret, fetch: pinnedFetch });

(async () => {
  const api = login('root@pam', ROOT_PW);

  await step('01-login-version', [], async () => {
    const v = await api.version.$get();
    check(v && typeof v.version === 'string' && v.version && typeof v.release === 'string' && v.release,
      `GET /version = ${show(v)}, want non-empty version and release strings`);
  });

  await step('02-groups', ['01-login-version'], async () => {
    const r = await api.access.groups.$post({ groupid: GROUP, comment: 'js group' });
    check(r === null, `POST /access/groups data = ${show(r)}, want null`);
  });

  await step('03-users', ['02-groups'], async () => {
    await api.access.users.$post({ userid: USER, password: PASSWORD, groups: GROUP, enable: true });
    const users = await api.access.users.$get({ full: true });
    const mine = users.filter((u) => u.userid === USER);
    check(mine.length === 1, `GET /access/users?full=1 = ${show(users)}, want ${USER}`);
    check(mine[0].enable === 1, `list enable = ${show(mine[0].enable)}, want 1`);
    check(mine[0].groups === GROUP, `full=1 groups = ${show(mine[0].groups)}, want the string ${GROUP}`);
    if ('tokens' in mine[0]) check(Array.isArray(mine[0].tokens), `full=1 tokens = ${show(mine[0].tokens)}, want an array`);
    const u = await api.access.users.$(USER).$get();
    check(Array.isArray(u.groups) && u.groups.length === 1 && u.groups[0] === GROUP,
      `GET /access/users/${USER} groups = ${show(u.groups)}, want ["${GROUP}"]`);
    check(u.enable === 1, `enable = ${show(u.enable)}, want 1`);
  });

  await step('04-token', ['03-users'], async () => {
    const r = await api.access.users.$(USER).token.$(TOKEN).$post({ privsep: false, comment: 'js token' });
    check(r && r['full-tokenid'] === FULL_TOKEN, `token POST = ${show(r)}, want full-tokenid ${FULL_TOKEN}`);
    check(typeof r.value === 'string' && r.value.length === 36 && UUID_RE.test(r.value),
      `token value ${show(r.value)}, want a 36-character lowercase UUID`);
    check(r.info && r.info.privsep === 0, `token info = ${show(r.info)}, want privsep 0`);
    state.secret = r.value;
  });

  await step('05-acl', ['03-users'], async () => {
    await api.access.acl.$put({ path: '/', roles: 'PVEAuditor', users: USER, propagate: true });
    const acl = await api.access.acl.$get();
    check(acl.some((e) => e.path === '/' && e.type === 'user' && e.ugid === USER && e.roleid === 'PVEAuditor' && e.propagate === 1),
      `GET /access/acl = ${show(acl)}, want {path:/, type:user, ugid:${USER}, roleid:PVEAuditor, propagate:1}`);
  });

  await step('05b-acl-repeated-keys', ['05-acl'], async () => {
    // proxmox-api sends an array as repeated form keys (roles=a&roles=b);
    // the server must take them as the list (api-clients.md §3, §5).
    const roles = ['PVEAuditor', 'PVEDatastoreUser'];
    await api.access.acl.$put({ path: '/storage', roles, users: USER, propagate: true });
    const acl = await api.access.acl.$get();
    for (const roleid of roles) {
      check(acl.some((e) => e.path === '/storage' && e.type === 'user' && e.ugid === USER && e.roleid === roleid),
        `GET /access/acl = ${show(acl)}, want {path:/storage, ugid:${USER}, roleid:${roleid}} from repeated roles keys`);
    }
    await api.access.acl.$put({ path: '/storage', roles, users: USER, delete: true });
    const after = await api.access.acl.$get();
    check(!after.some((e) => e.path === '/storage' && e.ugid === USER),
      `GET /access/acl after deleting with repeated roles keys = ${show(after)}`);
  });

  await step('06-roles', ['01-login-version'], async () => {
    const roles = await api.access.roles.$get();
    const pa = roles.find((r) => r.roleid === 'PVEAuditor');
    check(pa, `GET /access/roles = ${show(roles)}, want PVEAuditor`);
    check(pa.special === 1, `PVEAuditor special = ${show(pa.special)}, want 1`);
  });

  await step('07-domains', ['01-login-version'], async () => {
    const doms = await api.access.domains.$get();
    for (const realm of ['pam', 'pve']) {
      check(doms.some((d) => d.realm === realm && d.type === realm), `GET /access/domains = ${show(doms)}, want realm ${realm}`);
    }
  });

  await step('08-token-login', ['04-token', '05-acl'], async () => {
    const tapi = withToken(FULL_TOKEN, state.secret);
    const perms = await tapi.access.permissions.$get();
    check(perms && perms['/'] && perms['/']['Sys.Audit'] === 1,
      `token GET /access/permissions = ${show(perms)}, want Sys.Audit 1 on /`);
  });

  await step('09-error-paths', ['01-login-version'], async () => {
    const msg = await expectError(() => api.access.users.$('nobody@pve').$get(), 500, 'GET /access/users/nobody@pve');
    check(/Error 500 [^:]*nobody@pve/.test(msg), `GET /access/users/nobody@pve: ${oneLine(msg)}; want the status text to name nobody@pve`);
  });

  await step('10-cluster', ['01-login-version'], async () => {
    const status = await api.cluster.status.$get();
    const cl = status.find((e) => e.type === 'cluster');
    check(cl, `GET /cluster/status = ${show(status)}, want an entry of type cluster`);
    check(cl.name === CLUSTER && cl.quorate === 1, `cluster entry ${show(cl)}, want name ${CLUSTER}, quorate 1`);
    const n = status.find((e) => e.type === 'node' && e.name === NODE);
    check(n && n.online === 1 && n.local === 1, `GET /cluster/status = ${show(status)}, want node ${NODE} online 1, local 1`);
    const cfg = await api.cluster.config.nodes.$get();
    check(Array.isArray(cfg) && cfg.some((e) => e.node === NODE), `GET /cluster/config/nodes = ${show(cfg)}, want node ${NODE}`);
  });

  await step('11-cleanup', ['05-acl', '04-token'], async () => {
    await api.access.acl.$put({ path: '/', roles: 'PVEAuditor', users: USER, delete: true });
    const acl = await api.access.acl.$get();
    check(!acl.some((e) => e.ugid === USER), `GET /access/acl after delete = ${show(acl)}, still names ${USER}`);
    await api.access.users.$(USER).token.$(TOKEN).$delete();
    const gone = withToken(FULL_TOKEN, state.secret);
    await expectError(() => gone.version.$get(), 401, 'GET /version with the deleted token');
    await api.access.users.$(USER).$delete();
    await expectError(() => api.access.users.$(USER).$get(), 500, `GET /access/users/${USER} after delete`);
    await api.access.groups.$(GROUP).$delete();
    const groups = await api.access.groups.$get();
    check(!groups.some((g) => g.groupid === GROUP), `group ${GROUP} still listed after delete`);
  });

  let passed = 0;
  let failed = 0;
  for (const ok of results.values()) ok ? passed++ : failed++;
  console.log(`SUMMARY passed=${passed} failed=${failed} proxmox-api=${pkgVersion} node=${process.version}`);
  await agent.close().catch(() => {});
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.log(`FAIL runner: ${e.stack || e}`);
  process.exit(1);
});
