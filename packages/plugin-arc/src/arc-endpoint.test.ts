import { expect } from 'chai';
import { arcEndpointProblem, HIMDS_EXECUTABLE } from './arc-endpoint.js';

const ARC = { IDENTITY_ENDPOINT: 'http://127.0.0.1:40342/metadata/identity/oauth2/token', IMDS_ENDPOINT: 'http://127.0.0.1:40342' };
const none = () => false;

describe('arcEndpointProblem (where the node identity token would come from)', () => {
  it("is none when the Arc agent's variables are set, or its himds binary is readable (msal-node's two ways to find Arc)", () => {
    expect(arcEndpointProblem(ARC, none)).to.equal(undefined);
    const asked: string[] = [];
    expect(arcEndpointProblem({}, (path) => (asked.push(path), path === HIMDS_EXECUTABLE))).to.equal(undefined);
    expect(asked).to.deep.equal(['/opt/azcmagent/bin/himds']);
  });

  it('refuses when neither is there, where msal-node would ask the instance metadata service at 169.254.169.254', () => {
    expect(arcEndpointProblem({}, none)).to.match(/^no Azure Connected Machine agent was found .*169\.254\.169\.254$/);
    // One variable alone is not Arc for msal-node either.
    expect(arcEndpointProblem({ IDENTITY_ENDPOINT: ARC.IDENTITY_ENDPOINT }, none)).to.match(/not both set/);
    expect(arcEndpointProblem({ IMDS_ENDPOINT: ARC.IMDS_ENDPOINT }, none)).to.match(/not both set/);
  });

  it('refuses when a source msal-node ranks before Arc is configured, even with Arc there', () => {
    expect(arcEndpointProblem({ ...ARC, IDENTITY_HEADER: 'h' }, () => true)).to.match(/^IDENTITY_HEADER \(with IDENTITY_ENDPOINT\) set/);
    expect(arcEndpointProblem({ ...ARC, MSI_ENDPOINT: 'http://127.0.0.1:1' }, () => true)).to.match(/^MSI_ENDPOINT set/);
    // IDENTITY_HEADER without IDENTITY_ENDPOINT selects nothing in msal-node: the himds binary still decides.
    expect(arcEndpointProblem({ IDENTITY_HEADER: 'h' }, () => true)).to.equal(undefined);
  });
});
