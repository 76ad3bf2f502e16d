import { expect } from 'chai';
import { readKubeconfig, renderKubeconfig } from './kubeconfig.js';

const identity = {
  getToken: async () => ({ token: 't', expiresOnTimestamp: 0 }),
  principalId: async () => undefined,
  execCredential: () => ({ command: 'flexnode', args: ['token'] }),
};
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('kubeconfig (kube.cluster-credentials)', () => {
  it('reads back the server and CA it rendered, for each text it is given', async () => {
    const a = await renderKubeconfig('aks-1', 'https://a.example:443', CA, identity);
    const b = await renderKubeconfig('aks-1', 'https://b.example:443', CA, identity);
    expect(await readKubeconfig(a)).to.deep.equal({ server: 'https://a.example:443', caPem: CA });
    expect(await readKubeconfig(b)).to.deep.equal({ server: 'https://b.example:443', caPem: CA });
    expect(await readKubeconfig('not: [a kubeconfig')).to.equal(undefined);
  });
});
