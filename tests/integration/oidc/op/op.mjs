// A real OpenID provider (oidc-provider 8.8.1) for Tessera's OIDC integration tests, with a
// misbehaviour switch the test drives over HTTP (../oidcop.py starts it and drives it).
//
//   OP_PORT    loopback port to listen on
//   OP_CONFIG  JSON file: {"issuer": "http://127.0.0.1:PORT", "clients": [{client_id,
//              client_secret, redirect_uris, token_endpoint_auth_method}], "accounts":
//              {"<sub>": {"email": ...}}}
//
// Control endpoints (the test's only; the provider never sees them):
//   POST /__mode      JSON: the misbehaviour (replaces the previous one; {} is "behave")
//   POST /__accounts  JSON {"<sub>": {claims}}: merged into the account map
//   GET  /__stats     counts of discovery, JWKS, token and userinfo calls, the last
//                     authorization request's parameters, the last token request's client
//                     authentication, and whether userinfo got a bearer header
//
// The mode (every field optional):
//   idToken         one rewrite of the token response's id_token (see rewriteIdToken)
//   signWith        {"key": name, "kid": true|false|"other-kid"}: re-sign with that key
//   jwks            [key names]: the JWKS document served instead of the provider's own
//   emailInIdToken  false: the ID token carries no email (the RP must call userinfo)
//   userinfoSub     the sub userinfo answers
//   discoveryIssuer the issuer the discovery document names
//   discovery       object merged into the discovery document
//   authError       an error code sent back to the redirect_uri by the authorization endpoint
//   tokenDelayMs    the token endpoint answers after this long
//   authIss         the RFC 9207 iss parameter put on the authorization response instead
import { readFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';

import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.env.OP_PORT);
const cfg = JSON.parse(readFileSync(process.env.OP_CONFIG, 'utf8'));
const issuer = cfg.issuer;
const accounts = { ...(cfg.accounts || {}) };
let mode = {};
const stats = {
  discovery: 0, jwks: 0, token: 0, userinfo: 0, userinfoBearer: 0, authorize: 0,
  lastAuthorize: null, lastTokenAuth: null,
};

// Keys by name: the provider signs with "rsa1" (RS256) and "ec1" (ES256); any other name is
// made on first use (another RSA key, or an EC P-256 key when the name starts with "ec").
const keys = {};
async function key(name) {
  if (!keys[name]) {
    const alg = name.startsWith('ec') ? 'ES256' : 'RS256';
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
    const pub = await jose.exportJWK(publicKey);
    const priv = await jose.exportJWK(privateKey);
    keys[name] = {
      alg, privateKey, publicKey, kid: name,
      pub: { ...pub, kid: name, alg, use: 'sig' },
      priv: { ...priv, kid: name, alg, use: 'sig' },
    };
  }
  return keys[name];
}
await key('rsa1');
await key('ec1');

const b64u = (buf) => Buffer.from(buf).toString('base64url');

// Flips one byte in the middle of the signature: the JWS stays well-formed.
function corrupt(compact) {
  const [h, p, s] = compact.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[Math.floor(sig.length / 2)] ^= 0x5a;
  return `${h}.${p}.${b64u(sig)}`;
}

async function sign(payload, name, kid) {
  const k = await key(name);
  const header = { alg: k.alg, typ: 'JWT' };
  if (kid === true) header.kid = k.kid;
  else if (typeof kid === 'string') header.kid = kid;
  return new jose.SignJWT(payload).setProtectedHeader(header).sign(k.privateKey);
}

// One rewrite of the ID token, named by mode.idToken; the rest of the token response stays.
async function rewriteIdToken(idToken) {
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const how = mode.idToken;
  const p = { ...claims };
  let signer = mode.signWith || { key: 'rsa1', kid: true };
  switch (how) {
    case undefined: case null: break;
    case 'nonce': p.nonce = 'not-the-nonce-that-was-sent'; break;
    case 'aud': p.aud = 'some-other-client'; break;
    case 'aud-missing': delete p.aud; break;
    case 'azp': p.aud = [claims.aud, 'some-other-client']; p.azp = 'some-other-client'; break;
    case 'iss': p.iss = 'http://127.0.0.1:1/not-the-issuer'; break;
    case 'sub-missing': delete p.sub; break;
    case 'iat-missing': delete p.iat; break;
    case 'iat-future': p.iat = now + 3600; p.exp = now + 7200; break;
    case 'expired': p.iat = now - 400; p.exp = now - 300; break;
    case 'bad-sig-rs256': return corrupt(await sign(p, 'rsa1', true));
    case 'sig-es256': signer = { key: 'ec1', kid: true }; break;
    case 'bad-sig-es256': return corrupt(await sign(p, 'ec1', true));
    case 'es256-foreign-key': return sign(p, 'ec-stranger', 'ec1');
    case 'none': {
      const h = b64u(JSON.stringify({ alg: 'none', typ: 'JWT' }));
      return `${h}.${b64u(JSON.stringify(p))}.`;
    }
    case 'hs256-public-key': {
      // the classic confusion: HMAC keyed with the RSA public key as published (PEM)
      const pem = createPublicKey({ key: (await key('rsa1')).pub, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' });
      return new jose.SignJWT(p).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: 'rsa1' })
        .sign(new TextEncoder().encode(pem));
    }
    case 'hs256-client-secret': {
      const secret = cfg.clients.find((c) => c.client_id === claims.aud)?.client_secret || '';
      return new jose.SignJWT(p).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .sign(new TextEncoder().encode(secret));
    }
    case 'malformed': return 'not.a.jwt';
    default: throw new Error(`unknown idToken mode ${how}`);
  }
  return sign(p, signer.key, signer.kid === undefined ? true : signer.kid);
}

