// Generates testdata/sdjwt_vector.json with @sd-jwt/core 0.17.0 and @sd-jwt/crypto-nodejs
// 0.17.0 (the OpenWallet Foundation's TypeScript SD-JWT), an implementation independent of
// dpi's: an SD-JWT VC with object, nested and array-element disclosures and decoys,
// presented with some disclosures and a key binding JWT.
//
//   npm install @sd-jwt/core@0.17.0 @sd-jwt/crypto-nodejs@0.17.0
//   node sdjwt_vector.mjs > sdjwt_vector.json
import { SDJwtInstance } from '@sd-jwt/core';
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs';

const issuer = await ES256.generateKeyPair();
const holder = await ES256.generateKeyPair();
const iat = 1795000000;
const sdjwt = new SDJwtInstance({
  signer: await ES256.getSigner(issuer.privateKey),
  verifier: await ES256.getVerifier(issuer.publicKey),
  signAlg: ES256.alg,
  hasher: digest,
  hashAlg: 'sha-256',
  saltGenerator: generateSalt,
  kbSigner: await ES256.getSigner(holder.privateKey),
  kbSignAlg: ES256.alg,
  kbVerifier: await ES256.getVerifier(holder.publicKey),
});
const claims = {
  iss: 'https://issuer.example',
  vct: 'urn:eudi:pid:1',
  iat,
  exp: iat + 365 * 24 * 3600,
  cnf: { jwk: holder.publicKey },
  given_name: 'Amina',
  family_name: 'Diallo',
  birthdate: '1985-02-03',
  address: { locality: 'Dakar', country: 'SN' },
  nationalities: ['SN', 'FR'],
};
const frame = {
  _sd: ['given_name', 'family_name', 'birthdate', 'address'],
  _sd_decoy: 2,
  address: { _sd: ['locality'] },
  nationalities: { _sd: [1] },
};
const issued = await sdjwt.issue(claims, frame, { header: { typ: 'dc+sd-jwt', kid: 'issuer-1' } });
const presentation = await sdjwt.present(
  issued,
  { given_name: true, address: { locality: true }, nationalities: { 1: true } },
  { kb: { payload: { aud: 'https://verifier.example', nonce: 'n-4711', iat: iat + 60 } } },
);
const pub = { ...issuer.publicKey, kid: 'issuer-1', alg: 'ES256', use: 'sig' };
console.log(JSON.stringify({
  issuer_jwks: { keys: [pub] },
  presentation,
  audience: 'https://verifier.example',
  nonce: 'n-4711',
  now: iat + 90,
}, null, 2));
