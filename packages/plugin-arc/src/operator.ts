import { FlexnodeError, isFlexnodeError, type AzureContext } from '@flexnode/sdk';
import { credentialName } from './credential-name.js';

/** The failures that mean "there is no operator credential here" (as opposed to Azure refusing one). */
const ABSENT = new Set(['AZURE_NO_CREDENTIAL', 'AZURE_NO_CLIENT_SECRET', 'AZURE_SECRET_FILE', 'AZURE_SECRET_FILE_PERMISSIONS', 'AZURE_CREDENTIAL_UNAVAILABLE']);

export const OPERATOR_REQUIRED = 'AZURE_OPERATOR_CREDENTIAL_REQUIRED';

/**
 * The operator's credential is for changes only: connecting the machine, assigning roles, and undoing both. This
 * asks it for an ARM token before such a change and, when there is none, fails with what needed it: a node whose
 * bootstrap secret was removed after the join learns at once why unbootstrap stops (no device-code prompt in a
 * non-interactive run: the credential itself refuses that).
 */
export async function operatorToken(ctx: AzureContext, purpose: string): Promise<string> {
  try {
    const token = await ctx.credential.getToken(ctx.armScope);
    if (!token?.token) throw new FlexnodeError('AZURE_NO_TOKEN', 'the Azure credential returned no token for Azure Resource Manager');
    return token.token;
  } catch (error) {
    if (isFlexnodeError(error) && ABSENT.has(error.code)) {
      throw new FlexnodeError(
        OPERATOR_REQUIRED,
        `${purpose} needs the operator's Azure credential, and ${credentialName(ctx)} is not available: ${error.message}`,
        {
          hint: `${error.hint ? `${error.hint}. ` : ''}Only connecting, assigning roles and unbootstrap need it: status, doctor and the agent's checks do not`,
          cause: error,
        },
      );
    }
    throw error;
  }
}

export const isOperatorMissing = (error: unknown): error is FlexnodeError => isFlexnodeError(error) && error.code === OPERATOR_REQUIRED;
