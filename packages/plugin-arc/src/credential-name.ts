import type { AzureContext } from '@flexnode/sdk';

/** The name of the credential a context uses, for messages (works for any AzureContext). */
export function credentialName(ctx: AzureContext): string {
  const describe = (ctx as { describeCredential?: () => string }).describeCredential;
  return typeof describe === 'function' ? describe.call(ctx) : 'the Azure credential';
}
