import { accessSync, constants } from 'node:fs';

/** The Arc agent's identity service binary: msal-node takes it as proof that Arc's endpoint is on this machine. */
export const HIMDS_EXECUTABLE = '/opt/azcmagent/bin/himds';

/**
 * Why @azure/identity's ManagedIdentityCredential would not ask the Arc agent for this machine's token, or
 * undefined when it would. msal-node (ManagedIdentityClient.getManagedIdentitySource) picks the first source
 * whose variables are set: Service Fabric and App Service (IDENTITY_ENDPOINT with IDENTITY_HEADER), Machine
 * Learning and Cloud Shell (MSI_ENDPOINT), then Azure Arc (IDENTITY_ENDPOINT and IMDS_ENDPOINT, or the himds
 * binary readable: AzureArc.getEnvironmentVariables), and otherwise the Azure VM instance metadata service at
 * 169.254.169.254. Outside Azure, which is where Arc machines are, that address is another cloud's metadata
 * service or nobody's: flexnode never sends it a request, so the node's token comes from Arc or not at all.
 * Read from this process's environment and the real filesystem, as msal-node reads them (never under --root).
 */
export function arcEndpointProblem(env: NodeJS.ProcessEnv = process.env, readable: (path: string) => boolean = isReadable): string | undefined {
  const other = [env.IDENTITY_ENDPOINT && env.IDENTITY_HEADER && 'IDENTITY_HEADER (with IDENTITY_ENDPOINT)', env.MSI_ENDPOINT && 'MSI_ENDPOINT'].filter(
    Boolean,
  );
  if (other.length > 0) {
    return `${other.join(' and ')} set in flexnode's environment: @azure/identity would ask an App Service, Service Fabric, Machine Learning or Cloud Shell endpoint instead of the Arc agent`;
  }
  if (env.IDENTITY_ENDPOINT && env.IMDS_ENDPOINT) return undefined;
  if (readable(HIMDS_EXECUTABLE)) return undefined;
  return `no Azure Connected Machine agent was found (IDENTITY_ENDPOINT and IMDS_ENDPOINT are not both set, and ${HIMDS_EXECUTABLE} is missing or this user may not read it); flexnode does not fall back to a cloud's instance metadata service at 169.254.169.254`;
}

function isReadable(path: string): boolean {
  try {
    accessSync(path, constants.F_OK | constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
