/**
 * Names of environment variables that hold credentials: the Azure SDK's and CLI's (AZURE_CLIENT_SECRET,
 * AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_FEDERATED_TOKEN_FILE, ...), Terraform's ARM_*, managed identity
 * headers, and anything named like a secret, password, token or key. A child process gets none of them unless
 * its caller passes the one it needs explicitly.
 */
const CREDENTIAL =
  /(^|_)(SECRET|PASSWORD|PASSWD|PASS|TOKEN|CREDENTIALS?|API_?KEY|ACCESS_KEY|PRIVATE_KEY|AUTH)(_|$)|^(AZURE_CLIENT_CERTIFICATE_PATH|IDENTITY_HEADER|NPM_CONFIG__AUTH.*)$/i;

/** Whether a variable of this name is a credential a child must not inherit. */
export function isCredentialVariable(name: string): boolean {
  return CREDENTIAL.test(name);
}

/**
 * The environment of a child process: this process's, minus every credential variable, plus `extra` (what the
 * child needs, given explicitly by its caller). Proxy variables are kept: downloads by apt and others need them.
 */
export function childEnvironment(extra: Readonly<Record<string, string>> = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) if (value !== undefined && !isCredentialVariable(name)) env[name] = value;
  return { ...env, ...extra };
}
