/**
 * The upstream README's example config ships placeholders ("your-subscription-id", "<tenant-id>"): `config
 * validate` and `plan` name them, a real bootstrap refuses them. The rule is the SDK's, shared with the plugins.
 */
export { findPlaceholders } from '@flexnode/sdk';
