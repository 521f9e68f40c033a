#!/usr/bin/env node
// make-referrer-bundles.js: make the Sigstore bundles of tests/data/bundles
// with a real Sigstore client (sigstore-js), once. The results are committed
// so that test machines never need node or npm; run it again only to change
// the test data (the image digest, the keys and every bundle change with it).
//
//   tests/tools/tg-image write-image tests/data/bundles/image \
//       --content "tollgate referrer bundle test image"
//   mkdir /tmp/sjs && cd /tmp/sjs && npm init -y && \
//       npm install @sigstore/sign@4.1.1 @sigstore/bundle@4.0.0
//   NODE_PATH=/tmp/sjs/node_modules node tests/tools/make-referrer-bundles.js \
//       tests/data/bundles
//
// It reads DIR/image/manifest.json (its sha256 is the image digest), makes
// two ECDSA P-256 keys in memory ("release" and "stranger": only the public
// halves are written, to DIR/keys/), and signs with sigstore-js's
// DSSEBundleBuilder and MessageSignatureBundleBuilder through a key-based
// Signer and no witnesses (no Rekor, no timestamp authority: offline), as
// `cosign sign --key` and `cosign attest --key` with the new bundle format
// do when told not to upload to the transparency log.
//
// good/: verify with keys/release.pub for the image
//   sign.sigstore.json      DSSE, predicate https://sigstore.dev/cosign/sign/v1
//   message.sigstore.json   message signature over the image manifest
//   sbom.sigstore.json      DSSE, SPDX SBOM (one package, Apache-2.0)
//   vuln.sigstore.json      DSSE, cosign vuln/v1 Trivy scan (one HIGH CVE)
// untrusted/: each must be rejected for the image under keys/release.pub
//   other-digest.sigstore.json  sign/v1 for another image's digest
//   stranger.sigstore.json      sign/v1 signed by keys/stranger.pub
//   tampered.sigstore.json      sign.sigstore.json with its statement changed
//                               after signing
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const {DSSEBundleBuilder, MessageSignatureBundleBuilder} =
        require('@sigstore/sign');
const {bundleToJSON} = require('@sigstore/bundle');

const INTOTO = 'application/vnd.in-toto+json';
const SIGN_V1 = 'https://sigstore.dev/cosign/sign/v1';
const SPDX = 'https://spdx.dev/Document';
const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1';
const WHEN = '2026-01-01T00:00:00Z';
const NAME = 'tollgate.test/bundles/app';

function keySigner(pair) {
	const pem = pair.publicKey.export({type: 'spki', format: 'pem'});
	return {
		sign: async (data) => ({
			signature: crypto.sign('sha256', data, pair.privateKey),
			key: {$case: 'publicKey', publicKey: pem, hint: ''},
		}),
	};
}

function statement(hex, predicateType, predicate) {
	return Buffer.from(JSON.stringify({
		_type: 'https://in-toto.io/Statement/v1',
		subject: [{name: NAME, digest: {sha256: hex}}],
		predicateType,
		predicate,
	}));
}

async function dsse(pair, stmt) {
	const b = new DSSEBundleBuilder({signer: keySigner(pair), witnesses: []});
	return bundleToJSON(await b.create({data: stmt, type: INTOTO}));
}

async function message(pair, data) {
	const b = new MessageSignatureBundleBuilder(
	        {signer: keySigner(pair), witnesses: []});
	return bundleToJSON(await b.create({data}));
}

function write(dir, name, obj) {
	fs.mkdirSync(dir, {recursive: true});
	fs.writeFileSync(path.join(dir, name),
	                 JSON.stringify(obj, null, 2) + '\n');
}

const SBOM = {
	spdxVersion: 'SPDX-2.3',
	dataLicense: 'CC0-1.0',
	SPDXID: 'SPDXRef-DOCUMENT',
	name: NAME,
	creationInfo: {created: WHEN, creators: ['Tool: make-referrer-bundles']},
	packages: [{
		SPDXID: 'SPDXRef-openssl',
		name: 'openssl',
		versionInfo: '3.0.11',
		licenseConcluded: 'Apache-2.0',
	}],
};

const SCAN = {
	scanner: {
		uri: 'pkg:github/aquasecurity/trivy@0.45.0',
		version: '0.45.0',
		result: {
			SchemaVersion: 2,
			Results: [{
				Target: NAME,
				Vulnerabilities: [{
					VulnerabilityID: 'CVE-2023-0002',
					PkgName: 'openssl',
					Severity: 'HIGH',
				}],
			}],
		},
	},
	metadata: {scanStartedOn: WHEN, scanFinishedOn: WHEN},
};

async function main() {
	const dir = process.argv[2];
	const manifest = fs.readFileSync(path.join(dir, 'image', 'manifest.json'));
	const hex = crypto.createHash('sha256').update(manifest).digest('hex');
	const other = crypto.createHash('sha256').update('another image')
	                      .digest('hex');
	const release = crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'});
	const stranger = crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'});
	const keys = path.join(dir, 'keys');
	const good = path.join(dir, 'good');
	const bad = path.join(dir, 'untrusted');

	fs.mkdirSync(keys, {recursive: true});
	for (const [n, p] of [['release', release], ['stranger', stranger]])
		fs.writeFileSync(path.join(keys, n + '.pub'),
		                 p.publicKey.export({type: 'spki', format: 'pem'}));
	const sign = await dsse(release, statement(hex, SIGN_V1, {}));
	write(good, 'sign.sigstore.json', sign);
	write(good, 'message.sigstore.json', await message(release, manifest));
	write(good, 'sbom.sigstore.json',
	      await dsse(release, statement(hex, SPDX, SBOM)));
	write(good, 'vuln.sigstore.json',
	      await dsse(release, statement(hex, VULN, SCAN)));
	write(bad, 'other-digest.sigstore.json',
	      await dsse(release, statement(other, SIGN_V1, {})));
	write(bad, 'stranger.sigstore.json',
	      await dsse(stranger, statement(hex, SIGN_V1, {})));
	const tampered = JSON.parse(JSON.stringify(sign));
	tampered.dsseEnvelope.payload =
	        statement(hex, SIGN_V1, {tampered: true}).toString('base64');
	write(bad, 'tampered.sigstore.json', tampered);
	console.log('image sha256:' + hex);
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
