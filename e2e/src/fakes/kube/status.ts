// `Status` errors as the API server writes them (k8s.io/apimachinery/pkg/api/errors: NewNotFound, NewAlreadyExists,
// NewConflict, NewInvalid, NewForbidden, NewUnauthorized, NewTooManyRequests, NewBadRequest, NewMethodNotSupported,
// NewGone). Message formats follow errors.go exactly, since clients (and flexnode) show them to users.

export interface StatusCause {
  type?: string;
  message?: string;
  field?: string;
  reason?: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** A Kubernetes API error: thrown by handlers, written as a Status by the server. */
export class KubeError extends Error {
  constructor(
    readonly status: StatusBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message);
  }
  get code(): number {
    return this.status.code;
  }
}

/** GroupResource as errors.go prints it: `leases.coordination.k8s.io`, `pods`. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

function status(code: number, reason: string, message: string, details?: StatusBody['details']): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export const errors = {
  notFound: (resource: string, group: string, name: string) =>
    new KubeError(status(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource })),
  pathNotFound: () => new KubeError(status(404, 'NotFound', 'the server could not find the requested resource')),
  alreadyExists: (resource: string, group: string, name: string) =>
    new KubeError(
      status(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, { name, ...(group ? { group } : {}), kind: resource }),
    ),
  conflict: (resource: string, group: string, name: string, why: string) =>
    new KubeError(
      status(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, {
        name,
        ...(group ? { group } : {}),
        kind: resource,
      }),
    ),
  staleUpdate: (resource: string, group: string, name: string) =>
    errors.conflict(resource, group, name, 'the object has been modified; please apply your changes to the latest version and try again'),
  /** kind is the object's Kind ("Pod"), group its API group. */
  invalid: (kind: string, group: string, name: string, causes: { field: string; type: string; detail: string; value?: unknown }[]) =>
    new KubeError(
      status(
        422,
        'Invalid',
        `${group ? `${kind}.${group}` : kind} "${name}" is invalid: ${causes.length === 1 ? fieldError(causes[0]!) : `[${causes.map(fieldError).join(', ')}]`}`,
        {
          name,
          ...(group ? { group } : {}),
          kind,
          causes: causes.map((c) => ({
            reason: CAUSE_REASONS[c.type] ?? 'FieldValueInvalid',
            message: fieldError({ ...c, field: '' }).replace(/^: /, ''),
            field: c.field,
          })),
        },
      ),
    ),
  forbidden: (resource: string, group: string, name: string, why: string) =>
    new KubeError(
      status(403, 'Forbidden', resource ? `${qualified(resource, group)}${name ? ` "${name}"` : ''} is forbidden: ${why}` : `forbidden: ${why}`, {
        ...(name ? { name } : {}),
        ...(group ? { group } : {}),
        ...(resource ? { kind: resource } : {}),
      }),
    ),
  unauthorized: (message = 'Unauthorized') => new KubeError(status(401, 'Unauthorized', message)),
  badRequest: (message: string) => new KubeError(status(400, 'BadRequest', message)),
  methodNotSupported: (resource: string, group: string, action: string) =>
    new KubeError(
      status(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualified(resource, group)}"`, {
        ...(group ? { group } : {}),
        kind: resource,
      }),
    ),
  unsupportedMediaType: (type: string) =>
    new KubeError(
      status(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (fake: not ${type})`,
      ),
    ),
  tooManyRequests: (message: string, retryAfterSeconds: number, causes: StatusCause[] = []) =>
    new KubeError(
      status(429, 'TooManyRequests', message, { retryAfterSeconds, ...(causes.length ? { causes } : {}) }),
      retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : {},
    ),
  gone: (message: string) => new KubeError(status(410, 'Expired', message)),
  internal: (message: string, code = 500) => new KubeError(status(code, 'InternalError', message)),
  timeout: (message: string, retryAfterSeconds: number) => new KubeError(status(504, 'Timeout', message, { retryAfterSeconds })),
};

/** field.ErrorType -> metav1.CauseType (k8s.io/apimachinery/pkg/util/validation/field/errors.go). */
const CAUSE_REASONS: Record<string, string> = {
  'Required value': 'FieldValueRequired',
  'Invalid value': 'FieldValueInvalid',
  Forbidden: 'FieldValueForbidden',
  'Unsupported value': 'FieldValueNotSupported',
  'Duplicate value': 'FieldValueDuplicate',
  'Too long': 'FieldValueTooLong',
};

function fieldError(c: { field: string; type: string; detail: string; value?: unknown }): string {
  const value = c.value === undefined ? '' : `: ${typeof c.value === 'string' ? JSON.stringify(c.value) : JSON.stringify(c.value)}`;
  return `${c.field}: ${c.type}${value}${c.detail ? `: ${c.detail}` : ''}`;
}

/** The Status of a successful delete of a resource that does not return the deleted object. */
export function deletedStatus(resource: string, group: string, name: string, uid?: string): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, ...(group ? { group } : {}), kind: resource, ...(uid ? { uid } : {}) },
  };
}
