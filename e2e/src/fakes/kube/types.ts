// Shared shapes of the FAKE Kubernetes API server.

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    generateName?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
};

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Who made a request, as an authenticator found it (k8s.io/apiserver user.Info). */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
  /** Which authenticator said so (for the audit). */
  via?: 'x509' | 'bootstrap-token' | 'service-account' | 'entra' | 'static-token' | 'anonymous';
}

/** authorizer.Attributes of k8s.io/apiserver: what is asked, by whom. */
export interface RequestAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** Raw selectors of list/watch requests (the Node authorizer reads the field selector). */
  fieldSelector?: string;
  labelSelector?: string;
}

export type Decision = 'allow' | 'deny' | 'no-opinion';

export interface AuthzResult {
  decision: Decision;
  reason: string;
  /** Which authorizer decided (Node, RBAC, guard). */
  by?: string;
}

/** One line of the audit log: who asked what, and what the fake answered. */
export interface AuditEvent {
  at: string;
  user: string;
  groups: string[];
  via?: UserInfo['via'];
  verb: string;
  method: string;
  path: string;
  query: string;
  /** The client's User-Agent (the kubelet stand-in's starts with `kubelet/`). */
  userAgent: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  code: number;
  /** Authorization outcome (absent for unauthenticated or public requests). */
  authorization?: AuthzResult;
  /** Status message of an error answer. */
  message?: string;
}
