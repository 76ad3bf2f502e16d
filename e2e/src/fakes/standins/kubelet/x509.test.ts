import { expect } from 'chai';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { int, newEcKey, selfSignedServingCert } from './x509.js';

describe('kubelet stand-in: DER encoding', () => {
  it('writes INTEGERs in their minimal form (X.690 8.3.2)', () => {
    const hex = (b: number[]) => int(Buffer.from(b)).toString('hex');
    expect(hex([0])).to.equal('020100');
    expect(hex([0, 0, 0])).to.equal('020100');
    expect(hex([0x12])).to.equal('020112');
    expect(hex([0, 0, 0x12, 0x34])).to.equal('02021234');
    expect(hex([0x80])).to.equal('02020080');
    expect(hex([0, 0, 0x80, 1])).to.equal('0203008001');
  });

  it('makes a serving certificate a TLS server loads, whatever its random serial starts with', () => {
    const k = newEcKey();
    // Serials with leading zero bytes and with the top bit set: each must still be a valid DER certificate.
    for (const head of [[0, 0x01], [0, 0, 0x7f], [0x80], [0, 0x80], [0x7f]]) {
      const serial = Buffer.concat([Buffer.from(head), Buffer.alloc(16 - head.length, 0x5a)]);
      const cert = selfSignedServingCert(k.privateKey, 'node-a@1700000000', ['node-a', '10.0.0.4'], 365, serial);
      expect(() => createSecureContext({ cert, key: k.keyPem }), `serial ${serial.toString('hex')}`).to.not.throw();
      const x509 = new X509Certificate(cert);
      expect(x509.serialNumber.replace(/^0+/, ''), 'the serial as issued').to.equal(serial.toString('hex').toUpperCase().replace(/^0+/, ''));
      expect(x509.subjectAltName).to.equal('DNS:node-a, IP Address:10.0.0.4');
    }
  });
});