const provider = new Provider(issuer, {
  clients: cfg.clients.map((c) => ({
    grant_types: ['authorization_code'], response_types: ['code'], ...c,
  })),
  jwks: { keys: [keys.rsa1.priv, keys.ec1.priv] },
  pkce: { required: () => true, methods: ['S256'] },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: false },
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // scope claims go in the ID token too (the Okta default for the email scope)
  conformIdTokenClaims: false,
  cookies: { keys: ['tessera-itest-op-cookie-key'] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    async claims(use) {
      const known = accounts[sub] || (sub.includes('@') ? { email: sub } : {});
      const out = { sub, ...known };
      if (out.email && out.email_verified === undefined) out.email_verified = true;
      if (use === 'id_token' && mode.emailInIdToken === false) {
        delete out.email;
        delete out.email_verified;
      }
      if (use === 'userinfo' && mode.userinfoSub !== undefined) out.sub = mode.userinfoSub;
      return out;
    },
  }),
});
provider.proxy = false;

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

provider.use(async (ctx, next) => {
  const path = ctx.path;
  if (path === '/__mode' && ctx.method === 'POST') {
    mode = await readJson(ctx.req);
    ctx.body = { mode };
    return;
  }
  if (path === '/__accounts' && ctx.method === 'POST') {
    Object.assign(accounts, await readJson(ctx.req));
    ctx.body = { accounts: Object.keys(accounts).length };
    return;
  }
  if (path === '/__stats' && ctx.method === 'GET') {
    ctx.body = stats;
    return;
  }
  if (path === '/auth' && ctx.method === 'GET') {
    stats.authorize += 1;
    stats.lastAuthorize = { ...ctx.query };
    if (mode.authError) {
      const u = new URL(ctx.query.redirect_uri);
      u.searchParams.set('error', mode.authError);
      u.searchParams.set('error_description', 'the test provider refused');
      if (ctx.query.state) u.searchParams.set('state', ctx.query.state);
      u.searchParams.set('iss', issuer);
      ctx.redirect(u.href);
      return;
    }
  }
  if (path === '/token') {
    stats.token += 1;
    const authz = ctx.get('authorization');
    stats.lastTokenAuth = authz.startsWith('Basic ') ? 'client_secret_basic' : 'client_secret_post';
    if (mode.tokenDelayMs) await new Promise((r) => { setTimeout(r, mode.tokenDelayMs); });
  }
  if (path === '/me') {
    stats.userinfo += 1;
    if (ctx.get('authorization').startsWith('Bearer ')) stats.userinfoBearer += 1;
  }
  if (path === '/jwks') stats.jwks += 1;
  if (path === '/.well-known/openid-configuration') stats.discovery += 1;

  await next();

  if (path === '/token' && ctx.status === 200 && ctx.body && ctx.body.id_token
      && (mode.idToken || mode.signWith)) {
    ctx.body = { ...ctx.body, id_token: await rewriteIdToken(ctx.body.id_token) };
  }
  if (path === '/jwks' && ctx.status === 200 && mode.jwks) {
    const served = [];
    for (const n of mode.jwks) served.push((await key(n)).pub);
    ctx.body = { keys: served };
  }
  if (path === '/.well-known/openid-configuration' && ctx.status === 200) {
    const body = { ...ctx.body, ...(mode.discovery || {}) };
    if (mode.discoveryIssuer) body.issuer = mode.discoveryIssuer;
    ctx.body = body;
  }
  if (mode.authIss !== undefined && ctx.status >= 300 && ctx.status < 400) {
    const loc = ctx.response.get('location');
    if (loc && cfg.clients.some((c) => c.redirect_uris.some((r) => loc.startsWith(r)))) {
      const u = new URL(loc);
      if (mode.authIss === null) u.searchParams.delete('iss');
      else u.searchParams.set('iss', mode.authIss);
      ctx.response.set('location', u.href);
    }
  }
});

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => server.close(() => process.exit(0)));
